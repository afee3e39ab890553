"""Backups: the database, the library's attachments and the federation keys in one archive.

An archive is a ``.tar.gz`` holding

- ``database.sqlite`` (SQLite's online backup API: a consistent copy while the site runs) or
  ``database.pgdump`` (``pg_dump --format=custom``, taken in an exported snapshot so that the
  row counts of the manifest are those of the dump);
- ``attachments/…``, the blob store as it is on disk (``ab/cd/<sha256>``);
- ``federation-keys/…``, the private key files (mode 0600, and 0600 again when restored);
- ``manifest.json``: format version, created_at, database kind, alembic revision, the row
  count of every table, and the size and SHA-256 of every other member.

**Restore** first extracts the archive to a temporary folder and checks everything there: a
member missing, extra or different from its checksum, an archive of another database kind, or
one written by newer code (an alembic revision this code does not know) stops it before
anything is touched. It then replaces the database (SQLite: the backup API again, into the
live file; PostgreSQL: ``pg_restore --clean --if-exists --single-transaction``), copies the
files back (files that are not in the archive stay: blobs are content-addressed, keys are
never deleted), upgrades the schema if the archive is older, and sends ``backup_restored``:
federation changes this instance's epoch there, so peers resync fully (the restored feed
starts again from older sequence numbers). The command commits once, at the end.

Stop the web server and the scheduled jobs while restoring (docs/operations.md).
"""

import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from blinker import Namespace
from flask import current_app
from flask_migrate import upgrade

from sharing.db import utcnow
from sharing.extensions import db
from sharing.library.files import attachments_dir

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite"
PGDUMP_MEMBER = "database.pgdump"
ATTACHMENTS = "attachments"
KEYS = "federation-keys"

_signals = Namespace()
# Sent (sender: the application) once a restored database is in place, before the commit.
backup_restored = _signals.signal("backup-restored")


class BackupError(Exception):
    """A backup or restore that cannot go on; nothing was changed when restore raises it."""


@dataclass
class Manifest:
    created_at: str
    database: str
    alembic_revision: str | None
    counts: dict[str, int]
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    format: int = FORMAT_VERSION

    def to_json(self) -> bytes:
        return json.dumps(vars(self), indent=2, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> "Manifest":
        try:
            data = json.loads(raw)
            if data.get("format") != FORMAT_VERSION:
                raise BackupError(f"unknown archive format {data.get('format')!r}")
            return cls(
                created_at=str(data["created_at"]),
                database=str(data["database"]),
                alembic_revision=data["alembic_revision"],
                counts={str(k): int(v) for k, v in data["counts"].items()},
                files=dict(data["files"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise BackupError(f"the manifest is unreadable: {error}") from None


# Where things are -------------------------------------------------------------------------


def key_dir() -> Path:
    """The folder of the federation's private key files (``FEDERATION_KEY_DIR``); defined
    here, where backups need it, since ``sharing`` does not import ``federation``."""
    configured = current_app.config.get("FEDERATION_KEY_DIR")
    return Path(configured or os.path.join(current_app.instance_path, "federation"))


def default_output() -> Path:
    folder = current_app.config.get("BACKUP_DIR") or os.path.join(
        current_app.instance_path, "backups"
    )
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    return Path(folder) / f"sharing-{stamp}.tar.gz"


def pg_tool(name: str) -> str:
    """``pg_dump`` or ``pg_restore``: PG_BIN_DIR, else PATH, else the newest
    /usr/lib/postgresql/<major>/bin (Debian installs them there)."""
    configured = current_app.config.get("PG_BIN_DIR")
    candidates = [Path(configured) / name] if configured else []
    found = shutil.which(name)
    if found:
        candidates.append(Path(found))
    versions = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
        key=lambda p: [int(x) for x in re.findall(r"\d+", p.parent.parent.name)] or [0],
        reverse=True,
    )
    candidates.extend(versions)
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise BackupError(f"{name} not found (install postgresql-client or set PG_BIN_DIR)")


# Migrations -------------------------------------------------------------------------------


def _script_directory() -> ScriptDirectory:
    migrate = current_app.extensions["migrate"]
    return ScriptDirectory.from_config(migrate.migrate.get_config(migrate.directory))


def code_head() -> str:
    return ",".join(sorted(_script_directory().get_heads()))


def _known_revisions() -> set[str]:
    return {script.revision for script in _script_directory().walk_revisions()}


def _revision_of(execute: Callable[[str], Any]) -> str | None:
    """The alembic revision, read with a DB-API or SQLAlchemy connection's ``execute``."""
    try:
        rows = execute("SELECT version_num FROM alembic_version").fetchall()
    except (sqlite3.Error, sa.exc.SQLAlchemyError):
        return None
    return ",".join(sorted(str(row[0]) for row in rows)) or None


def _counts(execute: Callable[[str], Any], tables: Iterable[str]) -> dict[str, int]:
    """Rows per table, read with a DB-API or SQLAlchemy connection's ``execute``."""
    return {name: int(execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]) for name in tables}


def _tables() -> list[str]:
    return [table.name for table in db.metadata.sorted_tables]


# Create -----------------------------------------------------------------------------------


def create_backup(output: Path | None = None) -> tuple[Path, Manifest]:
    """Write an archive of the database, attachments and keys; returns its path."""
    output = Path(output) if output else default_output()
    output.parent.mkdir(parents=True, exist_ok=True)
    kind = db.engine.dialect.name
    with tempfile.TemporaryDirectory(prefix="sharing-backup-") as tmp:
        if kind == "sqlite":
            member = SQLITE_MEMBER
            revision, counts = _dump_sqlite(Path(tmp) / member)
        elif kind == "postgresql":
            member = PGDUMP_MEMBER
            revision, counts = _dump_postgresql(Path(tmp) / member)
        else:
            raise BackupError(f"cannot back up a {kind} database")
        manifest = Manifest(
            created_at=utcnow().isoformat(timespec="seconds"),
            database=kind,
            alembic_revision=revision,
            counts=counts,
        )
        files = [(member, Path(tmp) / member)]
        files += _tree(attachments_dir(), ATTACHMENTS)
        files += _tree(key_dir(), KEYS)
        _write_archive(output, files, manifest)
    return output, manifest


def _tree(folder: Path, prefix: str) -> list[tuple[str, Path]]:
    """Every regular file under ``folder`` (hidden ones, temporary uploads, left out)."""
    if not folder.is_dir():
        return []
    return [
        (f"{prefix}/{path.relative_to(folder).as_posix()}", path)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
        and not path.is_symlink()
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    ]


def _dump_sqlite(target: Path) -> tuple[str | None, dict[str, int]]:
    raw = db.engine.raw_connection()
    try:
        destination = sqlite3.connect(target)
        try:
            raw.driver_connection.backup(destination)  # type: ignore[union-attr]
            destination.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
            revision = _revision_of(destination.execute)
            counts = _counts(destination.execute, _tables())
        finally:
            destination.close()
    finally:
        raw.close()
    return revision, counts


def _pg_environment() -> dict[str, str]:
    """libpq's variables for the application's database (no password on a command line)."""
    url = db.engine.url
    env = dict(os.environ)
    for variable, value in (
        ("PGHOST", url.host or url.query.get("host")),
        ("PGPORT", url.port),
        ("PGUSER", url.username),
        ("PGPASSWORD", url.password),
        ("PGDATABASE", url.database),
        ("PGSSLMODE", url.query.get("sslmode")),
    ):
        if value:
            env[variable] = str(value if not isinstance(value, tuple) else value[0])
    return env


def _run(command: list[str]) -> None:
    result = subprocess.run(
        command, env=_pg_environment(), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {result.stderr.strip()[-2000:]}")


def _dump_postgresql(target: Path) -> tuple[str | None, dict[str, int]]:
    """pg_dump in a snapshot we export, in which we also read the counts and the revision."""
    with db.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot = conn.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
            revision = _revision_of(conn.exec_driver_sql)
            counts = _counts(conn.exec_driver_sql, _tables())
            _run(
                [
                    pg_tool("pg_dump"),
                    "--format=custom",
                    f"--snapshot={snapshot}",
                    f"--file={target}",
                ]
            )
    return revision, counts


class _HashingReader(io.RawIOBase):
    """Reads a file for tarfile and hashes what went through."""

    def __init__(self, handle: IO[bytes]):
        self.handle = handle
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self.handle.read(size)
        self.digest.update(chunk)
        return chunk


def _write_archive(output: Path, files: list[tuple[str, Path]], manifest: Manifest) -> None:
    """Stream the files into a temporary archive next to ``output`` (0600: it holds the
    private key), with the manifest last, then rename it into place."""
    fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=".backup-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            with tarfile.open(fileobj=handle, mode="w:gz") as tar:
                for name, path in files:
                    info = tar.gettarinfo(str(path), arcname=name)
                    info.uid = info.gid = 0
                    info.uname = info.gname = ""
                    with path.open("rb") as source:
                        reader = _HashingReader(source)
                        tar.addfile(info, reader)
                    manifest.files[name] = {
                        "sha256": reader.digest.hexdigest(),
                        "size": info.size,
                    }
                raw = manifest.to_json()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mode = len(raw), 0o600
                info.mtime = int(datetime.now(UTC).timestamp())
                tar.addfile(info, io.BytesIO(raw))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# Restore ----------------------------------------------------------------------------------


@dataclass
class Archive:
    """An archive extracted to a temporary folder and checked against its manifest."""

    root: Path
    manifest: Manifest

    @property
    def database_file(self) -> Path:
        member = SQLITE_MEMBER if self.manifest.database == "sqlite" else PGDUMP_MEMBER
        return self.root / member


@contextmanager
def open_archive(path: Path) -> Iterator[Archive]:
    """Extract and verify an archive; BackupError if it is damaged or incomplete."""
    with tempfile.TemporaryDirectory(prefix="sharing-restore-") as tmp:
        root = Path(tmp)
        try:
            with tarfile.open(path, mode="r:gz") as tar:
                tar.extractall(root, filter="data")
        except (OSError, EOFError, tarfile.TarError) as error:
            raise BackupError(f"the archive is unreadable: {error}") from None
        manifest_path = root / MANIFEST
        if not manifest_path.is_file():
            raise BackupError("the archive has no manifest")
        manifest = Manifest.from_json(manifest_path.read_bytes())
        _verify_members(root, manifest)
        yield Archive(root, manifest)


def _verify_members(root: Path, manifest: Manifest) -> None:
    present = {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()} - {
        MANIFEST
    }
    expected = set(manifest.files)
    if present != expected:
        missing, extra = sorted(expected - present), sorted(present - expected)
        raise BackupError(
            f"the archive does not match its manifest: missing {missing}, unexpected {extra}"
        )
    for name, entry in manifest.files.items():
        path = root / name
        if _sha256(path) != entry.get("sha256") or path.stat().st_size != entry.get("size"):
            raise BackupError(f"{name} is damaged (its checksum differs from the manifest)")
    member = SQLITE_MEMBER if manifest.database == "sqlite" else PGDUMP_MEMBER
    if member not in expected:
        raise BackupError(f"the archive has no {member}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def check_restorable(archive: Archive) -> None:
    """Refuse what this code and database cannot take, before anything is changed."""
    manifest = archive.manifest
    kind = db.engine.dialect.name
    if manifest.database != kind:
        raise BackupError(
            f"the archive holds a {manifest.database} database, this instance uses {kind}"
        )
    revisions = set((manifest.alembic_revision or "").split(",")) - {""}
    unknown = revisions - _known_revisions()
    if unknown:
        raise BackupError(
            f"the archive comes from newer code (migration {', '.join(sorted(unknown))} is "
            f"unknown here, head is {code_head()}): upgrade the code first"
        )
    # pg_restore --clean drops what the dump holds, not the tables of later migrations.
    current = _current_revision()
    if kind == "postgresql" and manifest.alembic_revision != current and _postgresql_has_tables():
        raise BackupError(
            f"the archive's schema (revision {manifest.alembic_revision}) differs from this "
            f"database's ({current}): restore it into an empty database, then upgrade"
        )


def _current_revision() -> str | None:
    with db.engine.connect() as conn:
        return _revision_of(conn.exec_driver_sql)


def _postgresql_has_tables() -> bool:
    with db.engine.connect() as conn:
        return bool(
            conn.execute(
                sa.text("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()")
            ).scalar_one()
        )


@dataclass
class RestoreReport:
    manifest: Manifest
    upgraded_from: str | None
    files: int


def restore_backup(path: Path) -> RestoreReport:
    """Replace the database and files with an archive's; the caller commits (the database
    itself is replaced at once, the epoch change and upgrade are in the session)."""
    with open_archive(path) as archive:
        check_restorable(archive)
        db.session.remove()
        db.engine.dispose()  # no pooled connection may hold the old database
        if archive.manifest.database == "sqlite":
            _restore_sqlite(archive.database_file)
        else:
            _restore_postgresql(archive.database_file)
        copied = _copy_tree(archive.root / ATTACHMENTS, attachments_dir(), private=False)
        copied += _copy_tree(archive.root / KEYS, key_dir(), private=True)
        head = code_head()
        upgraded_from = None
        if archive.manifest.alembic_revision != head:
            upgraded_from = archive.manifest.alembic_revision
            upgrade(directory=current_app.extensions["migrate"].directory)
        else:
            _check_counts(archive.manifest)
        backup_restored.send(current_app._get_current_object())  # type: ignore[attr-defined]
        db.session.flush()
        return RestoreReport(archive.manifest, upgraded_from, copied)


def _restore_sqlite(source_file: Path) -> None:
    source = sqlite3.connect(source_file)
    raw = db.engine.raw_connection()
    try:
        source.backup(raw.driver_connection)  # type: ignore[arg-type]
    except sqlite3.Error as error:
        raise BackupError(f"SQLite refused the restore: {error}") from None
    finally:
        raw.close()
        source.close()


def _restore_postgresql(dump: Path) -> None:
    _run(
        [
            pg_tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={db.engine.url.database}",
            str(dump),
        ]
    )


def _copy_tree(source: Path, target: Path, *, private: bool) -> int:
    """Put every file of ``source`` at the same place under ``target``, atomically each."""
    if not source.is_dir():
        return 0
    count = 0
    target.mkdir(mode=0o700 if private else 0o755, parents=True, exist_ok=True)
    if private:
        os.chmod(target, 0o700)
    for path in sorted(source.rglob("*")):
        if not path.is_file():
            continue
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=destination.parent, prefix=".restore-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle, path.open("rb") as original:
                shutil.copyfileobj(original, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, stat.S_IRUSR | stat.S_IWUSR if private else 0o644)
            os.replace(tmp, destination)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        count += 1
    return count


def _check_counts(manifest: Manifest) -> None:
    with db.engine.connect() as conn:
        restored = _counts(conn.exec_driver_sql, manifest.counts)
    for name, expected in manifest.counts.items():
        if restored[name] != expected:
            raise BackupError(f"{name}: {restored[name]} rows restored, the archive had {expected}")

"""Backups: an archive of the database, attachments and keys, restored after the data is
gone, gives back the same rows and bytes, a new federation epoch, and refuses an archive that
is damaged or from newer code without changing anything. On the test database of the run
(SQLite, or PostgreSQL with TEST_DATABASE_URL)."""

import io
import json
import stat
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from federation.models import Instance
from sharing import backup
from sharing.extensions import db
from sharing.library.models import Attachment, Document
from sharing.loans.models import Booking
from sharing.regies.models import Regie
from tests import database
from tests.loans.helpers import Parties, book, soon

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def folders(app: Flask, tmp_path: Path) -> Iterator[dict[str, Path]]:
    """Attachments and keys in folders of this test; the instance identity forgotten after."""
    saved = {name: app.config.get(name) for name in ("ATTACHMENTS_DIR", "FEDERATION_KEY_DIR")}
    paths = {"attachments": tmp_path / "attachments", "keys": tmp_path / "keys"}
    app.config["ATTACHMENTS_DIR"] = str(paths["attachments"])
    app.config["FEDERATION_KEY_DIR"] = str(paths["keys"])
    yield paths
    app.config.update(saved)
    app.config["INSTANCE_ID"] = None
    app.extensions["federation"].next_identity_check = 0.0


def cli(app: Flask, *args: str) -> Any:
    result = app.test_cli_runner().invoke(args=list(args))
    return result


def counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        db.session.remove()
        return {
            table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table)) or 0
            for table in db.metadata.sorted_tables
        }


def wipe(app: Flask) -> None:
    """Every row gone, as after an accident (the tables stay)."""
    database.empty(app)


def epoch(app: Flask) -> uuid.UUID:
    with app.app_context():
        db.session.remove()
        return db.session.scalars(sa.select(Instance.epoch)).one()


@pytest.fixture
def populated(app: Flask, client, make, folders) -> dict[str, Any]:
    """A régie network in miniature: an identity, people, a resource and its bookings, a
    document with an attachment."""
    result = cli(app, "federation", "init", "--url", "https://a.example.org", "--name", "A")
    assert result.exit_code == 0, result.output
    parties = Parties(make)
    resource = make.resource(parties.lender)
    book(client, parties, resource, "approved", soon(2))
    book(client, parties, resource, "requested", soon(4))
    headers = parties["lender_manager"]
    created = client.post(
        "/api/v1/documents",
        json={
            "title": "Zéro phyto : le désherbage alternatif",
            "summary": "Les gestes et les outils.",
            "body": "Binette et couteau à désherber.",
            "themes": ["espaces-verts"],
            "type": "fiche-pratique",
        },
        headers=headers,
    )
    assert created.status_code == 201, created.json
    uploaded = client.post(
        f"/api/v1/documents/{created.json['id']}/attachments",
        data={"file": (io.BytesIO(PDF), "fiche.pdf", "application/pdf")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 201, uploaded.json
    return {"document_id": uuid.UUID(created.json["id"]), "regie_id": resource.regie_id}


def test_create_wipe_restore_gives_back_rows_files_and_a_new_epoch(
    app, populated, folders, tmp_path
):
    before = counts(app)
    old_epoch = epoch(app)
    with app.app_context():
        document = db.session.get(Document, populated["document_id"])
        attachment = db.session.scalars(sa.select(Attachment)).one()
        title, sha256 = document.title, attachment.sha256
        regie_name = db.session.get(Regie, populated["regie_id"]).name
        statuses = sorted(str(b.status) for b in db.session.scalars(sa.select(Booking)))
    blob = next(p for p in folders["attachments"].rglob(sha256))
    key_files = sorted(p.name for p in folders["keys"].glob("*.pem"))
    archive = tmp_path / "out" / "backup.tar.gz"

    result = cli(app, "backup", "create", "--output", str(archive))
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith(str(archive))
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600  # it holds the private key

    wipe(app)
    for path in (*folders["attachments"].rglob("*"), *folders["keys"].glob("*")):
        if path.is_file():
            path.unlink()
    assert counts(app)["bookings"] == 0

    result = cli(app, "backup", "restore", str(archive), "--yes")
    assert result.exit_code == 0, result.output
    assert "epoch" in result.output

    assert counts(app) == before
    with app.app_context():
        assert db.session.get(Document, populated["document_id"]).title == title
        assert db.session.get(Regie, populated["regie_id"]).name == regie_name
        assert sorted(str(b.status) for b in db.session.scalars(sa.select(Booking))) == statuses
    assert blob.read_bytes() == PDF
    assert sorted(p.name for p in folders["keys"].glob("*.pem")) == key_files
    for key in folders["keys"].glob("*.pem"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert epoch(app) != old_epoch


def test_the_manifest_describes_the_archive(app, populated, tmp_path):
    archive = tmp_path / "backup.tar.gz"
    assert cli(app, "backup", "create", "--output", str(archive)).exit_code == 0

    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
        names = set(tar.getnames())
    with app.app_context():
        kind = db.engine.dialect.name
        head = backup.code_head()
    assert manifest["format"] == 1
    assert manifest["database"] == kind
    assert manifest["alembic_revision"] == head
    assert manifest["counts"]["bookings"] == 2
    assert manifest["counts"]["attachments"] == 1
    assert names == set(manifest["files"]) | {"manifest.json"}
    assert any(name.startswith("attachments/") for name in names)
    assert any(name.startswith("federation-keys/") for name in names)


def rewrite(archive: Path, target: Path, change: Any) -> None:
    """Copy an archive, letting ``change(name, data) -> data`` alter its members."""
    with tarfile.open(archive) as source, tarfile.open(target, "w:gz") as out:
        for member in source.getmembers():
            data = source.extractfile(member).read()  # type: ignore[union-attr]
            data = change(member.name, data)
            member.size = len(data)
            out.addfile(member, io.BytesIO(data))


def refused_without_change(app: Flask, archive: Path, reason: str) -> None:
    before, old_epoch = counts(app), epoch(app)
    result = cli(app, "backup", "restore", str(archive), "--yes")
    assert result.exit_code != 0
    assert reason in result.output
    assert counts(app) == before
    assert epoch(app) == old_epoch


def test_a_damaged_member_is_refused_and_changes_nothing(app, make, populated, tmp_path):
    archive, damaged = tmp_path / "good.tar.gz", tmp_path / "damaged.tar.gz"
    assert cli(app, "backup", "create", "--output", str(archive)).exit_code == 0

    def flip(name: str, data: bytes) -> bytes:
        if name.startswith("database."):
            return data[:-100] + bytes(b ^ 0xFF for b in data[-100:])
        return data

    rewrite(archive, damaged, flip)
    make.regie()  # a restore that went ahead would remove it
    refused_without_change(app, damaged, "damaged")


def test_a_truncated_archive_is_refused_and_changes_nothing(app, make, populated, tmp_path):
    archive, truncated = tmp_path / "good.tar.gz", tmp_path / "truncated.tar.gz"
    assert cli(app, "backup", "create", "--output", str(archive)).exit_code == 0
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    make.regie()

    refused_without_change(app, truncated, "unreadable")


def test_an_archive_from_newer_code_is_refused(app, make, populated, tmp_path):
    archive, newer = tmp_path / "good.tar.gz", tmp_path / "newer.tar.gz"
    assert cli(app, "backup", "create", "--output", str(archive)).exit_code == 0

    def future(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["alembic_revision"] = "f00dfacecafe"
        return json.dumps(manifest).encode()

    rewrite(archive, newer, future)
    make.regie()
    refused_without_change(app, newer, "newer code")


def test_restore_asks_for_confirmation(app, populated, tmp_path):
    archive = tmp_path / "good.tar.gz"
    assert cli(app, "backup", "create", "--output", str(archive)).exit_code == 0
    before, old_epoch = counts(app), epoch(app)

    result = app.test_cli_runner().invoke(args=["backup", "restore", str(archive)], input="n\n")

    assert result.exit_code != 0
    assert counts(app) == before
    assert epoch(app) == old_epoch

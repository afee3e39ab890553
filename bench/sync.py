"""The federation sync figures of issue 6: two instances over loopback HTTP.

For each generated network (bench/dataset.py, its change feed filled like migration
63d505ba8f01 does) the harness makes it an **origin**: ``flask federation init`` with the URL it
will be served at, then gunicorn as for every other figure (2 sync workers on 127.0.0.1). A
**replica** is a fresh migrated database of the same kind with its own identity and key folder,
served in-process by werkzeug just long enough for the two to pair by hand as the README says
(``flask federation peers add URL --fingerprint F`` on both sides). That paired, empty replica
is the template every measure starts from (a file copy on SQLite, ``CREATE DATABASE …
TEMPLATE`` on PostgreSQL).

Every measure runs in its own process (``python -m bench.sync worker SPEC``), which builds the
replica's application as ``flask`` would and then times ``federation.sync.sync_peers``, the
function behind ``flask federation sync``, in-process: the command's own work, without the
interpreter's start and the application's imports. Its peak RSS (``VmHWM``) is the whole
process's: interpreter, application and sync.

- ``sync_backfill_rps``: records of the whole feed ÷ seconds of a first sync of an empty
  replica. Baseline, in the same run (order alternating): the raw pipeline, the same signed
  pages (``FEDERATION_PAGE_SIZE`` a page) pulled over one keep-alive connection, each written
  with one ``executemany`` into a plain table and committed. ``sync_ratio`` = sync ÷ raw.
- ``sync_rss_mb`` at the base network and at its ×10, ``sync_rss_growth`` their ratio;
  baseline: the raw pipeline's process (the same imports, one page at a time).
- ``sync_incremental_ms``: one resource edited at the origin through its API (PATCH as its
  régie's manager), then one sync of an up-to-date replica in a fresh process (a cron job's
  ``flask federation sync``); baseline: the raw pipeline pulling that one-change page.
  ``sync_incremental_growth``: at 10 × the records ÷ at 1 ×.

    python -m bench.run --only sync [--quick] [--databases sqlite]
"""

from __future__ import annotations

import gc
import http.client
import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import sqlalchemy as sa

from bench import dataset
from bench.run import DATA, ROOT, Figure, Mode, ServerConfig, Target, free_port, serve

CHANGES_PATH = "/federation/v1/changes"
MIGRATIONS = str(ROOT / "migrations")

# The raw pipeline's plain table: what a change is, without a rule.
raw_metadata = sa.MetaData()
raw_changes = sa.Table(
    "bench_sync_raw",
    raw_metadata,
    sa.Column("record_type", sa.String(20), nullable=False),
    sa.Column("record_id", sa.String(36), nullable=False),
    sa.Column("op", sa.String(10), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("data", sa.Text),
)


# --- Instances ----------------------------------------------------------------------------------


def instance_app(url: str, key_dir: Path, base_url: str) -> Any:
    """One instance's application, as ``flask`` would build it on ``url``."""
    from sharing import create_app

    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        url = f"sqlite:///{Path(parsed.database).resolve()}"
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-sync",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "INSTANCE_URL": base_url,
            "FEDERATION_KEY_DIR": str(key_dir),
        }
    )


def cli(app: Any, *args: str) -> str:
    """Run a ``flask`` command on ``app``; its output (RuntimeError when it fails)."""
    result = app.test_cli_runner().invoke(args=list(args))
    if result.exit_code != 0:
        raise RuntimeError(f"flask {' '.join(args)}: {result.output}{result.exception or ''}")
    return str(result.output)


def fingerprint_of(output: str) -> str:
    return output.split("fingerprint: ")[1].split()[0]


def dispose(app: Any) -> None:
    from sharing.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def existing_identity(app: Any) -> str | None:
    """The base URL of the identity a kept database already has (``--reuse``)."""
    from federation import services

    with app.app_context():
        identity = services.get_identity()
        return identity.url if identity else None


@contextmanager
def _quiet() -> Iterator[None]:
    """No INFO logs (alembic's migrations, werkzeug's requests) inside the block."""
    logging.disable(logging.INFO)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


@contextmanager
def served_in_thread(app: Any, port: int) -> Iterator[None]:
    """werkzeug serving ``app`` on 127.0.0.1:``port`` in a thread (pairing only)."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        thread.join()


def clone_database(template: str, name: str) -> str:
    """A copy of the (closed) database ``template``, named ``name``."""
    url = sa.make_url(template)
    if url.get_backend_name() == "sqlite":
        source = Path(url.database or "")
        target = source.with_name(f"{name}.sqlite")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(source, target)
        return f"sqlite:///{target}"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{url.database}"'))
    finally:
        admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _checkpoint(url: str) -> None:
    """Fold SQLite's write-ahead log into the file, so that a copy of the file is whole."""
    if sa.make_url(url).get_backend_name() != "sqlite":
        return
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("PRAGMA wal_checkpoint(TRUNCATE)"))
    engine.dispose()


def blank_replica(target: str, name: str) -> str:
    """A new database, migrated and empty: what every replica starts from."""
    url = dataset.fresh_database(target, name)
    app = instance_app(url, DATA / "unused-keys", "http://127.0.0.1")
    with app.app_context(), _quiet():
        from flask_migrate import upgrade

        upgrade(directory=MIGRATIONS)
    dispose(app)
    _checkpoint(url)
    return url


@dataclass
class Network:
    """An origin served by gunicorn and a paired, empty replica to clone."""

    database: str
    manifest: dataset.Manifest
    records: int
    origin_url: str  # the origin's base URL (http://127.0.0.1:port)
    template: str  # the paired empty replica's database URL
    replica_url: str  # the replica's base URL (pairing only; nothing serves it afterwards)
    replica_keys: Path
    edit: dict[str, str]  # a resource of the origin and its manager's token
    clones: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.records:,} records"

    def clone(self) -> str:
        name = f"{_db_name(self.template)}_{len(self.clones) + 1}"
        url = clone_database(self.template, name)
        self.clones.append(url)
        return url

    def spec(self, replica: str, **more: Any) -> dict[str, Any]:
        return {
            "db": replica,
            "keys": str(self.replica_keys),
            "base_url": self.replica_url,
            "peer": self.origin_url,
            **more,
        }


def _db_name(url: str) -> str:
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return Path(parsed.database or "").stem
    return str(parsed.database)


def feed_size(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(sa.text("SELECT count(*) FROM federation_changes")).scalar_one()
            )
    finally:
        engine.dispose()


def resource_to_edit(url: str) -> dict[str, str]:
    """A resource of the origin and an API token of its régie's manager."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            resource_id, email = conn.execute(
                sa.text(
                    "SELECT r.id, u.email FROM resources r JOIN users u ON u.regie_id = r.regie_id"
                    " WHERE u.role = 'manager' AND r.status = 'available'"
                    " ORDER BY r.name, r.id LIMIT 1"
                )
            ).one()
    finally:
        engine.dispose()
    return {"resource_id": str(uuid.UUID(str(resource_id))), "token": dataset.token_for(email)}


@contextmanager
def network(
    database: str,
    manifest: dataset.Manifest,
    blank: str,
    workdir: Path,
    server: ServerConfig,
    log: Callable[[str], None],
) -> Iterator[Network]:
    """The origin ``manifest`` served by gunicorn, paired with an empty replica made from the
    migrated database ``blank`` (dropped afterwards, with every clone of it)."""
    name = _db_name(manifest.url)
    origin_keys = workdir / name / "origin-keys"
    replica_keys = workdir / name / "replica-keys"
    origin_app = instance_app(manifest.url, origin_keys, "http://127.0.0.1")
    origin_url = existing_identity(origin_app)  # a kept database (--reuse) keeps its identity
    if origin_url is None:
        origin_url = f"http://127.0.0.1:{free_port()}"
        origin_app = instance_app(manifest.url, origin_keys, origin_url)
        origin_fp = fingerprint_of(
            cli(origin_app, "federation", "init", "--url", origin_url, "--name", "Origine")
        )
    else:
        origin_app = instance_app(manifest.url, origin_keys, origin_url)
        origin_fp = fingerprint_of(cli(origin_app, "federation", "show"))
    replica_port = free_port()
    replica_url = f"http://127.0.0.1:{replica_port}"
    template = clone_database(blank, f"{name}_replica")
    replica_app = instance_app(template, replica_keys, replica_url)
    shutil.rmtree(replica_keys, ignore_errors=True)
    replica_fp = fingerprint_of(
        cli(replica_app, "federation", "init", "--url", replica_url, "--name", "Réplique")
    )
    env = {"FLASK_FEDERATION_KEY_DIR": str(origin_keys)}
    net = Network(
        database=database,
        manifest=manifest,
        records=feed_size(manifest.url),
        origin_url=origin_url,
        template=template,
        replica_url=replica_url,
        replica_keys=replica_keys,
        edit=resource_to_edit(manifest.url),
    )
    try:
        with serve(manifest.url, server, log, port=urlsplit(origin_url).port, env=env):
            with served_in_thread(replica_app, replica_port), _quiet():
                for app, url, fingerprint in (
                    (replica_app, origin_url, origin_fp),
                    (origin_app, replica_url, replica_fp),
                ):
                    cli(app, "federation", "peers", "add", url, "--fingerprint", fingerprint)
            dispose(replica_app)
            dispose(origin_app)
            _checkpoint(template)
            log(f"  {net.label}: origin {origin_url} paired with an empty replica")
            yield net
    finally:
        dispose(replica_app)
        dispose(origin_app)
        for url in (*net.clones, template):
            dataset.drop_database(url)
        shutil.rmtree(workdir / name, ignore_errors=True)


# --- Measures (each in a worker process) ------------------------------------------------------

TARGET_RPS = 2_000
# A backfill is stopped after this many times the time the target allows (records ÷ 2 000/s),
# and never before ``Plan.min_cap`` seconds: its rate is then at most half the target, a miss
# whatever the rest would do, and a ten-times-slower sync cannot hold the run for hours.
CAP_FACTOR = 2.0


@dataclass(frozen=True)
class Plan:
    """Which network each figure is measured on, and how often."""

    backfill: str  # the network of sync_backfill_rps and sync_ratio (and of an RSS figure)
    other: str | None  # the RSS figure's other network (×10); None: no RSS growth figure
    incremental: tuple[str, ...]  # the incremental figure's networks, smaller first
    runs: int  # backfills of ``backfill``; incremental syncs at each size
    raw_runs: int  # raw pipelines of ``backfill`` (each backfill is paired with one in turn)
    other_runs: int  # backfills of ``other`` (its raw pipeline runs once)
    min_cap: float  # seconds: see CAP_FACTOR
    prepare_cap: float  # seconds to fill a replica for the incremental figure

    @property
    def variants(self) -> list[str]:
        """The networks, smaller first."""
        names = (*self.incremental, self.backfill, self.other)
        return [name for name in dict.fromkeys(names) if name]


def plan_for(mode: Mode) -> Plan:
    if mode.name == "quick":
        # One tiny network (100 records), few runs: the quick run has about 15 s a database
        # for these figures. Enough to see the sync's constant costs regress; no growth figure.
        return Plan("sync_quick", None, ("sync_quick",), 2, 1, 0, 2.0, 10.0)
    return Plan("base", "growth", ("small", "base"), mode.runs, mode.runs, 3, 5.0, 900.0)


def scales(mode: Mode) -> dict[str, dataset.Scale]:
    """The networks the sync figures need besides the base and ×10 ones."""
    if mode.name == "quick":
        return {"sync_quick": dataset.Scale(2, 40, 18, 20)}  # 100 records
    return {"small": mode.base.times(0.1)}  # 1 714 records


def variants(mode: Mode) -> list[str]:
    return plan_for(mode).variants


def not_measured(mode: Mode) -> dict[str, str]:
    if plan_for(mode).other is None:
        reason = "full run only (the quick run measures one tiny network)"
        return {"sync_rss_growth": reason, "sync_incremental_growth": reason}
    return {}


def run_worker(spec: dict[str, Any], cap: float | None = None) -> dict[str, Any]:
    """Run ``python -m bench.sync worker SPEC``; its report. With ``cap``, a sync still running
    ``cap`` seconds after it began is stopped: the report then has ``capped``, the peak RSS
    read just before, and what the replica had committed by then."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)
    for name in list(env):
        if name.startswith("FLASK_") and name != "FLASK_APP":
            del env[name]  # the spec configures the application, nothing else
    started = Path(f"{spec['keys']}-started-{uuid.uuid4().hex[:6]}")
    spec = {**spec, "started_file": str(started)}
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.sync", "worker", json.dumps(spec)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = _wait(process, started, cap)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    if stdout is None:  # stopped at the cap
        began, progress = started.read_text().split()
        started.unlink(missing_ok=True)
        return {
            "mode": spec["mode"],
            "capped": True,
            "seconds": time.time() - float(began),
            "rss_peak_mb": float(stderr or "nan"),
            "applied": int(progress),
            "committed": applied(spec["db"]),
        }
    started.unlink(missing_ok=True)
    if process.returncode != 0:
        raise RuntimeError(f"sync worker {spec['mode']} failed:\n{stderr[-3000:]}")
    report: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    report["capped"] = False
    return report


def _wait(
    process: subprocess.Popen[str], started: Path, cap: float | None
) -> tuple[str | None, str | None]:
    """(stdout, stderr) once the worker ends; (None, its peak RSS in MB) when the sync it
    began ``cap`` seconds ago is stopped."""
    if cap is None:
        return process.communicate(timeout=7200)
    # Its output is one line at the end and a few log lines: the pipes do not fill up.
    while process.poll() is None:
        try:
            text = started.read_text()
        except OSError:
            text = ""
        if text and time.time() > float(text.split()[0]) + cap:
            peak = _peak_rss(process.pid)
            process.kill()
            process.wait()
            return None, str(peak)
        time.sleep(0.05)
    return process.communicate()


def _peak_rss(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def applied(url: str) -> int:
    """Records the replica's sync committed (the peer's counters)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    sa.text("SELECT records_added + records_updated FROM federation_peers")
                ).scalar_one()
            )
    finally:
        engine.dispose()


def backfill(net: Network, replica: str, cap: float) -> dict[str, Any]:
    report = run_worker(net.spec(replica, mode="backfill"), cap)
    if report["capped"]:
        report["rps"] = report["applied"] / report["seconds"]
        return report
    counts = report["counts"]
    if report["error"] or counts["added"] != net.records or counts["quarantined"]:
        raise RuntimeError(f"backfill of {net.label} went wrong: {report}")
    report["rps"] = net.records / report["seconds"]
    return report


def prepare(net: Network, replica: str, cap: float) -> bool:
    """Bring ``replica`` up to date with the origin (the rest of a stopped backfill); whether
    it got there within ``cap`` seconds."""
    report = run_worker(net.spec(replica, mode="prepare"), cap)
    return not report["capped"] and not report["error"] and applied(replica) == net.records


def raw(net: Network, replica: str) -> dict[str, Any]:
    report = run_worker(net.spec(replica, mode="raw"))
    if report["records"] != net.records:
        raise RuntimeError(f"raw pipeline pulled {report['records']} of {net.records} records")
    report["rps"] = net.records / report["seconds"]
    return report


def incremental(net: Network, replica: str, run: int) -> dict[str, Any]:
    report = run_worker(
        net.spec(replica, mode="incremental", edit=net.edit, sync_first=run % 2 == 0)
    )
    for key in ("cold", "warm"):
        if report[key]["error"] or report[key]["counts"]["updated"] != 1:
            raise RuntimeError(f"incremental sync of {net.label} went wrong: {report}")
    if report["raw_records"] != 1:
        raise RuntimeError(f"the one-change page had {report['raw_records']} changes")
    return report


@dataclass
class Measures:
    sizes: dict[str, int] = field(default_factory=dict)
    backfills: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    raws: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    increments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    unprepared: dict[str, str] = field(default_factory=dict)


def sync_figures(
    database: str,
    manifests: dict[str, dataset.Manifest],
    mode: Mode,
    server: ServerConfig,
    log: Callable[[str], None],
) -> list[Figure]:
    """Every sync figure on one database; ``manifests`` by variant (``variants(mode)``)."""
    plan = plan_for(mode)
    workdir = DATA / f"sync-{database}-{uuid.uuid4().hex[:6]}"  # key folders
    measures = Measures()
    first = sa.make_url(next(iter(manifests.values())).url)
    target = first.render_as_string(hide_password=False)
    if first.get_backend_name() == "sqlite":
        target = f"sqlite:///{Path(first.database or '').resolve().parent}/"
    blank = blank_replica(target, f"{workdir.name.replace('-', '_')}_blank")
    try:
        for variant in plan.variants:
            with network(database, manifests[variant], blank, workdir, server, log) as net:
                began = time.monotonic()
                _measure(net, variant, plan, measures, log)
                log(f"  sync at {net.label}: {time.monotonic() - began:.0f} s")
    finally:
        dataset.drop_database(blank)
        shutil.rmtree(workdir, ignore_errors=True)
    return _figures(database, plan, measures)


def _measure(
    net: Network, variant: str, plan: Plan, measures: Measures, log: Callable[[str], None]
) -> None:
    measures.sizes[variant] = net.records
    cap = max(plan.min_cap, net.records / TARGET_RPS * CAP_FACTOR)
    backfills = plan.runs if variant == plan.backfill else 0
    backfills = plan.other_runs if variant == plan.other else backfills
    raws = plan.raw_runs if variant == plan.backfill else int(variant == plan.other)
    raw_replica = net.clone() if raws else ""
    replica = ""
    for run in range(max(backfills, raws)):
        if run < raws and run % 2 == 1:
            measures.raws.setdefault(variant, []).append(raw(net, raw_replica))
        if run < backfills:
            if replica:
                dataset.drop_database(net.clones.pop(net.clones.index(replica)))
            replica = net.clone()
            done = backfill(net, replica, cap)
            measures.backfills.setdefault(variant, []).append(done)
            log(
                f"  backfill of {net.label}: {done['rps']:,.0f} records/s"
                + (f" (stopped after {done['seconds']:.0f} s)" if done["capped"] else "")
                + f", peak RSS {done['rss_peak_mb']:.0f} MB"
            )
        if run < raws and run % 2 == 0:
            measures.raws.setdefault(variant, []).append(raw(net, raw_replica))
    if variant not in plan.incremental:
        return
    complete = bool(replica) and not measures.backfills[variant][-1]["capped"]
    if not complete:
        replica = replica or net.clone()
        if not prepare(net, replica, plan.prepare_cap):
            measures.unprepared[variant] = (
                f"the replica of {net.label} could not be filled in {plan.prepare_cap:.0f} s"
            )
            log(f"  incremental at {net.label}: {measures.unprepared[variant]}")
            return
    runs = [incremental(net, replica, run) for run in range(plan.runs)]
    measures.increments[variant] = runs
    log(
        f"  incremental at {net.label}: "
        + ", ".join(f"{r['cold']['ms']:.0f}" for r in runs)
        + " ms"
    )


class SyncFigure(Figure):
    """A figure some of whose runs were stopped at the cap: its values are bounds, and it
    misses its target whatever they are."""

    capped = False

    def summary(self) -> dict[str, Any]:
        result = super().summary()
        if self.capped and result["passed"]:
            result["passed"] = False
        return result


def _figure(name: str, database: str, unit: str, target: Target | None, on: str) -> SyncFigure:
    return SyncFigure(name, database, unit, target, on=on)


def _figures(database: str, plan: Plan, m: Measures) -> list[Figure]:
    def paired(variant: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """Each backfill with the raw pipeline of its rank (or the last one)."""
        raws = m.raws[variant]
        return [(run, raws[min(i, len(raws) - 1)]) for i, run in enumerate(m.backfills[variant])]

    base = m.sizes[plan.backfill]
    rps = _figure(
        f"sync_backfill_rps ({base:,} records)", database, "records/s",
        Target(">=", TARGET_RPS), "value",
    )  # fmt: skip
    ratio = _figure("sync_ratio", database, "records/s", Target(">=", 0.1), "ratio")
    for sync_run, raw_run in paired(plan.backfill):
        for figure in (rps, ratio):
            figure.add(sync_run["rps"], raw_run["rps"])
    page = m.raws[plan.backfill][0]["page_size"]
    cpu = [r["cpu_seconds"] for r in m.backfills[plan.backfill] if not r["capped"]]
    rps.notes.append(
        "sync_peers of an empty replica timed in-process, in a fresh process"
        + (f" (CPU {median_of(cpu):.1f} s of it)" if cpu else "")
        + f"; baseline: the raw pipeline ({page} records a page, signed, one keep-alive "
        "connection, one executemany and commit a page)"
    )
    ratio.notes.append("sync records/s ÷ the raw pipeline's records/s, same run")
    _note_capped(rps, m, [plan.backfill])
    _note_capped(ratio, m, [plan.backfill])
    figures: list[Figure] = [rps, ratio]

    sizes = sorted((v for v in (plan.backfill, plan.other) if v), key=lambda v: m.sizes[v])
    rss = {}
    for v in sizes:
        rss[v] = _figure(
            f"sync_rss_mb ({m.sizes[v]:,} records)", database, "MB", Target("<=", 200), "value"
        )
        for sync_run, raw_run in paired(v):
            rss[v].add(sync_run["rss_peak_mb"], raw_run["rss_peak_mb"])
        rss[v].notes.append(
            "peak RSS (VmHWM) of the syncing process (interpreter and application included); "
            "baseline: the raw pipeline's process"
        )
        _note_capped(rss[v], m, [v], bound="at least")
        figures.append(rss[v])
    if len(sizes) == 2:
        low, high = sizes
        rss_growth = _figure("sync_rss_growth", database, "×", Target("<=", 1.3), "value")
        for index, (at_high, raw_high) in enumerate(paired(high)):
            at_low, raw_low = paired(low)[min(index, len(m.backfills[low]) - 1)]
            rss_growth.add(
                at_high["rss_peak_mb"] / at_low["rss_peak_mb"],
                raw_high["rss_peak_mb"] / raw_low["rss_peak_mb"],
            )
        rss_growth.notes.append(
            f"peak RSS at {m.sizes[high]:,} ÷ at {m.sizes[low]:,} records; baseline: the same "
            "for the raw pipeline"
        )
        _note_capped(rss_growth, m, sizes, bound="not meaningful")
        figures.append(rss_growth)

    inc = {}
    for v in plan.incremental:
        inc[v] = _figure(
            f"sync_incremental_ms ({m.sizes[v]:,} records)", database, "ms",
            Target("<=", 100), "value",
        )  # fmt: skip
        runs = m.increments.get(v, [])
        for run in runs:
            inc[v].add(run["cold"]["ms"], run["raw_ms"])
        if runs:
            warm = median_of([run["warm"]["ms"] for run in runs])
            inc[v].notes.append(
                "one resource edited at the origin (PATCH /api/v1/resources/<id>), then "
                "sync_peers timed in-process, its first call in a fresh process (what a cron "
                f"job's flask federation sync does; a second edit synced in the same process: "
                f"median {warm:.1f} ms); baseline: the raw pipeline pulling that page"
            )
        else:
            inc[v].add(float("nan"))
            inc[v].notes.append(f"not measured: {m.unprepared.get(v, 'no replica')}")
        figures.append(inc[v])
    if len(plan.incremental) == 2:
        small, large = plan.incremental
        inc_growth = _figure("sync_incremental_growth", database, "×", Target("<=", 2), "value")
        for at_low, at_high in zip(
            m.increments.get(small, []), m.increments.get(large, []), strict=False
        ):
            inc_growth.add(
                at_high["cold"]["ms"] / at_low["cold"]["ms"],
                at_high["raw_ms"] / at_low["raw_ms"],
            )
        if not inc_growth.runs:
            inc_growth.add(float("nan"))
        inc_growth.notes.append(
            f"incremental sync at {m.sizes[large]:,} ÷ at {m.sizes[small]:,} records; "
            "baseline: the same for the raw pull"
        )
        figures.append(inc_growth)
    return figures


def _note_capped(figure: SyncFigure, m: Measures, variants_: list[str], bound: str = "") -> None:
    for v in variants_:
        stopped = [r for r in m.backfills[v] if r["capped"]]
        if stopped:
            figure.capped = True
            figure.notes.append(
                f"{len(stopped)} of {len(m.backfills[v])} backfills of {m.sizes[v]:,} records "
                f"stopped after {stopped[0]['seconds']:.0f} s (twice the time the target "
                f"allows), {stopped[0]['applied']:,} records applied by then: rate from those"
                + (f"; values {bound}" if bound else "")
            )


def median_of(values: list[float]) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


# --- The worker ---------------------------------------------------------------------------------


def _memory() -> dict[str, float]:
    """This process's resident set now and at its peak, in MB."""
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(value.split()[0]) / 1024
    return values


def _sync(peer: str, profile: str | None = None, started_file: str | None = None) -> dict[str, Any]:
    """One ``sync_peers`` of ``peer``, timed; with ``profile`` (a file name), under
    pyinstrument (written there as text) and with its SQL statements counted."""
    from federation import services
    from federation.sync import sync_peers

    client = services.default_client()
    with _profiled(profile) as statements, _progress(started_file):
        cpu = time.process_time()
        began = time.perf_counter()
        reports = sync_peers(peer, client=client)
        seconds = time.perf_counter() - began
        cpu = time.process_time() - cpu
    (report,) = reports
    result = {
        "seconds": seconds,
        "ms": seconds * 1000,
        "cpu_seconds": cpu,
        "pages": report.pages,
        "counts": report.counts,
        "error": report.error,
    }
    if profile:
        result["statements"] = len(statements)
        result["statement_ms"] = sum(ms for _, ms in statements)
        by_kind: dict[str, list[float]] = {}
        for statement, ms in statements:
            by_kind.setdefault(" ".join(statement.split())[:90], []).append(ms)
        result["top_statements"] = sorted(
            ([len(t), round(sum(t)), s] for s, t in by_kind.items()), reverse=True
        )[:15]
    return result


@contextmanager
def _progress(path: str | None) -> Iterator[None]:
    """Write ``<when the sync began> <changes applied so far>`` to ``path`` every 0.1 s, so
    that a sync stopped at its cap still tells how far it got (applied, committed or not)."""
    if not path:
        yield
        return
    from federation.sync import SyncReport

    began, applied = time.time(), [0]
    count = SyncReport.count

    def counting(self: Any, what: str) -> None:
        applied[0] += 1
        count(self, what)

    def write() -> None:
        Path(path + ".tmp").write_text(f"{began!r} {applied[0]}")
        os.replace(path + ".tmp", path)

    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(0.1):
            write()

    SyncReport.count = counting  # type: ignore[method-assign]
    write()
    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        SyncReport.count = count  # type: ignore[method-assign]


@contextmanager
def _profiled(output: str | None) -> Iterator[list[tuple[str, float]]]:
    if not output:
        yield []
        return
    from pyinstrument import Profiler

    from bench.profile import statements
    from sharing.extensions import db

    profiler = Profiler(interval=0.001)
    with statements(db.engine) as seen:
        profiler.start()
        try:
            yield seen
        finally:
            profiler.stop()
    Path(output).write_text(profiler.output_text(unicode=True, color=False, show_all=False))


def _raw_pull(spec: dict[str, Any], since: str | None) -> tuple[float, int, int]:
    """The raw pipeline: the feed's pages after ``since``, signed, over one keep-alive
    connection, each written with one executemany into a plain table; (seconds, records,
    pages)."""
    from flask import current_app

    from federation import services, signing

    key_id, private_key = services.signing_credentials()
    page_size = int(current_app.config["FEDERATION_PAGE_SIZE"])
    engine = sa.create_engine(spec["db"])
    raw_metadata.drop_all(engine)
    raw_metadata.create_all(engine)
    peer = urlsplit(spec["peer"])
    records = pages = 0
    began = time.perf_counter()
    connection = http.client.HTTPConnection(peer.hostname or "", peer.port, timeout=60)
    try:
        cursor = since
        while True:
            query: dict[str, Any] = {"limit": page_size}
            if cursor:
                query["since"] = cursor
            target = f"{CHANGES_PATH}?{urlencode(query)}"
            url = spec["peer"] + target
            headers = signing.sign_request(
                "GET", url, body=None, private_key=private_key, key_id=key_id
            )
            headers["Host"] = signing.authority_of(url)
            headers["Accept"] = "application/json"
            connection.request("GET", target, headers=headers)
            response = connection.getresponse()
            body = response.read()
            if response.status != 200:
                raise RuntimeError(f"{url} answered {response.status}: {body[:300]!r}")
            page = json.loads(body)
            rows = [
                {
                    "record_type": change["type"],
                    "record_id": change["id"],
                    "op": change["op"],
                    "version": change["version"],
                    "data": json.dumps(change["data"], ensure_ascii=False),
                }
                for change in page["changes"]
            ]
            with engine.begin() as conn:
                if rows:
                    conn.execute(raw_changes.insert(), rows)
            records += len(rows)
            pages += 1
            cursor = page["next"]
            if not page["has_more"]:
                break
    finally:
        connection.close()
    seconds = time.perf_counter() - began
    engine.dispose()
    return seconds, records, pages


def _edit_origin(spec: dict[str, Any]) -> None:
    """Change one resource at the origin through its API, as its régie's manager would."""
    edit = spec["edit"]
    peer = urlsplit(spec["peer"])
    connection = http.client.HTTPConnection(peer.hostname or "", peer.port, timeout=60)
    try:
        body = json.dumps({"location": f"Dépôt {uuid.uuid4().hex[:8]}"}).encode()
        connection.request(
            "PATCH",
            f"/api/v1/resources/{edit['resource_id']}",
            body=body,
            headers={
                "Authorization": f"Bearer {edit['token']}",
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
        )
        response = connection.getresponse()
        answer = response.read()
        if response.status != 200:
            raise RuntimeError(
                f"PATCH of the origin's resource answered {response.status}: {answer[:300]!r}"
            )
    finally:
        connection.close()


def worker(spec: dict[str, Any]) -> dict[str, Any]:
    """One measure on the replica ``spec["db"]`` (see ``run_worker``)."""
    began = time.perf_counter()
    app = instance_app(spec["db"], Path(spec["keys"]), spec["base_url"])
    gc.freeze()  # as wsgi.py does once the application is built, for `flask` commands too
    result: dict[str, Any] = {"mode": spec["mode"]}
    with app.app_context():
        from federation import services
        from sharing.extensions import db

        result["startup_seconds"] = time.perf_counter() - began
        result["rss_start_mb"] = _memory()["VmRSS"]
        result["page_size"] = int(app.config["FEDERATION_PAGE_SIZE"])
        if spec["mode"] in ("prepare", "backfill"):
            result |= _sync(spec["peer"], spec.get("profile"), spec.get("started_file"))
        elif spec["mode"] == "raw":
            result["seconds"], result["records"], result["pages"] = _raw_pull(spec, None)
        else:  # incremental
            peer = services.get_peer_by_url(spec["peer"])
            since = peer.cursor
            db.session.rollback()
            _edit_origin(spec)
            if spec["sync_first"]:
                result["cold"] = _sync(spec["peer"])
            seconds, result["raw_records"], _ = _raw_pull(spec, since)
            result["raw_ms"] = seconds * 1000
            if not spec["sync_first"]:
                result["cold"] = _sync(spec["peer"])
            _edit_origin(spec)
            result["warm"] = _sync(spec["peer"], spec.get("profile"))
    memory = _memory()
    result["rss_peak_mb"] = memory["VmHWM"]
    result["rss_end_mb"] = memory["VmRSS"]
    return result


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "worker":
        print(__doc__)
        return 2
    print(json.dumps(worker(json.loads(argv[1]))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

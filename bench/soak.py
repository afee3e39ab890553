"""Soak: mixed, realistic traffic against two real instances for a given duration.

Instance A (under test: gunicorn, 3 workers × 4 threads, SQLite or PostgreSQL) and instance B
(its peer: gunicorn on SQLite) are migrated, seeded with the French demo data, given
identities and paired with the CLI as an administrator would. Then, until the time is up:

- browsing clients on A: the catalogue (search words, categories, availability windows), the
  library (French searches with facets), resource pages and the web interface's pages;
- booking clients on A: requests on random resources and slots (201, or 409 when taken);
- a manager on A approving or declining what waits for them;
- an editor on B changing resources, and the sync job on A pulling B every few seconds
  (``flask federation sync``), so that A applies changes while it serves.

At the end it prints requests, errors (a 5xx, a broken connection, an unexpected status, a
failed sync run) and latency percentiles per kind, and writes ``bench/results/soak-<db>.json``;
the exit code is 1 when there was any error.

    python -m bench.soak --minutes 10 --database sqlite
    python -m bench.soak --minutes 10 --database postgresql --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results"
WORDS = [
    "tondeuse",
    "remorque",
    "autolaveuse",
    "barnum",
    "débroussailleuse",
    "échafaudage",
    "nettoyeur haute pression",
    "broyeur",
    "vélo cargo",
    "perforateur",
]
DOC_WORDS = [
    "zéro phyto",
    "chantier d'insertion",
    "prêt de matériel",
    "sécurité",
    "gestion des déchets",
    "convention de mise à disposition",
    "jardins partagés",
]
PAGES = ["/connexion", "/catalogue", "/bibliotheque", "/reservations"]  # anonymous: 302


class Instance:
    """One instance: its database, key folder, environment, and (once started) its server."""

    def __init__(self, name: str, database_url: str, folder: Path):
        self.name = name
        self.database_url = database_url
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = os.environ | {
            "FLASK_SQLALCHEMY_DATABASE_URI": database_url,
            "FLASK_SECRET_KEY": f"soak-{name}",
            "FLASK_FEDERATION_KEY_DIR": str(folder / f"keys-{name}"),
            "FLASK_ATTACHMENTS_DIR": str(folder / f"files-{name}"),
            "FLASK_INSTANCE_URL": self.url,
            "FLASK_LOGIN_RATE_LIMIT": "100000 per minute",
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.log = folder / f"gunicorn-{name}.log"

    def flask(self, *args: str) -> str:
        done = subprocess.run(
            [str(BIN / "flask"), "--app", "wsgi.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"flask {' '.join(args)} on {self.name}:\n{done.stderr}")
        return done.stdout

    def prepare(self, label: str) -> str:
        """Migrate, seed, create the identity; the key fingerprint."""
        self.flask("db", "upgrade")
        self.flask("demo", "seed")
        shown = self.flask("federation", "init", "--url", self.url, "--name", label)
        return shown.split("fingerprint: ")[1].split()[0]

    def token(self, email: str) -> str:
        return (
            self.flask("users", "token", "--email", email, "--label", "soak")
            .strip()
            .splitlines()[-1]
        )

    def serve(self, workers: int = 3) -> None:
        command = [
            str(BIN / "gunicorn"),
            "-w",
            str(workers),
            "-k",
            "gthread",
            "--threads",
            "4",
            "-b",
            f"127.0.0.1:{self.port}",
            "--timeout",
            "120",
            "wsgi:app",
        ]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not start:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()


class Tally:
    """Latencies and errors per kind of request, shared by the client threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.statuses: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self.errors: list[str] = []

    def record(self, kind: str, status: int, seconds: float, allowed: set[int]) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            self.statuses[kind][status] += 1
            if status not in allowed:
                self.errors.append(f"{kind}: HTTP {status}")

    def fail(self, kind: str, message: str) -> None:
        with self.lock:
            self.errors.append(f"{kind}: {message}")
            self.statuses[kind][0] += 1


def call(
    tally: Tally,
    kind: str,
    method: str,
    url: str,
    token: str | None = None,
    body: Any = None,
    allowed: frozenset[int] = frozenset({200}),
) -> Any:
    headers = {"Accept": "application/json"}
    data = None
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            payload = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        payload, status = error.read(), error.code
    except OSError as error:
        tally.fail(kind, f"connection: {error}")
        return None
    tally.record(kind, status, time.perf_counter() - started, set(allowed))
    try:
        return json.loads(payload) if payload.startswith((b"{", b"[")) else None
    except ValueError:
        return None


def browse(a: Instance, token: str, tally: Tally, until: float, rng: random.Random) -> None:
    while time.monotonic() < until:
        roll = rng.random()
        if roll < 0.35:
            start = datetime.now(UTC) + timedelta(days=rng.randint(1, 20))
            query = urllib.parse.urlencode(
                {
                    "q": rng.choice(WORDS),
                    "per_page": 50,
                    "available_from": start.isoformat(),
                    "available_to": (start + timedelta(days=2)).isoformat(),
                }
            )
            call(tally, "catalogue", "GET", f"{a.url}/api/v1/resources?{query}", token)
        elif roll < 0.6:
            query = urllib.parse.urlencode({"q": rng.choice(DOC_WORDS)})
            call(tally, "library search", "GET", f"{a.url}/api/v1/documents?{query}", token)
        elif roll < 0.8:
            page = call(tally, "catalogue", "GET", f"{a.url}/api/v1/resources?per_page=50", token)
            if page and page.get("items"):
                item = rng.choice(page["items"])
                call(tally, "resource", "GET", f"{a.url}/api/v1/resources/{item['id']}", token)
                window = urllib.parse.urlencode(
                    {
                        "from": datetime.now(UTC).isoformat(),
                        "to": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
                    }
                )
                call(
                    tally,
                    "availability",
                    "GET",
                    f"{a.url}/api/v1/resources/{item['id']}/availability?{window}",
                    token,
                )
        else:
            call(
                tally,
                "web page",
                "GET",
                a.url + rng.choice(PAGES),
                None,
                allowed=frozenset({200, 302}),
            )


def book(
    a: Instance, token: str, resources: list[str], tally: Tally, until: float, rng: random.Random
) -> None:
    while time.monotonic() < until:
        start = (
            datetime.now(UTC) + timedelta(days=rng.randint(2, 60), hours=rng.randint(0, 23))
        ).replace(microsecond=0)
        body = {
            "resource_id": rng.choice(resources),
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=rng.randint(2, 48))).isoformat(),
            "note": "Pour le chantier du quartier",
        }
        call(
            tally,
            "booking",
            "POST",
            f"{a.url}/api/v1/bookings",
            token,
            body,
            allowed=frozenset({201, 202, 409, 422}),
        )
        time.sleep(rng.uniform(0.05, 0.3))


def decide(a: Instance, token: str, tally: Tally, until: float, rng: random.Random) -> None:
    while time.monotonic() < until:
        waiting = call(
            tally,
            "my bookings",
            "GET",
            f"{a.url}/api/v1/bookings?as=lender&status=requested",
            token,
        )
        for item in (waiting or {}).get("items", [])[:5]:
            action = "approve" if rng.random() < 0.7 else "decline"
            call(
                tally,
                "decision",
                "POST",
                f"{a.url}/api/v1/bookings/{item['id']}/{action}",
                token,
                {},
                allowed=frozenset({200, 409}),
            )
        time.sleep(rng.uniform(0.5, 1.5))


def edit_origin(
    b: Instance, token: str, resources: list[str], tally: Tally, until: float, rng: random.Random
) -> None:
    while time.monotonic() < until:
        body = {"location": f"Dépôt n° {rng.randint(1, 99)}"}
        call(
            tally,
            "origin edit",
            "PATCH",
            f"{b.url}/api/v1/resources/{rng.choice(resources)}",
            token,
            body,
        )
        time.sleep(rng.uniform(0.5, 2))


def sync_loop(a: Instance, tally: Tally, until: float, interval: float) -> None:
    while time.monotonic() < until:
        started = time.perf_counter()
        done = subprocess.run(
            [str(BIN / "flask"), "--app", "wsgi.py", "federation", "sync"],
            cwd=ROOT,
            env=a.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode == 0:
            tally.record("sync run", 200, time.perf_counter() - started, {200})
        else:
            tally.fail("sync run", (done.stdout + done.stderr)[-500:])
        time.sleep(interval)


def local_slugs(instance: Instance, admin_token: str, tally: Tally) -> list[str]:
    url = f"{instance.url}/api/v1/regies?instance=local&per_page=100"
    return [regie["slug"] for regie in call(tally, "setup", "GET", url, admin_token)["items"]]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


@contextmanager
def database(kind: str, pg_url: str, folder: Path, name: str) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{folder / f'{name}.sqlite'}"
        return
    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    db_name = f"soak_{name}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{db_name}"'))
    try:
        yield sa.make_url(pg_url).set(database=db_name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        admin.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--browsers", type=int, default=6)
    parser.add_argument("--bookers", type=int, default=3)
    parser.add_argument("--sync-interval", type=float, default=10)
    args = parser.parse_args(argv)
    rng = random.Random(2026)
    tally = Tally()
    with (
        tempfile.TemporaryDirectory(prefix="soak-") as tmp,
        database(args.database, args.pg_url, Path(tmp), "a") as url_a,
    ):
        folder = Path(tmp)
        a = Instance("a", url_a, folder)
        b = Instance("b", f"sqlite:///{folder / 'b.sqlite'}", folder)
        print(f"preparing instance A ({args.database}) and its peer B (sqlite)…", flush=True)
        fingerprint_a = a.prepare("Instance A (soak)")
        fingerprint_b = b.prepare("Instance B (soak)")
        a.serve()
        b.serve(workers=2)
        try:
            a.flask("federation", "peers", "add", b.url, "--fingerprint", fingerprint_b)
            b.flask("federation", "peers", "add", a.url, "--fingerprint", fingerprint_a)
            a.flask("federation", "sync")
            admin_a = a.token("admin@demo.regies.example")
            slugs = local_slugs(a, admin_a, tally)
            readers = [a.token(f"equipe@{slug}.demo.regies.example") for slug in slugs[:6]]
            manager = a.token(f"responsable@{slugs[0]}.demo.regies.example")
            page = call(tally, "setup", "GET", f"{a.url}/api/v1/resources?per_page=100", admin_a)
            resources = [item["id"] for item in page["items"]]
            b_slug = local_slugs(b, b.token("admin@demo.regies.example"), tally)[1]
            b_manager = b.token(f"responsable@{b_slug}.demo.regies.example")
            b_regie = call(tally, "setup", "GET", f"{b.url}/api/v1/me", b_manager)["regie"]["id"]
            b_page = call(
                tally,
                "setup",
                "GET",
                f"{b.url}/api/v1/resources?per_page=100&regie={b_regie}",
                b_manager,
            )
            b_resources = [item["id"] for item in b_page["items"]]
            until = time.monotonic() + args.minutes * 60
            print(f"soak for {args.minutes} min on {args.database}…", flush=True)
            threads = [
                threading.Thread(
                    target=browse,
                    args=(a, readers[i % len(readers)], tally, until, random.Random(i)),
                )
                for i in range(args.browsers)
            ]
            threads += [
                threading.Thread(
                    target=book,
                    args=(
                        a,
                        readers[i % len(readers)],
                        resources,
                        tally,
                        until,
                        random.Random(100 + i),
                    ),
                )
                for i in range(args.bookers)
            ]
            threads.append(threading.Thread(target=decide, args=(a, manager, tally, until, rng)))
            threads.append(
                threading.Thread(
                    target=edit_origin, args=(b, b_manager, b_resources, tally, until, rng)
                )
            )
            threads.append(
                threading.Thread(target=sync_loop, args=(a, tally, until, args.sync_interval))
            )
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            a.stop()
            b.stop()
            for instance in (a, b):  # the server's side of any 5xx
                text = instance.log.read_text(errors="replace")
                for trace in text.split("Traceback")[1:3]:
                    print(f"--- {instance.name}: Traceback{trace[-3000:]}")
    report = summarise(tally, args)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"soak-{args.database}.json").write_text(json.dumps(report, indent=2))
    return 1 if tally.errors else 0


def summarise(tally: Tally, args: argparse.Namespace) -> dict[str, Any]:
    kinds = {}
    print(f"\n{'kind':<16}{'requests':>9}{'p50 ms':>9}{'p99 ms':>9}  statuses")
    for kind, values in sorted(tally.latencies.items()):
        if kind == "setup":
            continue
        kinds[kind] = {
            "requests": len(values),
            "p50_ms": round(percentile(values, 0.5), 1),
            "p99_ms": round(percentile(values, 0.99), 1),
            "statuses": dict(tally.statuses[kind]),
        }
        print(
            f"{kind:<16}{len(values):>9}{kinds[kind]['p50_ms']:>9}{kinds[kind]['p99_ms']:>9}"
            f"  {dict(tally.statuses[kind])}"
        )
    all_values = [v for kind, values in tally.latencies.items() if kind != "setup" for v in values]
    total = {
        "requests": len(all_values),
        "errors": len(tally.errors),
        "p99_ms": round(percentile(all_values, 0.99), 1) if all_values else None,
    }
    print(
        f"\ntotal: {total['requests']} requests, {total['errors']} errors, p99 {total['p99_ms']} ms"
    )
    for error in tally.errors[:20]:
        print("  error:", error)
    return {
        "database": args.database,
        "minutes": args.minutes,
        "total": total,
        "kinds": kinds,
        "errors": tally.errors[:200],
    }


if __name__ == "__main__":
    raise SystemExit(main())

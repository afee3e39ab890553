"""Crash safety: the server is killed (SIGKILL, every process of it at once, as a power cut
or the OOM killer would) in the middle of bookings and uploads. Afterwards the database is
consistent (SQLite's integrity check, no overlapping bookings, no attachment without its
bytes), everything the server acknowledged is there, and a restarted server works.

The sync job killed in the middle of a pull is in tests/federation/test_crash_safety_sync.py.
"""

import contextlib
import hashlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from sharing.db import utcnow
from sharing.extensions import db
from sharing.library import files
from sharing.library.models import Attachment
from sharing.loans.models import ACTIVE_STATUSES, Booking
from tests.factories import Factories

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PDF_HEAD = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"


class KillableServer:
    """gunicorn (2 workers × 4 threads) in its own process group, so that one SIGKILL takes
    the master and every worker down at once."""

    def __init__(self, database_url: str, folder: Path, attachments: Path):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = folder / f"gunicorn-{self.port}.log"
        env = os.environ | {
            "FLASK_SQLALCHEMY_DATABASE_URI": database_url,
            "FLASK_SECRET_KEY": "crash-test-secret",
            "FLASK_ATTACHMENTS_DIR": str(attachments),
            "FLASK_LOGIN_RATE_LIMIT": "100000 per minute",
        }
        command = [str(BIN / "gunicorn"), "-w", "2", "-k", "gthread", "--threads", "4"]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [*command, "-b", f"127.0.0.1:{self.port}", "wsgi:app"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_until_healthy(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"gunicorn exited:\n{self.log_path.read_text(errors='replace')}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        pytest.fail("gunicorn did not answer /healthz")

    def kill(self) -> None:
        """SIGKILL to the whole process group: nothing gets to clean up."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)


@pytest.fixture
def servers(database_url: str, tmp_path: Path, app: Flask) -> Iterator[Callable[[], Any]]:
    """Start servers on the test database and the test application's attachment folder."""
    started: list[KillableServer] = []
    attachments = Path(app.config["ATTACHMENTS_DIR"] or Path(app.instance_path) / "attachments")

    def start() -> KillableServer:
        server = KillableServer(database_url, tmp_path, attachments)
        started.append(server)
        server.wait_until_healthy()
        return server

    yield start
    for server in started:
        server.kill()


def send(
    method: str, url: str, token: str, body: bytes, content_type: str
) -> tuple[int, dict[str, Any]] | None:
    """The answer, or None when the connection broke (the outcome is unknown)."""
    request = urllib.request.Request(
        url,
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        try:
            return error.code, json.loads(error.read())
        except (ValueError, OSError, http.client.HTTPException):
            return error.code, {}
    except (OSError, ValueError, http.client.HTTPException):  # the server died mid-answer
        return None


Answer = tuple[int, dict[str, Any]] | None


def hammer(
    make_request: Callable[[int], Answer],
    kill: Callable[[], None],
    clients: int = 6,
    acknowledged_before_kill: int = 25,
    expected: tuple[int, ...] = (201, 409),
) -> list[dict[str, Any]]:
    """``clients`` threads send requests until the server dies; the server is killed once
    ``acknowledged_before_kill`` requests were acknowledged (201). The acknowledged bodies."""
    acknowledged: list[dict[str, Any]] = []
    unexpected: list[tuple[int, dict[str, Any]]] = []
    lock = threading.Lock()
    dead = threading.Event()
    counter = iter(range(10**9))

    def client() -> None:
        while not dead.is_set():
            with lock:
                n = next(counter)
            answer = make_request(n)
            if answer is None:
                continue
            status, body = answer
            if status not in expected:
                with lock:
                    unexpected.append((status, body))
                continue
            if status == 201:
                with lock:
                    acknowledged.append(body)
                    if len(acknowledged) >= acknowledged_before_kill and not dead.is_set():
                        kill()
                        dead.set()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert dead.is_set(), "the server was never killed"
    assert not unexpected, unexpected[:5]
    return acknowledged


def check_database_integrity(app: Flask) -> None:
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            assert db.session.execute(sa.text("PRAGMA integrity_check")).scalar() == "ok"
            assert db.session.execute(sa.text("PRAGMA foreign_key_check")).all() == []


def test_bookings_acknowledged_before_a_crash_survive_it_without_overlaps(
    app: Flask, make: Factories, servers
) -> None:
    lender = make.user("manager")
    resources = [make.resource(lender, name=f"Tondeuse {i}").id for i in range(3)]
    tokens = [make.token(make.user("member")) for _ in range(6)]
    start = (utcnow() + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    server = servers()

    def book(n: int) -> tuple[int, dict[str, Any]] | None:
        slot = start + timedelta(hours=2 * (n // 2))  # two requests per slot: one must lose
        body = {
            "resource_id": str(resources[n % 3]),
            "starts_at": slot.isoformat(),
            "ends_at": (slot + timedelta(hours=3)).isoformat(),
        }
        return send(
            "POST",
            server.url + "/api/v1/bookings",
            tokens[n % len(tokens)],
            json.dumps(body).encode(),
            "application/json",
        )

    acknowledged = hammer(book, server.kill)

    check_database_integrity(app)
    with app.app_context():
        kept = {b.id: b for b in db.session.scalars(sa.select(Booking))}
        for body in acknowledged:
            assert uuid.UUID(body["id"]) in kept, "an acknowledged booking was lost"
        active = [b for b in kept.values() if b.status in ACTIVE_STATUSES]
        for a in active:
            for b in active:
                overlap = a.starts_at < b.ends_at and b.starts_at < a.ends_at
                assert a is b or a.resource_id != b.resource_id or not overlap
    print(f"\ncrash during bookings: {len(acknowledged)} acknowledged, {len(kept)} stored")

    again = servers()  # the database is usable after the crash (no stale lock)
    after = send(
        "POST",
        again.url + "/api/v1/bookings",
        tokens[0],
        json.dumps(
            {
                "resource_id": str(resources[0]),
                "starts_at": (start - timedelta(hours=12)).isoformat(),
                "ends_at": (start - timedelta(hours=11)).isoformat(),
            }
        ).encode(),
        "application/json",
    )
    assert after is not None
    assert after[0] == 201, after


def multipart(filename: str, content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{filename}"\r\nContent-Type: application/pdf\r\n\r\n'
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def test_uploads_acknowledged_before_a_crash_keep_their_bytes(
    app: Flask, make: Factories, client, servers
) -> None:
    author = make.user("manager")
    token = make.token(author)
    made = client.post(
        "/api/v1/documents",
        json={"title": "Procès-verbal de prêt", "themes": ["mutualisation"], "type": "modele"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert made.status_code == 201, made.json
    url_path = f"/api/v1/documents/{made.json['id']}/attachments"
    server = servers()

    def upload(n: int) -> tuple[int, dict[str, Any]] | None:
        content = PDF_HEAD + f"% {n} {'x' * 200_000}\n%%EOF\n".encode()  # each one different
        body, content_type = multipart(f"pv-{n}.pdf", content)
        return send("POST", server.url + url_path, token, body, content_type)

    # Four uploads at once to one document: each is a new version, none may collide.
    acknowledged = hammer(
        upload, server.kill, clients=4, acknowledged_before_kill=12, expected=(201,)
    )

    check_database_integrity(app)
    with app.app_context():
        rows = db.session.scalars(sa.select(Attachment)).all()
        stored = {a.id: a for a in rows}
        for body in acknowledged:
            assert uuid.UUID(body["id"]) in stored, "an acknowledged upload was lost"
        for attachment in rows:  # no row points at missing or wrong bytes
            data = files.blob_path(attachment.sha256).read_bytes()
            assert hashlib.sha256(data).hexdigest() == attachment.sha256
            assert len(data) == attachment.size
    print(f"\ncrash during uploads: {len(acknowledged)} acknowledged, {len(rows)} stored")

    again = servers()
    body, content_type = multipart("apres.pdf", PDF_HEAD + b"%%EOF\n")
    answer = send("POST", again.url + url_path, token, body, content_type)
    assert answer is not None
    assert answer[0] == 201, answer

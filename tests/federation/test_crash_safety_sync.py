"""Crash safety of the pull job: ``flask federation sync`` (a separate process, on the test
database) is killed with SIGKILL in the middle of a backfill, after some pages were applied.
Run again, it finishes from its saved cursor, and the replicas equal the origin's records:
a page is applied and its cursor saved in one transaction, so a crash replays a page and
never skips one."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from federation.models import Peer
from sharing.accounts.models import User
from sharing.catalogue import services as catalogue
from sharing.catalogue.schemas import ResourceArgs
from sharing.extensions import db
from tests.factories import Factories
from tests.federation.conftest import Served
from tests.federation.test_sync_e2e import instance_id, published, replicated

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
RESOURCES = 200
PAGE = 10


def sync_process(app: Flask, database_url: str) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "FLASK_SQLALCHEMY_DATABASE_URI": database_url,
        "FLASK_SECRET_KEY": "crash-sync-secret",
        "FLASK_FEDERATION_KEY_DIR": str(app.config["FEDERATION_KEY_DIR"]),
        "FLASK_FEDERATION_PAGE_SIZE": str(PAGE),
    }
    return subprocess.Popen(
        [str(BIN / "flask"), "--app", "wsgi.py", "federation", "sync"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def cursor_of(app: Flask) -> str | None:
    with app.app_context():
        db.session.remove()
        return db.session.scalar(sa.select(Peer.cursor))


def test_a_sync_killed_mid_backfill_resumes_and_ends_equal_to_the_origin(
    paired_instances: tuple[Served, Served], database_url: str
) -> None:
    a, b = paired_instances
    make = Factories(b.app)
    manager = make.user("manager")
    with b.app.app_context():
        owner = db.session.get(User, manager.id)
        for i in range(RESOURCES):
            data = ResourceArgs().load(
                {"name": f"Débroussailleuse {i}", "category": "espaces-verts"}
            )
            catalogue.create_resource(owner, data)
        db.session.commit()

    job = sync_process(a.app, database_url)
    deadline = time.monotonic() + 60
    while cursor_of(a.app) is None and time.monotonic() < deadline and job.poll() is None:
        time.sleep(0.02)
    os.killpg(job.pid, signal.SIGKILL)
    job.communicate(timeout=10)
    killed_at = cursor_of(a.app)
    assert killed_at is not None, "the job was killed before it applied a page"
    half_done = len(replicated(a, instance_id(b)))
    assert 0 < half_done < RESOURCES + 2, "the job finished before it was killed"

    finish = sync_process(a.app, database_url)
    output, _ = finish.communicate(timeout=120)

    assert finish.returncode == 0, output.decode()
    assert replicated(a, instance_id(b)) == published(b)
    print(f"\nsync killed after {half_done} records (cursor {killed_at}), resumed to the end")

"""Test fixtures: a real database (SQLite file, or PostgreSQL with ``TEST_DATABASE_URL``),
migrated once per session and emptied after every test.

We empty tables instead of wrapping tests in a savepoint because several tests drive a real
server (browser, concurrency), whose connections could not see a test's open transaction.
"""

import os
import secrets
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from werkzeug.serving import make_server

from sharing import create_app
from sharing.extensions import db, limiter
from tests import database, factories

MIGRATIONS = os.path.join(os.path.dirname(__file__), "..", "migrations")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, empty database for this test session."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        yield "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite")
        return
    # One throw-away PostgreSQL database per session, so that parallel runs never collide.
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"sharing_test_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield sa.make_url(url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def app(database_url: str) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "LOGIN_RATE_LIMIT": "1000 per minute",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # real hashes, cheap to make
            "INSTANCE_URL": "http://sharing.test",
        }
    )
    with app.app_context():
        upgrade(directory=MIGRATIONS)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_database(app: Flask) -> Iterator[None]:
    yield
    database.empty(app)
    with app.app_context():
        limiter.reset()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    """An application context for tests that call services directly."""
    with app.app_context():
        yield
        db.session.rollback()


@pytest.fixture
def make(app: Flask) -> factories.Factories:
    """Factories that create data through the services: ``make.regie()``, ``make.user()``…"""
    return factories.Factories(app)


@pytest.fixture(scope="session")
def live_server(app: Flask) -> Iterator[str]:
    """The application served over HTTP on 127.0.0.1 (for the browser tests)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def pytest_report_header(config: Any) -> str:
    url = os.environ.get("TEST_DATABASE_URL") or "sqlite (temporary file)"
    return f"database: {sa.make_url(url).render_as_string() if '://' in url else url}"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """``make test`` sets SHARING_FORBID_SKIPS: a skipped database or browser test is a failure."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if os.environ.get("SHARING_FORBID_SKIPS") and skipped:
        reporter.write_line(f"{skipped} test(s) skipped, which make test forbids", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED

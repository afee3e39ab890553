"""Request ids and the structured access log."""

import io
import json
import logging
import re
import uuid

import pytest
from flask import Flask

from sharing import create_app, observability
from sharing.extensions import db


def test_every_response_carries_a_new_request_id(client):
    first = client.get("/healthz").headers["X-Request-Id"]
    second = client.get("/healthz").headers["X-Request-Id"]

    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


def test_a_sane_incoming_request_id_is_kept(client):
    response = client.get("/healthz", headers={"X-Request-Id": "lb-1234.abc_DEF"})

    assert response.headers["X-Request-Id"] == "lb-1234.abc_DEF"


@pytest.mark.parametrize(
    "incoming", ["a" * 65, "with space", "semi;colon", "é", "<script>", "a\\b"]
)
def test_an_odd_incoming_request_id_is_replaced(client, incoming):
    response = client.get("/healthz", headers={"X-Request-Id": incoming})

    assert response.headers["X-Request-Id"] != incoming
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-Id"])


def test_log_records_of_a_request_carry_its_id(client, caplog):
    caplog.set_level(logging.INFO, logger="sharing.access")
    response = client.get("/healthz", headers={"X-Request-Id": "trace-42"})

    records = [r for r in caplog.records if r.name == "sharing.access"]
    assert len(records) == 1
    record = records[0]
    assert record.request_id == "trace-42" == response.headers["X-Request-Id"]
    assert (record.method, record.path, record.status) == ("GET", "/healthz", 200)
    assert record.endpoint == "meta.healthz"
    assert record.duration_ms >= 0


def test_the_filter_gives_every_record_a_request_id(app):
    request_filter = observability.RequestIdFilter()
    outside = logging.makeLogRecord({"msg": "outside"})
    request_filter.filter(outside)
    assert outside.request_id == "-"
    with app.test_request_context("/"):
        observability._start_request()
        inside = logging.makeLogRecord({"msg": "inside"})
        request_filter.filter(inside)
        assert inside.request_id == observability.request_id()


def _json_app(database_url: str) -> tuple[Flask, io.StringIO]:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "LOG_FORMAT": "json",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )
    stream = io.StringIO()
    for handler in logging.getLogger("sharing").handlers:
        if getattr(handler, "_sharing_json", False):
            handler.setStream(stream)  # type: ignore[attr-defined]
    return app, stream


@pytest.fixture
def json_app(app, database_url):
    """An application with LOG_FORMAT=json whose log lines are captured; the session's
    application's logging is put back afterwards."""
    json_app, stream = _json_app(database_url)
    yield json_app, stream
    observability.configure_logging(app)
    with json_app.app_context():
        db.engine.dispose()


def test_json_logs_one_line_per_request_without_secrets(json_app, make):
    app, stream = json_app
    user = make.user("member")
    client = app.test_client()
    token = make.token(user)
    regie_id = uuid.uuid4()

    client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}", "X-Request-Id": "r-1"})
    client.get(f"/api/v1/regies/{regie_id}/calendar.ics?token=s3cr3t-calendar-token-value")
    client.get("/reset/AbCdEf0123456789AbCdEf0123456789xyz")

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    access = [line for line in lines if line["logger"] == "sharing.access"]
    assert len(access) == 3
    me, feed, unknown = access
    assert me["request_id"] == "r-1"
    assert (me["method"], me["path"], me["status"]) == ("GET", "/api/v1/me", 200)
    assert me["user_id"] == str(user.id)
    assert isinstance(me["duration_ms"], float)
    assert feed["path"] == f"/api/v1/regies/{regie_id}/calendar.ics"  # no query string
    assert unknown["path"] == "/reset/***"  # a token-like segment is masked
    everything = stream.getvalue()
    assert token not in everything
    assert "s3cr3t" not in everything
    assert "Authorization" not in everything
    assert "Bearer" not in everything


def test_json_lines_include_ordinary_log_records_with_the_request_id(json_app):
    app, stream = json_app

    @app.get("/_log-something")
    def log_something() -> str:
        app.logger.warning("something happened", extra={"thing": 3})
        return "ok"

    app.test_client().get("/_log-something", headers={"X-Request-Id": "r-2"})

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    warning = next(line for line in lines if line["message"] == "something happened")
    assert warning["level"] == "WARNING"
    assert warning["request_id"] == "r-2"
    assert warning["thing"] == 3


def test_an_unknown_log_format_is_refused(database_url):
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        create_app({"SQLALCHEMY_DATABASE_URI": database_url, "LOG_FORMAT": "xml"})

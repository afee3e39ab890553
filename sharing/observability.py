"""Observability: a request id on every request and log record, one structured log line per
request, and ``/metrics`` in Prometheus' text format.

**Request id.** An incoming ``X-Request-Id`` is kept when it is a sane token (at most 64
characters of ``[A-Za-z0-9._-]``), so that a proxy's id follows the request; otherwise a new
one is made. It is echoed in the response and added to every log record by
``RequestIdFilter``.

**Access log.** With ``LOG_FORMAT = "json"`` the ``sharing`` and ``federation`` loggers write
one JSON object per line on stderr, and every request adds one line (method, path, status,
duration, user id, request id). The path never carries a secret: the query string is dropped
(the calendar feed's token is there) and path segments that look like tokens are masked. No
header or body is logged. The default, ``"plain"``, leaves logging as ``make run`` shows it.

**Metrics.** Request counts and latency histograms are labelled by the Flask endpoint name,
method and status class, never by the raw path (one series per URL would be unbounded).
Bookings by status and the peers' sync state are counted when Prometheus scrapes, from the
database. Under several gunicorn workers each process counts on its own: with
``PROMETHEUS_MULTIPROC_DIR`` set (before the workers start), prometheus_client writes the
counts to files there and ``/metrics`` adds them up (see ``gunicorn.conf.py`` and
docs/operations.md). ``/metrics`` is answered to a bearer token equal to ``METRICS_TOKEN``,
or, without a token configured, to clients on the loopback address only.
"""

import hmac
import json
import logging
import os
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, current_app, g, has_request_context, request
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from sharing.db import UTCDateTime
from sharing.errors import NotFound
from sharing.extensions import db
from sharing.loans import queries as loans_queries
from sharing.security import bearer_token, public

REQUEST_ID_HEADER = "X-Request-Id"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# A path segment that is long and random-looking may be a secret (a token in a URL).
_UUID = re.compile(r"[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}")
_TOKEN_LIKE = re.compile(r"[A-Za-z0-9_~.+=-]{24,}")
_SECRET_ARG_NAMES = ("token", "secret", "key", "password")
# The classic text format, which every Prometheus reads (our names need no escaping); newer
# prometheus_client releases announce version 1.0.0 by default, which older servers may not take.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

access_log = logging.getLogger("sharing.access")
bp = Blueprint("observability", __name__)


# Request id and access log -----------------------------------------------------------------


def request_id() -> str | None:
    """The current request's id, or None outside a request."""
    return g.get("request_id") if has_request_context() else None


def _incoming_request_id() -> str:
    candidate = request.headers.get(REQUEST_ID_HEADER, "")
    return candidate if _SANE_REQUEST_ID.fullmatch(candidate) else uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Give every log record a ``request_id`` attribute ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id() or "-"
        return True


# The attributes of every LogRecord: anything else was passed with ``extra=`` and is logged.
_RECORD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record, with the ``extra=`` fields beside the message."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in vars(record).items():
            if name not in _RECORD_ATTRIBUTES and not name.startswith("_"):
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def safe_path() -> str:
    """The request's path without its query string, with secret-looking segments masked."""
    secrets = {
        str(value)
        for name, value in (request.view_args or {}).items()
        if any(word in name.lower() for word in _SECRET_ARG_NAMES)
    }
    segments = [
        "***"
        if segment in secrets or (_TOKEN_LIKE.fullmatch(segment) and not _UUID.fullmatch(segment))
        else segment
        for segment in request.path.split("/")
    ]
    return "/".join(segments)


def _user_id() -> str | None:
    """The signed-in user's id if this request already loaded it (never loads it for us)."""
    user = g.get("_login_user")
    if user is not None and getattr(user, "is_authenticated", False):
        return str(user.id)
    return None


def _start_request() -> None:
    g.request_id = _incoming_request_id()
    g.request_started = time.perf_counter()


def _finish_request(response: Response) -> Response:
    rid = g.get("request_id") or _incoming_request_id()
    started = g.get("request_started")
    duration = time.perf_counter() - started if started is not None else 0.0
    response.headers[REQUEST_ID_HEADER] = rid
    endpoint = request.endpoint or "none"
    method = request.method if request.method in _METHODS else "other"
    status_class = f"{response.status_code // 100}xx"
    if endpoint != "observability.metrics":  # Prometheus' own polling is not traffic
        REQUESTS.labels(endpoint, method, status_class).inc()
        LATENCY.labels(endpoint, method, status_class).observe(duration)
    if not access_log.isEnabledFor(logging.INFO):
        return response  # the access line would be dropped: do not build it
    path = safe_path()
    access_log.info(
        "%s %s %s",
        request.method,
        path,
        response.status_code,
        extra={
            "request_id": rid,
            "method": request.method,
            "path": path,
            "endpoint": endpoint,
            "status": response.status_code,
            "duration_ms": round(duration * 1000, 2),
            "user_id": _user_id(),
        },
    )
    return response


# Logging configuration --------------------------------------------------------------------

_LOGGERS = ("sharing", "federation")


def configure_logging(app: Flask) -> None:
    """Apply ``LOG_FORMAT``: "json" writes one JSON object per line on stderr; "plain" keeps
    Flask's handler, which gains the request id. Loggers are process-wide: the application
    configured last decides (in practice there is one per process)."""
    from flask.logging import default_handler

    fmt = str(app.config.get("LOG_FORMAT", "plain")).lower()
    if fmt not in ("plain", "json"):
        raise ValueError(f"LOG_FORMAT must be 'plain' or 'json', not {fmt!r}")
    was_json = False
    for name in _LOGGERS:  # undo what an earlier application of this process set up
        logger = logging.getLogger(name)
        ours = [h for h in logger.handlers if getattr(h, "_sharing_json", False)]
        if ours:
            was_json = True
            for handler in ours:
                logger.removeHandler(handler)
            logger.setLevel(logging.NOTSET)
            logger.propagate = True
    if not any(isinstance(f, RequestIdFilter) for f in default_handler.filters):
        default_handler.addFilter(RequestIdFilter())
    if fmt == "plain":
        default_handler.setFormatter(
            logging.Formatter("[%(asctime)s] %(levelname)s [%(request_id)s] %(name)s: %(message)s")
        )
        if was_json and default_handler not in app.logger.handlers:
            app.logger.addHandler(default_handler)
        return
    handler = logging.StreamHandler()
    handler._sharing_json = True  # type: ignore[attr-defined]
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    app.logger.removeHandler(default_handler)
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG if app.debug else logging.INFO)
        logger.propagate = False  # a root handler (gunicorn's, basicConfig) would repeat it


# Metrics -----------------------------------------------------------------------------------

# A registry of our own (not prometheus_client's global one): several applications may be
# built in one process (tests), and these metrics are created once per process.
_REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter(
    "sharing_http_requests_total",
    "HTTP requests answered, by Flask endpoint, method and status class.",
    ["endpoint", "method", "status"],
    registry=_REGISTRY,
)
LATENCY = Histogram(
    "sharing_http_request_duration_seconds",
    "Time from the start of the request's handling to its response, by Flask endpoint.",
    ["endpoint", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=_REGISTRY,
)

_peers = sa.table(
    "federation_peers",
    sa.column("url", sa.String),
    sa.column("paired_at", UTCDateTime),
    sa.column("removed_at", UTCDateTime),
    sa.column("cursor", sa.String),
    sa.column("head_seq", sa.BigInteger),
    sa.column("last_success_at", UTCDateTime),
    sa.column("records_rejected", sa.Integer),
    sa.column("records_quarantined", sa.Integer),
)


@dataclass(frozen=True)
class PeerSync:
    """One active peer's sync state, read from ``federation_peers`` by table name (``sharing``
    does not import ``federation``)."""

    url: str
    paired_at: datetime | None
    last_success_at: datetime | None
    lag: int | None
    rejected: int
    quarantined: int

    def age_seconds(self, now: datetime) -> float | None:
        """Seconds since the last successful sync (since pairing if it never succeeded)."""
        since = self.last_success_at or self.paired_at
        return None if since is None else max((now - _aware(since)).total_seconds(), 0.0)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _cursor_seq(cursor: str | None) -> int:
    """The seq part of a feed cursor ("<epoch>:<seq>"), as ``Peer.cursor_seq`` reads it."""
    try:
        return int(cursor.rpartition(":")[2]) if cursor else 0
    except ValueError:
        return 0


def peer_sync_states() -> list[PeerSync]:
    """The active peers' sync state; an empty list where federation is not migrated."""
    query = sa.select(_peers).where(_peers.c.removed_at.is_(None)).order_by(_peers.c.url)
    try:
        rows = db.session.execute(query).all()
    except SQLAlchemyError:
        db.session.rollback()
        return []
    return [
        PeerSync(
            url=row.url,
            paired_at=row.paired_at,
            last_success_at=row.last_success_at,
            lag=None if row.head_seq is None else max(row.head_seq - _cursor_seq(row.cursor), 0),
            rejected=row.records_rejected or 0,
            quarantined=row.records_quarantined or 0,
        )
        for row in rows
    ]


def _timestamp(moment: datetime | None) -> float:
    return _aware(moment).timestamp() if moment is not None else 0.0


class DatabaseCollector(Collector):
    """Gauges counted from the database when Prometheus scrapes: one GROUP BY for the
    bookings, one SELECT of the peers."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        bookings = GaugeMetricFamily(
            "sharing_bookings", "Bookings on this instance, by status.", labels=["status"]
        )
        try:
            counts = db.session.execute(loans_queries.booking_status_counts()).all()
        except SQLAlchemyError:
            db.session.rollback()
            counts = []
        for status, count in counts:
            bookings.add_metric([str(status)], count)
        yield bookings

        peers = peer_sync_states()
        lag = GaugeMetricFamily(
            "sharing_federation_sync_lag_changes",
            "Changes a peer's feed had that we had not pulled, at our last pull.",
            labels=["peer"],
        )
        success = GaugeMetricFamily(
            "sharing_federation_last_success_timestamp_seconds",
            "When the last sync with a peer succeeded (Unix time; 0: never).",
            labels=["peer"],
        )
        rejected = GaugeMetricFamily(
            "sharing_federation_records_rejected",
            "Records from a peer refused by the origin rule or the apply checks.",
            labels=["peer"],
        )
        quarantined = GaugeMetricFamily(
            "sharing_federation_records_quarantined",
            "Records from a peer kept in quarantine because they failed validation.",
            labels=["peer"],
        )
        for peer in peers:
            if peer.lag is not None:
                lag.add_metric([peer.url], peer.lag)
            success.add_metric([peer.url], _timestamp(peer.last_success_at))
            rejected.add_metric([peer.url], peer.rejected)
            quarantined.add_metric([peer.url], peer.quarantined)
        yield from (lag, success, rejected, quarantined)


def exposition() -> bytes:
    """What one scrape reports: this process's counters (every worker's in multiprocess
    mode), then the database gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counters = CollectorRegistry()
        multiprocess.MultiProcessCollector(counters)
    else:
        counters = _REGISTRY
    gauges = CollectorRegistry()
    gauges.register(DatabaseCollector())
    return generate_latest(counters) + generate_latest(gauges)


def _may_read_metrics() -> bool:
    """A bearer token equal to METRICS_TOKEN; without one configured, loopback clients."""
    expected = current_app.config.get("METRICS_TOKEN")
    if expected:
        given = bearer_token(request) or ""
        return hmac.compare_digest(given.encode(), str(expected).encode())
    return request.remote_addr in {"127.0.0.1", "::1"}


@bp.get("/metrics")
@public  # not a user's endpoint: _may_read_metrics is its own access check
def metrics() -> Response:
    """Prometheus' text exposition format."""
    if not _may_read_metrics():
        raise NotFound("Page introuvable.")  # do not advertise it
    response = Response(exposition(), content_type=CONTENT_TYPE)
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """Install the request id and access log (first, so every request gets them), the
    logging configuration and ``/metrics``."""
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)
    app.after_request(_finish_request)
    configure_logging(app)
    app.register_blueprint(bp)

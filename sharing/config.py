"""Default configuration; every key can be overridden with a ``FLASK_``-prefixed variable."""

from datetime import timedelta


class Config:
    """Defaults for a local instance. ``SQLALCHEMY_DATABASE_URI`` is filled in by the factory."""

    SECRET_KEY = "dev-only-change-me"
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}

    # The public base URL of this instance: QR labels and calendar feeds link to it.
    INSTANCE_URL = "http://127.0.0.1:5000"
    INSTANCE_NAME = "Instance locale"

    BABEL_DEFAULT_LOCALE = "fr"
    BABEL_DEFAULT_TIMEZONE = "Europe/Paris"

    # werkzeug's password hashing; tests use a cheap one, production keeps scrypt.
    PASSWORD_HASH_METHOD = "scrypt"

    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = timedelta(days=14)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # An https:// INSTANCE_URL (or PREFERRED_URL_SCHEME = "https") also makes both cookies
    # Secure and sends Strict-Transport-Security (sharing/headers.py).

    # Flask-Limiter: "memory://" is per process, fine for `make run`; under several workers
    # point FLASK_RATELIMIT_STORAGE_URI at Redis (redis://127.0.0.1:6379/0) so that the limits
    # hold across them. Should Redis be down, each worker counts in memory meanwhile rather
    # than answering 500.
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_KEY_PREFIX = "sharing"
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = "10 per minute"

    # Loans: how long a request holds its slot without a decision.
    LOAN_REQUEST_TTL_HOURS = 72
    # Outgoing e-mail: with no MAIL_SERVER, notifications are written to the log.
    MAIL_SERVER: str | None = None
    MAIL_PORT = 587
    MAIL_USE_TLS = True
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_SENDER = "Mutualisation des Régies <ne-pas-repondre@regies.invalid>"

    # Library attachments: stored by SHA-256 in ATTACHMENTS_DIR (None: "attachments" in the
    # instance folder); larger files are refused with 413. MAX_CONTENT_LENGTH, the limit of a
    # whole request, stays above it so that a multipart upload of the maximum size fits.
    ATTACHMENTS_DIR: str | None = None
    ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024
    MAX_CONTENT_LENGTH = 25 * 1024 * 1024

    # Federation (docs/federation.md). The private key lives in FEDERATION_KEY_DIR (None: the
    # "federation" folder of the instance folder), never in the database.
    FEDERATION_KEY_DIR: str | None = None
    # How far a peer's clock may be from ours when we check a signature's created/expires.
    FEDERATION_CLOCK_SKEW_SECONDS = 60
    # How long our own signatures stay valid (the protocol allows at most 300 s).
    FEDERATION_SIGNATURE_TTL_SECONDS = 300
    # Timeout of one outgoing federation request, connect and read.
    FEDERATION_HTTP_TIMEOUT_SECONDS = 10
    # An unknown key id from a paired peer refetches its identity at most this often.
    FEDERATION_KEY_REFRESH_INTERVAL_SECONDS = 60
    # A peer's replaced key is still accepted this long (signatures already in flight).
    FEDERATION_PREVIOUS_KEY_GRACE_SECONDS = 600
    # Signature failures are kept this long for the status page.
    FEDERATION_SIGNATURE_FAILURE_RETENTION_DAYS = 30
    # Deletions stay in our change feed this long; a peer away longer resyncs fully.
    FEDERATION_TOMBSTONE_RETENTION_DAYS = 180
    # Changes per page a sync asks for (the feed gives at most 500): the most, since each page
    # costs a few statements and a commit of its own.
    FEDERATION_PAGE_SIZE = 500
    # A full resync that would delete more than this share of a peer's records, and at least
    # FEDERATION_MASS_DELETE_MIN of them, stops and waits for an administrator.
    FEDERATION_MASS_DELETE_RATIO = 0.2
    FEDERATION_MASS_DELETE_MIN = 50

    # Observability (docs/operations.md): "plain" log lines, or "json" (one object per line,
    # with a per-request access line). /metrics answers a bearer token equal to METRICS_TOKEN,
    # or, with none set, clients on 127.0.0.1 only.
    LOG_FORMAT = "plain"
    METRICS_TOKEN: str | None = None
    # /healthz says "degraded" when a peer's last successful sync is older than this.
    FEDERATION_SYNC_STALE_SECONDS = 3600

    # Backups (flask backup create): the default folder of the archives (None: "backups" in
    # the instance folder), and where pg_dump/pg_restore are (None: PATH, then the newest
    # /usr/lib/postgresql/*/bin).
    BACKUP_DIR: str | None = None
    PG_BIN_DIR: str | None = None

    API_TITLE = "Mutualisation des Régies — API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    API_SPEC_OPTIONS = {
        "info": {"description": "REST API v1 of the régies' sharing service. See /api/v1/docs."},
        "security": [{"bearerAuth": []}, {"sessionCookie": []}],
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"},
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "session"},
            }
        },
    }

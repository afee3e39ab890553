"""Federation between instances of the network: identity, pairing and signed requests.

The protocol is docs/federation.md: this instance's identity and key (``keys``,
``services``), pairing with key pinning, the RFC 9421 signature profile (``signing``), the
change feed of the records we own (``feed``, ``records``), the pull job that keeps read-only
replicas of our peers' records (``sync``, through the replica services of ``sharing``), and
attachments by hash (``blobs``).

``sharing`` never imports this package; the application factory calls ``init_app``.
"""

import time
from dataclasses import dataclass, field

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from federation.client import HttpTransport, Transport
from sharing.backup import backup_restored

# While an instance has no identity, requests look for one at most this often.
IDENTITY_CHECK_INTERVAL_SECONDS = 30.0


@dataclass
class FederationState:
    """Per-application federation state, in ``app.extensions["federation"]``."""

    transport: Transport = field(default_factory=HttpTransport)
    next_identity_check: float = 0.0


def init_app(app: Flask) -> None:
    """Register the blueprint (outside the API's session and CSRF rules: peers sign their
    requests instead) and the ``flask federation`` commands."""
    from federation import api, bookings, cli, feed, views
    from sharing.extensions import csrf

    feed.install()
    bookings.init_app(app)  # sharing's loans forward bookings of peers' resources through it
    app.extensions["federation"] = FederationState()
    csrf.exempt(api.bp)
    app.register_blueprint(api.bp)
    app.cli.add_command(cli.federation_cli)
    app.before_request(_load_instance_id)
    views.init_app(app)  # the administrator's page, the peers' names on replicas
    backup_restored.connect(_new_epoch_after_restore)  # peers resync a restored history


def _load_instance_id() -> None:
    """Put this instance's id in ``app.config["INSTANCE_ID"]``, where ``sharing`` reads the
    origin of local records, once an identity exists (it may be created by ``flask federation
    init`` in another process while this one runs)."""
    app = current_app
    if app.config.get("INSTANCE_ID"):
        return
    state: FederationState = app.extensions["federation"]
    now = time.monotonic()
    if now < state.next_identity_check:
        return
    state.next_identity_check = now + IDENTITY_CHECK_INTERVAL_SECONDS

    from federation.models import Instance
    from sharing.extensions import db

    try:
        instance_id = db.session.scalar(select(Instance.id))
    except SQLAlchemyError:  # not migrated yet: the request goes on without an identity
        db.session.rollback()
        return
    if instance_id is not None:
        app.config["INSTANCE_ID"] = str(instance_id)


def _new_epoch_after_restore(app: Flask, **_: object) -> None:
    """A restored database replays our change feed from older numbers: a new epoch makes
    every peer resync fully instead of trusting its cursor. The restore commits."""
    from federation import feed, services

    identity = services.get_identity()
    if identity is not None:
        feed.new_epoch(identity)
    app.config["INSTANCE_ID"] = None  # the restored identity is read again
    app.extensions["federation"].next_identity_check = 0.0

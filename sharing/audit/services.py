"""Use cases of the audit log: record an action in the caller's transaction, list for admins.

``record`` only adds and flushes: the row commits (or rolls back) with the action it
describes. The one exception is a failed sign-in, which the sign-in view and the token API
commit on purpose although the request fails.

Nothing here ever stores a password. A failed sign-in with an unknown address stores a keyed
digest of what was typed (someone may type their password in the e-mail field), never the text.
"""

import hashlib
import hmac
import uuid
from typing import Any

from flask import current_app, has_request_context, request
from sqlalchemy import Select

from sharing.audit import queries
from sharing.audit.models import ACTION_LABELS, AuditEvent
from sharing.audit.permissions import can_read_audit_log
from sharing.errors import Forbidden
from sharing.extensions import db

CLI_ACTOR = "cli"
ANONYMOUS_ACTOR = "anonyme"


def record(
    action: str,
    *,
    actor: Any = None,
    actor_label: str | None = None,
    regie_id: uuid.UUID | None = None,
    target: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add one audit row for ``action`` done by ``actor`` (a User, or None outside a session)."""
    if action not in ACTION_LABELS:
        raise ValueError(f"unknown audit action {action!r}")
    if actor_label is None:
        if actor is not None:
            actor_label = actor.email
        else:
            actor_label = ANONYMOUS_ACTOR if has_request_context() else CLI_ACTOR
    if regie_id is None and actor is not None:
        regie_id = actor.regie_id
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        actor=actor_label[:254],
        regie_id=regie_id,
        action=action,
        target=target[:500],
        ip=_client_address(),
        details=details or {},
    )
    db.session.add(event)
    db.session.flush()
    return event


def _client_address() -> str | None:
    """The address the request came from (the proxy's, unless the proxy is configured)."""
    if not has_request_context() or not request.remote_addr:
        return None
    return request.remote_addr[:45]


def email_digest(email: str) -> str:
    """A keyed digest of a typed e-mail: an administrator who knows an address can find its
    failed sign-ins (``email_digest(address)``), but the log never holds the typed text."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(key, email.strip().lower().encode(errors="replace"), hashlib.sha256)
    return digest.hexdigest()[:16]


def record_login_failure(email: str, user: Any, reason: str, *, via: str = "web") -> AuditEvent:
    """A refused sign-in. A known account is named (its real address, not what was typed);
    an unknown address is kept as a digest only."""
    if user is not None:
        return record(
            "login.failure",
            regie_id=user.regie_id,
            target=user.email,
            details={"reason": reason, "account_id": str(user.id), "via": via},
        )
    return record(
        "login.failure",
        target="",
        details={"reason": reason, "email_digest": email_digest(email), "via": via},
    )


def list_events(actor: Any, action: str | None = None) -> Select[Any]:
    """The audit log for an administrator of this instance, newest first."""
    if not can_read_audit_log(actor):
        raise Forbidden("Seuls les administrateurs de l'instance consultent le journal d'audit.")
    return queries.events(action)

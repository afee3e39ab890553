"""Read-only listings of the audit log."""

from typing import Any

from sqlalchemy import Select, select

from sharing.audit.models import AuditEvent


def events(action: str | None = None) -> Select[Any]:
    """The log, newest first, optionally of one action."""
    stmt = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    return stmt

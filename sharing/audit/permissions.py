"""Who may read the audit log."""

from typing import Any


def can_read_audit_log(user: Any) -> bool:
    """The instance's administrators only: the log names people of every régie."""
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "is_admin", False))

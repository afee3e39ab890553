"""Who may see and manage this instance's federation."""

from typing import Any


def can_administer_federation(user: Any) -> bool:
    """The instance's administrators only: the page shows every peer, key and rejection."""
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "is_admin", False))

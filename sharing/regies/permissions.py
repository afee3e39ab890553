"""Who may do what with régies."""

from sharing.accounts.models import User
from sharing.regies.models import Regie


def can_create_regie(user: User) -> bool:
    """Only the instance administrator creates régies."""
    return user.is_admin


def can_edit_regie(user: User, regie: Regie) -> bool:
    """The administrator, or a manager of that régie; replicas are edited at their origin."""
    return regie.is_local and (user.is_admin or (user.is_manager and user.regie_id == regie.id))

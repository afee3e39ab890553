"""Who may manage accounts and tokens."""

from sharing.accounts.models import ApiToken, Role, User
from sharing.regies.models import Regie


def can_create_user(user: User, regie: Regie, role: Role) -> bool:
    """Admins create any account here; managers add managers and members to their own régie."""
    if not regie.is_local:
        return False
    if user.is_admin:
        return True
    return (
        user.role is Role.MANAGER
        and user.regie_id == regie.id
        and role in (Role.MANAGER, Role.MEMBER)
    )


def can_list_users(user: User, regie: Regie) -> bool:
    """Admins see every account; managers see their own régie's staff."""
    return user.is_admin or (user.is_manager and user.regie_id == regie.id)


def can_revoke_token(user: User, token: ApiToken) -> bool:
    """A token belongs to its owner alone."""
    return token.user_id == user.id

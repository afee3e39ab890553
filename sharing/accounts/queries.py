"""Read-only queries over accounts."""

import uuid
from typing import Any

from sqlalchemy import Select, select

from sharing.accounts.models import User


def users(regie_id: uuid.UUID | None = None) -> Select[Any]:
    """Accounts, optionally of one régie, by name."""
    stmt = select(User).order_by(User.name)
    if regie_id is not None:
        stmt = stmt.where(User.regie_id == regie_id)
    return stmt

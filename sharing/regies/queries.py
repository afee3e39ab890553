"""Read-only queries over régies."""

import uuid
from typing import Any

from sqlalchemy import Select, select

from sharing.regies.models import Regie
from sharing.search import matches_all_words


def regies(q: str | None = None, instance: str | None = None) -> Select[Any]:
    """Régies known here, local and replicated, filtered by text and instance."""
    stmt = select(Regie).order_by(Regie.name)
    if q:
        stmt = stmt.where(matches_all_words(Regie.search_text, q))
    if instance == "local":
        stmt = stmt.where(Regie.origin_instance_id.is_(None))
    elif instance:
        stmt = stmt.where(Regie.origin_instance_id == uuid.UUID(instance))
    return stmt


def origin_instances() -> Select[Any]:
    """The other instances whose régies are replicated here: their ids, once each."""
    return select(Regie.origin_instance_id).where(Regie.origin_instance_id.is_not(None)).distinct()

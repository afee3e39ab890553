"""Read-only queries over the catalogue."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select

from sharing.catalogue.models import Resource, ResourceStatus
from sharing.db import utcnow
from sharing.loans.queries import is_free_between
from sharing.regies.models import Regie
from sharing.search import matches


def resources(
    *,
    q: str | None = None,
    category: str | None = None,
    regie: uuid.UUID | None = None,
    instance: str | None = None,
    status: ResourceStatus | None = None,
    available_from: datetime | None = None,
    available_to: datetime | None = None,
) -> Select[Any]:
    """The catalogue, filtered; the best matches first when searched for words, else by name.
    Retired resources only appear when asked for by status. A search for nothing but stop
    words or punctuation finds nothing."""
    stmt = select(Resource).join(Resource.regie)
    if q and q.strip():
        found = matches("resource", q).subquery()
        stmt = stmt.join(found, found.c.record_id == Resource.id).order_by(found.c.rank.desc())
    stmt = stmt.order_by(Resource.name, Resource.id)
    if category:
        stmt = stmt.where(Resource.category == category)
    if regie:
        stmt = stmt.where(Resource.regie_id == regie)
    if instance == "local":
        stmt = stmt.where(Regie.origin_instance_id.is_(None))
    elif instance:
        stmt = stmt.where(Regie.origin_instance_id == uuid.UUID(instance))
    if available_from is not None and available_to is not None:
        stmt = stmt.where(
            Resource.status == ResourceStatus.AVAILABLE,
            is_free_between(Resource.id, available_from, available_to, utcnow()),
        )
    if status:
        stmt = stmt.where(Resource.status == status)
    else:
        stmt = stmt.where(Resource.status != ResourceStatus.RETIRED)
    return stmt


def regie_inventory(regie_id: uuid.UUID) -> Select[Any]:
    """A régie's own resources, retired ones included, for export and management."""
    return (
        select(Resource).where(Resource.regie_id == regie_id).order_by(Resource.name, Resource.id)
    )


def status_counts(regie_id: uuid.UUID) -> Select[Any]:
    """How many of a régie's resources are in each status: rows of ``(status, count)``."""
    return (
        select(Resource.status, func.count())
        .where(Resource.regie_id == regie_id)
        .group_by(Resource.status)
    )

"""Resources owned by other instances, as their feeds describe them. Called by the federation
sync once the record's shape is checked (``federation.records``); the caller commits."""

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from sharing import search
from sharing.catalogue.models import Resource, ResourceStatus
from sharing.catalogue.services import _index
from sharing.extensions import db
from sharing.loans.models import Booking
from sharing.regies.models import Regie
from sharing.replicas import Applied, held_or_new, owning_regie, require_origin

FIELDS = (
    "name",
    "description",
    "category",
    "condition",
    "location",
    "status",
    "deposit_eur",
    "replacement_value_eur",
    "max_loan_days",
    "min_notice_hours",
    "requirements",
)


def apply_resource(
    origin: uuid.UUID,
    data: dict[str, Any],
    known: Mapping[uuid.UUID, Resource] | None = None,
    regie: Regie | None = None,
) -> tuple[Resource, Applied]:
    """Create or update the replica of a resource of a régie hosted by ``origin``.
    ``known``: the resources of the caller's batch already read, by id (absent: not here);
    ``regie``: its régie, if the caller has it. Written at the caller's next flush."""
    regie = owning_regie(origin, data, regie, "La régie de ce matériel")
    resource, outcome = held_or_new(Resource, origin, data, known, "Ce matériel")
    if outcome is Applied.UNCHANGED:
        return resource, outcome
    resource.regie = regie
    for name in FIELDS:
        setattr(resource, name, data[name])
    resource.version = data["version"]
    _index(resource)
    return resource, outcome


def remove_resource(origin: uuid.UUID, resource_id: uuid.UUID) -> Applied:
    """A resource its origin no longer lists: gone, or retired when bookings here refer to it
    (the loan history keeps its name)."""
    resource = db.session.get(Resource, resource_id)
    if resource is None:
        return Applied.UNCHANGED
    require_origin(resource.regie.origin_instance_id, origin, "Ce matériel")
    if db.session.scalar(select(Booking.id).where(Booking.resource_id == resource.id).limit(1)):
        resource.status = ResourceStatus.RETIRED
    else:
        search.remove_record("resource", resource.id)
        db.session.delete(resource)
    db.session.flush()
    return Applied.DELETED

"""Resources owned by other instances, as their feeds describe them. Called by the federation
sync once the record's shape is checked (``federation.records``); the caller commits.
``apply_resource`` creates or updates one; ``add_resource`` adds one known to be new, as rows
written with the rest of its batch."""

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from sharing import search
from sharing.catalogue.models import Resource, ResourceStatus
from sharing.catalogue.services import _index, searchable
from sharing.db import utcnow
from sharing.extensions import db
from sharing.loans.models import Booking
from sharing.regies.models import Regie
from sharing.replicas import Applied, NewReplicas, held_or_new, owning_regie, require_origin

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


def add_resource(
    origin: uuid.UUID, data: dict[str, Any], regie: Regie, new: NewReplicas
) -> Applied:
    """Add the replica of a resource this instance does not hold (the caller knows), of
    ``regie``, hosted by ``origin``: a row of ``new``, inserted when the caller writes it."""
    require_origin(regie.origin_instance_id, origin, "La régie de ce matériel")
    now = utcnow()
    row = {name: data[name] for name in FIELDS} | {
        "id": data["id"],
        "regie_id": regie.id,
        "version": data["version"],
        "created_at": data.get("created_at") or now,
        "updated_at": now,
    }
    new.add(data["id"], {Resource: [row]})
    title, body = searchable(
        data["name"], data["description"], data["category"], data["location"], data["requirements"]
    )
    search.index_record("resource", data["id"], title, body)
    return Applied.ADDED


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

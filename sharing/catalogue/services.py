"""Use cases for the equipment catalogue. Services flush; the caller commits."""

import uuid
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select

from sharing import search
from sharing.accounts.models import User
from sharing.catalogue.models import CATEGORIES, Resource, ResourceStatus
from sharing.catalogue.permissions import can_create_resource, can_edit_resource
from sharing.errors import Conflict, Forbidden, NotFound
from sharing.extensions import db


def get_resource(resource_id: uuid.UUID | str) -> Resource:
    """A resource by id; the catalogue is visible to every signed-in user."""
    try:
        key = resource_id if isinstance(resource_id, uuid.UUID) else uuid.UUID(resource_id)
    except ValueError:
        raise NotFound("Ce matériel n'existe pas.") from None
    resource = db.session.get(Resource, key)
    if resource is None:
        raise NotFound("Ce matériel n'existe pas.")
    return resource


def create_resource(actor: User, data: dict[str, Any]) -> Resource:
    """List a new piece of equipment for the actor's régie."""
    if not can_create_resource(actor):
        raise Forbidden("Seuls les responsables de régie ajoutent du matériel.")
    resource = Resource(regie=actor.regie, **data)
    db.session.add(resource)
    db.session.flush()
    _index(resource)
    return resource


def update_resource(actor: User, resource: Resource, data: dict[str, Any]) -> Resource:
    """Change a resource; its version increases when anything changed."""
    _require_editable(actor, resource)
    changed = False
    for key, value in data.items():
        if getattr(resource, key) != value:
            setattr(resource, key, value)
            changed = True
    if changed:
        resource.version += 1
    db.session.flush()
    if changed:
        _index(resource)
    return resource


def retire_resource(actor: User, resource: Resource) -> None:
    """Take a resource out of the catalogue for good; it stays for the loan history."""
    if resource.status is ResourceStatus.RETIRED and can_edit_resource(actor, resource):
        return
    _require_editable(actor, resource)
    resource.status = ResourceStatus.RETIRED
    resource.version += 1
    db.session.flush()


def put_in_maintenance(resource: Resource) -> None:
    """Take a damaged resource out of lending until its owner puts it back (no actor: it
    follows from a return recorded as damaged)."""
    if resource.status == ResourceStatus.AVAILABLE:
        resource.status = ResourceStatus.MAINTENANCE
        resource.version += 1
        db.session.flush()


def _index(resource: Resource) -> None:
    # Retired resources stay indexed: the catalogue's status filter hides them, and they are
    # found again when asked for by status.
    search.index_record("resource", resource.id, *_searchable(resource))


def _searchable(resource: Resource) -> tuple[str, str]:
    return searchable(
        resource.name,
        resource.description,
        resource.category,
        resource.location,
        resource.requirements,
    )


def searchable(
    name: str, description: str, category: str, location: str, requirements: str
) -> tuple[str, str]:
    """A resource's title and body for the search index."""
    body = (description, CATEGORIES.get(category, category), location, requirements)
    return name, "\n".join(part for part in body if part)


def _all_resources() -> Iterator[tuple[uuid.UUID, str, str]]:
    for resource in db.session.scalars(select(Resource).execution_options(yield_per=500)):
        yield resource.id, *_searchable(resource)


search.register_kind("resource", _all_resources)


def _require_editable(actor: User, resource: Resource) -> None:
    if not resource.is_local:
        raise Conflict(
            "Ce matériel appartient à une autre instance : modifiez-le là-bas.",
            code="read_only_replica",
        )
    if not can_edit_resource(actor, resource):
        raise Forbidden("Seuls les responsables de la régie propriétaire modifient ce matériel.")
    if resource.status is ResourceStatus.RETIRED:
        raise Conflict("Ce matériel est retiré du catalogue.", code="resource_retired")

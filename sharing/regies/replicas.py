"""Régies owned by other instances, as their feeds describe them. Called by the federation
sync; the caller checked the record's shape (``federation.records``) and commits."""

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from sharing.catalogue.models import Resource
from sharing.extensions import db
from sharing.library.models import Document
from sharing.loans.models import Booking
from sharing.regies.models import Regie
from sharing.regies.services import _refresh_search_text, slug_taken
from sharing.replicas import Applied, require_origin

FIELDS = ("name", "city", "postcode", "timezone", "contact_email", "contact_phone")


def apply_regie(
    origin: uuid.UUID, data: dict[str, Any], known: Mapping[uuid.UUID, Regie] | None = None
) -> tuple[Regie, Applied]:
    """Create or update the replica of a régie hosted by ``origin`` when ``data`` is newer.
    ``known``: the régies of the caller's batch already read, by id (absent: not here)."""
    regie = known.get(data["id"]) if known is not None else db.session.get(Regie, data["id"])
    if regie is not None:
        require_origin(regie.origin_instance_id, origin, "Cette régie")
        if data["version"] <= regie.version:
            return regie, Applied.UNCHANGED
        outcome = Applied.UPDATED
    else:
        regie = Regie(id=data["id"], origin_instance_id=origin, slug=_free_slug(data, origin))
        db.session.add(regie)
        outcome = Applied.ADDED
    for name in FIELDS:
        setattr(regie, name, data.get(name))
    regie.version = data["version"]
    _refresh_search_text(regie)
    return regie, outcome  # written at the caller's next flush (sync: once per page)


def remove_regie(origin: uuid.UUID, regie_id: uuid.UUID) -> Applied:
    """Forget a replicated régie its origin no longer has, unless something here still refers
    to it (its loan history): then it stays, as a name in that history."""
    regie = db.session.get(Regie, regie_id)
    if regie is None:
        return Applied.UNCHANGED
    require_origin(regie.origin_instance_id, origin, "Cette régie")
    for model, column in (
        (Resource, Resource.regie_id),
        (Document, Document.regie_id),
        (Booking, Booking.borrower_regie_id),
        (Booking, Booking.lender_regie_id),
    ):
        if db.session.scalar(select(model.id).where(column == regie.id).limit(1)):
            return Applied.UNCHANGED
    db.session.delete(regie)
    db.session.flush()
    return Applied.DELETED


def _free_slug(data: dict[str, Any], origin: uuid.UUID) -> str:
    """The origin's slug, unless a régie here already has it (slugs are unique per instance,
    not across the network): then it gets its origin's first characters."""
    slug = str(data["slug"])
    if not slug_taken(slug):
        return slug
    return f"{slug[:70]}-{origin.hex[:8]}"

"""Use cases for régies. Services check permissions, apply rules and flush; callers commit."""

import uuid
from typing import Any

from sqlalchemy import select

from sharing.accounts.models import User
from sharing.errors import Conflict, Forbidden, Invalid, NotFound
from sharing.extensions import db
from sharing.regies.models import Regie
from sharing.regies.permissions import can_create_regie, can_edit_regie
from sharing.search import searchable


def get_regie(regie_id: uuid.UUID | str) -> Regie:
    """A régie by id; every signed-in user may see every régie's public card."""
    regie = db.session.get(Regie, _as_uuid(regie_id))
    if regie is None:
        raise NotFound("Cette régie n'existe pas.")
    return regie


def get_regie_by_slug(slug: str) -> Regie:
    regie = db.session.scalar(select(Regie).where(Regie.slug == slug))
    if regie is None:
        raise NotFound(f"Aucune régie n'a l'identifiant « {slug} ».")
    return regie


def create_regie(actor: User | None, data: dict[str, Any]) -> Regie:
    """Create a local régie. ``actor`` None means the instance's shell (CLI)."""
    if actor is not None and not can_create_regie(actor):
        raise Forbidden("Seul l'administrateur de l'instance peut créer une régie.")
    _check_slug_free(data["slug"])
    regie = Regie(**data)
    _refresh_search_text(regie)
    db.session.add(regie)
    db.session.flush()
    return regie


def update_regie(actor: User, regie: Regie, data: dict[str, Any]) -> Regie:
    """Change a régie's card; its version increases when anything changed."""
    if not regie.is_local:
        raise Conflict(
            "Cette régie appartient à une autre instance : modifiez-la là-bas.",
            code="read_only_replica",
        )
    if not can_edit_regie(actor, regie):
        raise Forbidden("Vous ne pouvez pas modifier cette régie.")
    if "slug" in data and data["slug"] != regie.slug:
        _check_slug_free(data["slug"])
    changed = False
    for key, value in data.items():
        if getattr(regie, key) != value:
            setattr(regie, key, value)
            changed = True
    if changed:
        regie.version += 1
        _refresh_search_text(regie)
    db.session.flush()
    return regie


def slug_taken(slug: str) -> bool:
    """Whether a régie here has ``slug`` (slugs are unique per instance)."""
    return db.session.scalar(select(Regie.id).where(Regie.slug == slug)) is not None


def _check_slug_free(slug: str) -> None:
    if slug_taken(slug):
        raise Invalid(
            "Cet identifiant est déjà pris.", fields={"slug": ["Cet identifiant est déjà pris."]}
        )


def _refresh_search_text(regie: Regie) -> None:
    regie.search_text = searchable(regie.name, regie.city, regie.slug, regie.postcode)


def _as_uuid(value: uuid.UUID | str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound("Identifiant inconnu.") from None

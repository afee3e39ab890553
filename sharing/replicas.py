"""What the replica services of every domain share: the outcome of applying a record that
another instance owns, the refusal of a record its sender does not own, and finding the
replica a record describes."""

import enum
import uuid
from collections.abc import Mapping
from typing import Any, Protocol, TypeVar

from sharing.db import utcnow
from sharing.errors import Forbidden, Invalid
from sharing.extensions import db
from sharing.regies.models import Regie


class _OwnedByARegie(Protocol):
    regie: Regie
    version: int

    def __init__(self, **fields: Any) -> None: ...


R = TypeVar("R", bound=_OwnedByARegie)


class Applied(enum.StrEnum):
    ADDED = "added"
    UPDATED = "updated"
    UNCHANGED = "unchanged"  # the same or an older version: nothing to do
    DELETED = "deleted"


class NotTheOrigin(Forbidden):
    """The sender is not the instance that owns this record (docs/federation.md §2.3)."""

    code = "origin_mismatch"


def require_origin(current: uuid.UUID | None, origin: uuid.UUID, what: str) -> None:
    """A record may only be changed by the instance it came from; local ones never."""
    if current != origin:
        owner = "cette instance" if current is None else f"l'instance {current}"
        raise NotTheOrigin(f"{what} appartient à {owner}, pas à l'instance {origin}.")


def owning_regie(origin: uuid.UUID, data: dict[str, Any], regie: Regie | None, what: str) -> Regie:
    """The régie a resource or document record belongs to, which ``origin`` must host."""
    regie = regie if regie is not None else db.session.get(Regie, data["regie_id"])
    if regie is None:
        raise Invalid("Régie inconnue.", fields={"regie_id": ["Régie inconnue."]})
    require_origin(regie.origin_instance_id, origin, what)
    return regie


def held_or_new(
    model: type[R],
    origin: uuid.UUID,
    data: dict[str, Any],
    known: Mapping[uuid.UUID, R] | None,
    what: str,
) -> tuple[R, Applied]:
    """The replica ``data`` describes: the one held here (UNCHANGED when ``data`` is not
    newer, UPDATED otherwise), or a new one added to the session (ADDED)."""
    record = known.get(data["id"]) if known is not None else db.session.get(model, data["id"])
    if record is not None:
        require_origin(record.regie.origin_instance_id, origin, what)
        newer = data["version"] > record.version
        return record, Applied.UPDATED if newer else Applied.UNCHANGED
    record = model(id=data["id"], created_at=data.get("created_at") or utcnow())
    db.session.add(record)
    return record, Applied.ADDED

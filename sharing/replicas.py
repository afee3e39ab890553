"""What the replica services of every domain share: the outcome of applying a record that
another instance owns, and the refusal of a record its sender does not own."""

import enum
import uuid

from sharing.errors import Forbidden


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

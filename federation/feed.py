"""The change feed this instance publishes (docs/federation.md §7).

Every transaction that creates, changes or deletes a record this instance owns (a local
régie, one of their resources or documents) writes, just before it commits, one row per record
in ``federation_changes`` with a new sequence number. Nothing in ``sharing`` has to remember
to do it: ``install`` listens to the session.

**Commit order.** The next numbers come from one counter row, updated in the writing
transaction. The update locks the row until that transaction commits or rolls back, so a
second writer waits, and gets a higher number, only after the first one's rows are visible.
A reader that saw seq N can therefore never see a smaller seq appear later (a database
sequence would allow it: numbers are taken at insert time, not at commit). The cost is that
writers of federated records commit one at a time; they are a handful per minute.

**Compaction.** One row per record (its latest change): a record changed while a peer pages
through the feed moves past the peer's cursor and is read again, never missed.

**Tombstones** (``op = "delete"``) stay ``FEDERATION_TOMBSTONE_RETENTION_DAYS``; purging them
raises ``purged_seq``, and a cursor below it answers 410 ``cursor_expired``.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, event, func, inspect, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from federation import records
from federation.models import Change, FeedCounter, Instance
from sharing.catalogue.models import Resource
from sharing.db import utcnow
from sharing.errors import DomainError
from sharing.extensions import db
from sharing.library.models import Attachment, Document
from sharing.regies.models import Regie

UPSERT, DELETE = "upsert", "delete"
MAX_PAGE = 500
DEFAULT_PAGE = 100

_PENDING = "federation_changed"


class CursorExpired(DomainError):
    status = 410
    code = "cursor_expired"


class BadCursor(DomainError):
    status = 400
    code = "invalid_query"


# Recording local changes ------------------------------------------------------------------


def install() -> None:
    """Listen to every session (once per process, whatever the number of applications)."""
    if not event.contains(Session, "after_flush", _collect):
        event.listen(Session, "after_flush", _collect)
        event.listen(Session, "before_commit", _write_changes)
        event.listen(Session, "after_rollback", _forget)


def _collect(session: Session, _context: Any) -> None:
    """Note the federated records this flush created, versioned or deleted (their locality
    is checked at commit, when their régie is surely loaded)."""
    pending: dict[tuple[str, uuid.UUID], Any] = session.info.setdefault(_PENDING, {})
    # Read once: each read of Session.new or .deleted builds a new set of every such object,
    # and asking it of each object made a flush of a sync page quadratic.
    new, dirty, deleted = session.new, session.dirty, session.deleted
    for obj in (*new, *dirty, *deleted):
        if isinstance(obj, Attachment):
            obj = obj.document  # a new attachment changes its document's record
        record_type = records.TYPES.get(type(obj))
        if record_type is None:
            continue
        state = inspect(obj)
        if obj in new or obj in deleted or _changed(state):
            pending[(record_type, obj.id)] = obj


def _changed(state: Any) -> bool:
    # A version set to a SQL expression (``version = Model.version + 1``) has no history
    # after the flush: the flush expired it, so an unloaded version means it was just set.
    return "version" in state.unloaded or any(
        state.attrs[name].history.has_changes()
        for name in ("version", "deleted_at")
        if name in state.attrs
    )


def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)


def _write_changes(session: Session) -> None:
    # before_commit runs before the commit's own flush: flush first, or a change made
    # since the last flush (an edit committed without one) would never be published.
    session.flush()
    pending: dict[tuple[str, uuid.UUID], Any] = session.info.pop(_PENDING, {})
    if not pending:
        return
    rows = []
    for (record_type, record_id), obj in pending.items():
        if not _is_local(obj):
            continue
        gone = inspect(obj).deleted or inspect(obj).was_deleted or getattr(obj, "deleted_at", None)
        rows.append(
            {
                "record_type": record_type,
                "record_id": record_id,
                "op": DELETE if gone else UPSERT,
                "version": obj.version,
                "changed_at": utcnow(),
            }
        )
    if not rows:
        return
    last = _take_numbers(session, len(rows))
    for offset, row in enumerate(rows):
        row["seq"] = last - len(rows) + 1 + offset
    insert = _insert_for(session)(Change).values(rows)
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["record_type", "record_id"],
            set_={name: insert.excluded[name] for name in ("seq", "op", "version", "changed_at")},
        )
    )


def _is_local(obj: Any) -> bool:
    if isinstance(obj, Regie):
        return obj.is_local
    if isinstance(obj, Resource | Document):
        regie = obj.regie or db.session.get(Regie, obj.regie_id)
        return regie is not None and regie.is_local
    return False


def _take_numbers(session: Session, count: int) -> int:
    """Reserve ``count`` numbers; the last one. Locks the counter row until commit."""
    insert = _insert_for(session)(FeedCounter).values(id=1, last_seq=count, purged_seq=0)
    statement = insert.on_conflict_do_update(
        index_elements=["id"], set_={"last_seq": FeedCounter.last_seq + count}
    ).returning(FeedCounter.last_seq)
    return int(session.execute(statement).scalar_one())


def _insert_for(session: Session) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


# Reading the feed -------------------------------------------------------------------------


@dataclass
class FeedPage:
    instance_id: uuid.UUID
    epoch: uuid.UUID
    head: int
    changes: list[dict[str, Any]]
    next: str
    has_more: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "instance_id": str(self.instance_id),
            "epoch": str(self.epoch),
            "head": self.head,
            "changes": self.changes,
            "next": self.next,
            "has_more": self.has_more,
        }


def cursor_for(epoch: uuid.UUID, seq: int) -> str:
    return f"{epoch}:{seq}"


def parse_cursor(identity: Instance, since: str | None) -> int:
    """The seq after which to read; 410 when the cursor is from another epoch or older than
    the purged tombstones."""
    if not since:
        return 0
    epoch, _, seq_text = since.partition(":")
    try:
        seq = int(seq_text)
        cursor_epoch = uuid.UUID(epoch)
    except ValueError:
        raise BadCursor("Curseur illisible.", details={"since": since}) from None
    if seq < 0:
        raise BadCursor("Curseur illisible.", details={"since": since})
    if cursor_epoch != identity.epoch:
        raise CursorExpired(
            "L'historique de cette instance a été réinitialisé : resynchronisez tout.",
            details={"epoch": str(identity.epoch)},
        )
    counter = db.session.get(FeedCounter, 1)
    if counter is not None and 0 < seq < counter.purged_seq:
        raise CursorExpired(
            "Ce curseur est plus ancien que les suppressions conservées : resynchronisez tout.",
            details={"purged_seq": counter.purged_seq},
        )
    return seq


def read_page(identity: Instance, since: str | None, limit: int = DEFAULT_PAGE) -> FeedPage:
    """The changes after ``since``, oldest first, each with its record's current state."""
    after = parse_cursor(identity, since)
    counter = db.session.get(FeedCounter, 1)  # read by parse_cursor already: no query
    head = counter.last_seq if counter is not None else 0
    found = list(
        db.session.scalars(
            select(Change).where(Change.seq > after).order_by(Change.seq).limit(limit + 1)
        )
    )
    has_more = len(found) > limit
    found = found[:limit]
    loaded: dict[str, dict[uuid.UUID, Any]] = {}
    for record_type in records.MODELS:
        ids = [c.record_id for c in found if c.record_type == record_type and c.op == UPSERT]
        loaded[record_type] = records.load_many(record_type, ids) if ids else {}
    changes = []
    for change in found:
        record = loaded[change.record_type].get(change.record_id)
        entry = {
            "seq": change.seq,
            "type": change.record_type,
            "id": str(change.record_id),
            "op": change.op,
            "version": change.version,
            "data": None,
        }
        if change.op == UPSERT and record is not None and not getattr(record, "deleted_at", None):
            entry["data"] = records.DUMPERS[change.record_type](record)
            entry["version"] = record.version  # it may have changed since: state is newer
        else:
            entry["op"] = DELETE
        changes.append(entry)
    last = found[-1].seq if found else after
    return FeedPage(
        instance_id=identity.id,
        epoch=identity.epoch,
        head=max(head, last),
        changes=changes,
        next=cursor_for(identity.epoch, last),
        has_more=has_more,
    )


def purge_tombstones(now: datetime | None = None) -> int:
    """Forget tombstones older than the retention; the caller commits."""
    now = now or utcnow()
    days = int(current_app.config["FEDERATION_TOMBSTONE_RETENTION_DAYS"])
    old = (Change.op == DELETE) & (Change.changed_at < now - timedelta(days=days))
    highest = db.session.scalar(select(func.max(Change.seq)).where(old))
    if highest is None:
        return 0
    purged = db.session.execute(delete(Change).where(old)).rowcount  # type: ignore[attr-defined]
    counter = db.session.get(FeedCounter, 1)
    if counter is not None:
        counter.purged_seq = max(counter.purged_seq, highest)
    return int(purged)


def new_epoch(identity: Instance) -> None:
    """Declare this instance's history reset (after a restore): peers resync everything."""
    identity.epoch = uuid.uuid4()

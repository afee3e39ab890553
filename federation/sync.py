"""Pulling peers' change feeds into read-only replicas (docs/federation.md §8).

One page at a time: the page's records are applied **and the new cursor stored in one
transaction**, so a crash replays a page and never skips one. Applying is version-gated and
idempotent (replaying, duplicating or reordering pages changes nothing), goes through the
replica services of each domain (search index, versions, invariants), and follows the origin
rule: a peer may only send records of régies it hosts. A record that fails validation is
quarantined and the page goes on; a record from the wrong origin is rejected and logged.

A full resync (cursor expired, new epoch, or asked for) reads the feed from the start, noting
what it lists; at the end, what we hold of that origin and it did not list is deleted, unless
that is more than ``FEDERATION_MASS_DELETE_RATIO`` of it (and at least
``FEDERATION_MASS_DELETE_MIN`` records): then the resync stops there and waits for an
administrator (``flask federation sync --peer URL --allow-mass-delete``).
"""

import logging
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask import current_app
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import SQLAlchemyError

from federation import feed, records, services
from federation.client import FederationClient, FederationError, PreparedRequest
from federation.models import Peer, QuarantinedRecord, ReplicaTombstone, ResyncSeen
from sharing import search
from sharing.catalogue import replicas as catalogue_replicas
from sharing.catalogue.models import Resource
from sharing.db import utcnow
from sharing.errors import DomainError
from sharing.extensions import db
from sharing.library import files
from sharing.library import replicas as library_replicas
from sharing.library.models import Attachment, Document
from sharing.regies import replicas as regie_replicas
from sharing.regies.models import Regie
from sharing.replicas import Applied, NewReplicas, NotTheOrigin

log = logging.getLogger(__name__)

CHANGES_PATH = "/federation/v1/changes"
BLOBS_PATH = "/federation/v1/blobs/"

APPLY: dict[str, Callable[..., tuple[Any, Applied]]] = {
    records.REGIE: regie_replicas.apply_regie,
    records.RESOURCE: catalogue_replicas.apply_resource,
    records.DOCUMENT: library_replicas.apply_document,
}
# Records of a régie that a page adds (not held here), as rows inserted together: NewReplicas.
ADD: dict[str, Callable[[uuid.UUID, dict[str, Any], Regie, NewReplicas], Applied]] = {
    records.RESOURCE: catalogue_replicas.add_resource,
    records.DOCUMENT: library_replicas.add_document,
}
REMOVE: dict[str, Callable[[uuid.UUID, uuid.UUID], Applied]] = {
    records.REGIE: regie_replicas.remove_regie,
    records.RESOURCE: catalogue_replicas.remove_resource,
    records.DOCUMENT: library_replicas.remove_document,
}


class ChangeSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    seq = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    type = fields.String(required=True)
    id = fields.UUID(required=True)
    op = fields.String(required=True, validate=validate.OneOf(["upsert", "delete"]))
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    data = fields.Dict(allow_none=True, load_default=None)


CHANGE = ChangeSchema()


class PageSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    instance_id = fields.UUID(required=True)
    epoch = fields.UUID(required=True)
    head = fields.Integer(required=True, strict=True)
    changes = fields.List(fields.Raw(), required=True)
    next = fields.String(required=True, validate=validate.Length(min=1, max=100))
    has_more = fields.Boolean(required=True)


@dataclass
class SyncReport:
    """What one pull of one peer did."""

    peer_url: str
    pages: int = 0
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("added", "updated", "deleted", "unchanged", "quarantined", "rejected"), 0
        )
    )
    blobs_fetched: int = 0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def count(self, what: str) -> None:
        self.counts[what] += 1


class SyncStopped(Exception):
    """The pull cannot go on (the peer answered something we cannot use, or a mass deletion
    waits for an administrator)."""


def sync_peer(
    peer: Peer, client: FederationClient, *, allow_mass_delete: bool = False, full: bool = False
) -> SyncReport:
    """Pull ``peer`` until its feed has nothing more, then fetch the attachments it owes us.
    Records the outcome on the peer (last success or error, counters); commits per page."""
    report = SyncReport(peer.url)
    try:
        if full:
            _start_resync(peer, "asked for")
        with _ReadAhead(client) as pages:
            while _pull_one_page(peer, pages, report, allow_mass_delete=allow_mass_delete):
                pass
        report.blobs_fetched = fetch_pending_blobs(peer, client)
    except (FederationError, SyncStopped) as error:
        db.session.rollback()
        report.error = str(error)
        peer.last_error_at, peer.last_error = utcnow(), report.error
        log.warning("sync with %s failed: %s", peer.url, report.error)
    else:
        peer.last_success_at, peer.last_error = utcnow(), None
    db.session.commit()
    return report


class _ReadAhead:
    """Reads feed pages (``_read_page``), the next one in a thread while the caller applies
    this one: the peer prepares it and the thread checks its records meanwhile. The page read
    ahead is used only if the caller then asks for the same URL (the cursor it committed is
    the page's ``next``), else it is dropped."""

    def __init__(self, client: FederationClient):
        self.client = client
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="feed-read-ahead")
        self._ahead: tuple[str, Future[dict[str, Any]]] | None = None

    def __enter__(self) -> "_ReadAhead":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def get(self, url: str) -> dict[str, Any]:
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead[0] == url:
            return ahead[1].result()
        return _read_page(self.client, self.client.prepare("GET", url))

    def read_ahead(self, url: str) -> None:
        request = self.client.prepare("GET", url)  # signed here: that needs the application
        self._ahead = (url, self._pool.submit(_read_page, self.client, request))


def _read_page(client: FederationClient, request: PreparedRequest) -> dict[str, Any]:
    """Fetch a feed page and check its changes (``checked``: a ``_Checked`` each). Uses the
    network and the schemas only, not the application: it may run in a thread."""
    response = client.send(request)
    try:
        page: dict[str, Any] = PageSchema().load(response.json())
    except (ValueError, ValidationError) as error:
        raise SyncStopped(f"unreadable feed page ({error})") from None
    reader = records.RecordReader()
    page["checked"] = [_check(raw, reader) for raw in page["changes"]]
    return page


@dataclass
class _Checked:
    """A change of a page as received (``raw``): its envelope, or None if that is invalid;
    for an upsert, its record loaded, or the reason the envelope or record is invalid."""

    raw: Any
    change: dict[str, Any] | None = None
    record: dict[str, Any] | None = None
    error: ValidationError | None = None


def _check(raw: Any, reader: records.RecordReader) -> _Checked:
    try:
        change = CHANGE.load(raw)
    except ValidationError as error:
        return _Checked(raw, error=error)
    checked = _Checked(raw, change)
    if change["op"] != "upsert" or change["type"] not in records.MODELS:
        return checked
    try:
        if change["data"] is None:
            raise ValidationError({"data": ["an upsert needs data"]})
        record = reader.load(change["type"], change["data"])
        if record["id"] != change["id"] or record["version"] != change["version"]:
            raise ValidationError({"data": ["id and version must be the change's"]})
        if change["type"] != records.REGIE and record["regie"]["id"] != record["regie_id"]:
            raise ValidationError({"regie": ["must be the record's régie"]})
    except ValidationError as error:
        checked.error = error
    else:
        checked.record = record
    return checked


def _pull_one_page(
    peer: Peer, pages: _ReadAhead, report: SyncReport, *, allow_mass_delete: bool
) -> bool:
    """Fetch, apply and commit the next page; whether there is more to pull."""
    page = _fetch_page(peer, pages)
    if page is None:  # the cursor was refused: a full resync starts from the beginning
        return True
    if peer.epoch is not None and page["epoch"] != peer.epoch and peer.cursor:
        _start_resync(peer, f"new epoch {page['epoch']}")
        return True
    changes = page["changes"]
    if page["has_more"] and not changes:
        raise SyncStopped(f"{peer.url}: a page without changes says there are more")
    if page["has_more"]:
        pages.read_ahead(_page_url(peer, page["next"]))
    before = dict(report.counts)
    try:
        _apply_changes(peer, page["checked"], report, careful=False)
    except SQLAlchemyError as error:
        db.session.rollback()  # one record broke the page: again, record by record
        log.warning("%s: a page failed (%s); applying it record by record", peer.url, error)
        report.counts = dict(before)
        _apply_changes(peer, page["checked"], report, careful=True)
    for what in ("added", "updated", "deleted", "quarantined", "rejected"):
        counter = f"records_{what}"
        setattr(peer, counter, getattr(peer, counter) + report.counts[what] - before[what])
    peer.epoch, peer.cursor, peer.head_seq = page["epoch"], page["next"], page["head"]
    report.pages += 1
    if not page["has_more"] and peer.resyncing:
        _finish_resync(peer, report, allow_mass_delete=allow_mass_delete)
    db.session.commit()
    return bool(page["has_more"])


def _page_url(peer: Peer, cursor: str | None) -> str:
    query: dict[str, Any] = {"limit": current_app.config["FEDERATION_PAGE_SIZE"]}
    if cursor:
        query["since"] = cursor
    return f"{peer.url}{CHANGES_PATH}?{urlencode(query)}"


def _fetch_page(peer: Peer, pages: _ReadAhead) -> dict[str, Any] | None:
    try:
        page = pages.get(_page_url(peer, peer.cursor))
    except FederationError as error:
        if error.status == 410 and error.code == "cursor_expired":
            _start_resync(peer, "cursor_expired")
            return None
        raise
    except SyncStopped as error:
        raise SyncStopped(f"{peer.url}: {error}") from None
    if page["instance_id"] != peer.instance_id:
        raise SyncStopped(
            f"{peer.url}: the feed is signed by {peer.instance_id} but is "
            f"the feed of {page['instance_id']}"
        )
    return page


def _start_resync(peer: Peer, why: str) -> None:
    log.warning("full resync of %s (%s)", peer.url, why)
    peer.cursor, peer.epoch, peer.resyncing = None, None, True
    db.session.execute(delete(ResyncSeen).where(ResyncSeen.peer_id == peer.id))
    db.session.commit()


# Applying ---------------------------------------------------------------------------------


@dataclass
class _PageState:
    """What the page's records have here besides themselves, read in one statement each."""

    tombstones: dict[tuple[str, uuid.UUID], ReplicaTombstone]
    quarantined: set[tuple[str, str]]
    # The page's records held here, by type and id: absent means not held (no lookup).
    held: dict[str, dict[uuid.UUID, Any]]
    # The resources and documents the page adds, written at its end (None when ``careful``:
    # then every record goes through the ORM, in its savepoint).
    new: NewReplicas | None = None


def _apply_changes(
    peer: Peer, checked: list[_Checked], report: SyncReport, *, careful: bool
) -> None:
    """Apply a page's changes. The records it adds are written at the end, one statement
    per table, the others by one flush, and their search index rows together. When
    ``careful``, each record is applied and written in its savepoint, with its index rows."""
    state = _prefetch(peer, checked)
    if not careful:
        state.new = NewReplicas()
    with db.session.no_autoflush, nullcontext() if careful else search.deferred():
        seen = _apply_each(peer, checked, report, state, careful=careful)
        if state.new is not None:
            state.new.write()
    db.session.flush()
    _record_seen(peer, seen)


def _apply_each(
    peer: Peer, checked: list[_Checked], report: SyncReport, state: _PageState, *, careful: bool
) -> list[dict[str, Any]]:
    seen = []
    for item in checked:
        change = item.change
        if change is None:
            raw = item.raw if isinstance(item.raw, dict) else {}
            _quarantine(peer, raw, str(item.error.messages if item.error else ""), report)
            continue
        if change["type"] not in records.MODELS:
            continue  # a record type of a newer version of the protocol
        if careful:
            try:
                with db.session.begin_nested():
                    _apply_change(peer, change, item, report, state)
            except SQLAlchemyError as error:
                reason = getattr(error, "orig", None) or error
                _quarantine(peer, change, f"refused by the database: {reason}", report)
        else:
            _apply_change(peer, change, item, report, state)
        if peer.resyncing and change["op"] == "upsert":
            seen.append(
                {"peer_id": peer.id, "record_type": change["type"], "record_id": change["id"]}
            )
    return seen


def _record_seen(peer: Peer, seen: list[dict[str, Any]]) -> None:
    """During a full resync, note the records the page listed (once each)."""
    if not seen:
        return
    known = set(
        db.session.execute(
            select(ResyncSeen.record_type, ResyncSeen.record_id).where(
                ResyncSeen.peer_id == peer.id,
                records.among(ResyncSeen.record_id, [row["record_id"] for row in seen]),
            )
        ).tuples()
    )
    fresh = {(r["record_type"], r["record_id"]): r for r in seen}
    rows = [row for key, row in fresh.items() if key not in known]
    if rows:
        db.session.execute(insert(ResyncSeen), rows)


def _prefetch(peer: Peer, checked: list[_Checked]) -> _PageState:
    """Load the page's existing records, their tombstones and quarantine entries in a few
    statements rather than several per record."""
    ids: dict[str, set[uuid.UUID]] = {name: set() for name in records.MODELS}
    for item in checked:
        if item.change is None or item.change["type"] not in ids:
            continue
        ids[item.change["type"]].add(item.change["id"])
        if item.record is not None and "regie_id" in item.record:
            ids[records.REGIE].add(item.record["regie_id"])
    held = {
        record_type: records.load_many(record_type, wanted) if wanted else {}
        for record_type, wanted in ids.items()
    }
    every = set().union(*ids.values())
    tombstones = db.session.scalars(
        select(ReplicaTombstone).where(records.among(ReplicaTombstone.record_id, every))
    )
    quarantined = db.session.execute(
        select(QuarantinedRecord.record_type, QuarantinedRecord.record_id).where(
            QuarantinedRecord.peer_id == peer.id,
            records.among(QuarantinedRecord.record_id, [str(i) for i in every]),
        )
    ).tuples()
    return _PageState(
        tombstones={(t.record_type, t.record_id): t for t in tombstones},
        quarantined=set(quarantined),
        held=held,
    )


def _apply_change(
    peer: Peer, change: dict[str, Any], item: _Checked, report: SyncReport, state: _PageState
) -> None:
    record_type, record_id, version = change["type"], change["id"], change["version"]
    if state.new is not None and (record_id in state.new or change["op"] == "delete"):
        # What the page added so far is written first: a deletion may concern it (or its
        # régie), and a second version of a record it added updates the row written.
        again = record_id in state.new
        state.new.write()
        if again:
            model = records.MODELS[record_type]
            state.held[record_type][record_id] = db.session.get(model, record_id)
    tombstone = state.tombstones.get((record_type, record_id))
    # Only the origin's own deletion counts: a peer that is not the origin cannot bury a
    # record (that it does not own) before its origin sends it.
    buried = tombstone is not None and tombstone.origin_instance_id == peer.instance_id
    if buried and tombstone is not None and tombstone.version >= version:
        report.count("unchanged")  # deleted at a later version: a late upsert stays dead
        return
    try:
        if change["op"] == "delete":
            outcome = REMOVE[record_type](peer.instance_id, record_id)
            state.tombstones[record_type, record_id] = _bury(peer, change, tombstone)
        else:
            outcome = _upsert(peer, record_type, item, state)
            if tombstone is not None:
                db.session.delete(tombstone)
                del state.tombstones[record_type, record_id]
    except NotTheOrigin as error:
        report.count("rejected")
        log.warning("rejected %s %s from %s: %s", record_type, record_id, peer.url, error)
        return
    except (ValidationError, DomainError) as error:
        message = str(error.messages) if isinstance(error, ValidationError) else str(error)
        _quarantine(peer, change, message, report)
        return
    report.count(outcome.value)
    if (record_type, str(record_id)) in state.quarantined:  # a valid version arrived
        state.quarantined.discard((record_type, str(record_id)))
        db.session.execute(
            delete(QuarantinedRecord).where(
                QuarantinedRecord.peer_id == peer.id,
                QuarantinedRecord.record_type == record_type,
                QuarantinedRecord.record_id == str(record_id),
            )
        )


def _upsert(peer: Peer, record_type: str, item: _Checked, state: _PageState) -> Applied:
    if item.error is not None:
        raise item.error
    assert item.record is not None  # _check loads the record of every valid upsert
    data = dict(item.record)  # a careful second pass applies the page's records again
    held = state.held[record_type]
    if record_type == records.REGIE:
        record, outcome = APPLY[record_type](peer.instance_id, data, held)
        held[record.id] = record
        return outcome
    regies = state.held[records.REGIE]
    regie, _ = regie_replicas.apply_regie(peer.instance_id, data.pop("regie"), regies)
    regies[regie.id] = regie
    if state.new is not None and data["id"] not in held:
        return ADD[record_type](peer.instance_id, data, regie, state.new)
    record, outcome = APPLY[record_type](peer.instance_id, data, held, regie=regie)
    held[record.id] = record
    return outcome


def _bury(
    peer: Peer, change: dict[str, Any], tombstone: ReplicaTombstone | None
) -> ReplicaTombstone:
    if tombstone is None:
        tombstone = ReplicaTombstone(
            record_type=change["type"], record_id=change["id"], origin_instance_id=peer.instance_id
        )
        db.session.add(tombstone)
    tombstone.origin_instance_id = peer.instance_id
    tombstone.version = change["version"]
    tombstone.deleted_at = utcnow()
    return tombstone


def _quarantine(peer: Peer, change: dict[str, Any], error: str, report: SyncReport) -> None:
    report.count("quarantined")
    record_id = str(change.get("id", ""))[:64]
    record_type = str(change.get("type", ""))[:20]
    log.warning("quarantined %s %s from %s: %s", record_type, record_id, peer.url, error)
    held = db.session.scalar(
        select(QuarantinedRecord).where(
            QuarantinedRecord.peer_id == peer.id,
            QuarantinedRecord.record_type == record_type,
            QuarantinedRecord.record_id == record_id,
        )
    )
    if held is None:
        held = QuarantinedRecord(peer_id=peer.id, record_type=record_type, record_id=record_id)
        db.session.add(held)
    version = change.get("version")
    held.version = version if isinstance(version, int) else None
    held.error = error[:2000]
    held.data = _jsonable(change.get("data"))
    held.at = utcnow()


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


# The end of a full resync -----------------------------------------------------------------


def _finish_resync(peer: Peer, report: SyncReport, *, allow_mass_delete: bool) -> None:
    """Delete what the origin no longer lists, unless that is a mass deletion."""
    origin = peer.instance_id
    held = {
        records.DOCUMENT: select(Document.id)
        .join(Regie)
        .where(Regie.origin_instance_id == origin, Document.deleted_at.is_(None)),
        records.RESOURCE: select(Resource.id).join(Regie).where(Regie.origin_instance_id == origin),
        records.REGIE: select(Regie.id).where(Regie.origin_instance_id == origin),
    }
    missing: dict[str, list[uuid.UUID]] = {}
    total = 0
    for record_type, ours in held.items():
        listed = select(ResyncSeen.record_id).where(
            ResyncSeen.peer_id == peer.id, ResyncSeen.record_type == record_type
        )
        total += db.session.scalar(select(func.count()).select_from(ours.subquery())) or 0
        unlisted = ours.where(ours.selected_columns[0].not_in(listed))
        missing[record_type] = list(db.session.scalars(unlisted))
    doomed = sum(len(ids) for ids in missing.values())
    config = current_app.config
    threshold = max(config["FEDERATION_MASS_DELETE_RATIO"] * total, 0)
    mass = doomed > threshold and doomed >= config["FEDERATION_MASS_DELETE_MIN"]
    if mass and not allow_mass_delete:
        db.session.commit()  # the page and the cursor stand; the deletion waits
        raise SyncStopped(
            f"{peer.url}: the full resync would delete {doomed} of our {total} records of "
            f"this instance; nothing deleted. If that is right: flask federation sync "
            f"--peer {peer.url} --allow-mass-delete"
        )
    for record_type, ids in missing.items():
        for record_id in ids:
            outcome = REMOVE[record_type](origin, record_id)
            if outcome is Applied.DELETED:
                report.count("deleted")
                peer.records_deleted += 1
    db.session.execute(delete(ResyncSeen).where(ResyncSeen.peer_id == peer.id))
    peer.resyncing = False


# Attachments ------------------------------------------------------------------------------


def fetch_pending_blobs(peer: Peer, client: FederationClient) -> int:
    """Fetch the bytes of the peer's attachments we do not have yet, check their hash, store
    them and mark them arrived (commits per file). A file that fails stays pending."""
    pending = db.session.scalars(
        select(Attachment.sha256)
        .join(Document)
        .join(Regie)
        .where(Attachment.is_pending.is_(True), Regie.origin_instance_id == peer.instance_id)
        .distinct()
    ).all()
    fetched = 0
    for sha256 in pending:
        try:
            response = client.request("GET", f"{peer.url}{BLOBS_PATH}{sha256}")
            files.store_replica_blob(sha256, response.body)
        except (FederationError, ValueError) as error:
            log.warning("attachment %s from %s: %s", sha256, peer.url, error)
            continue
        library_replicas.mark_arrived(sha256)
        db.session.commit()
        fetched += 1
    return fetched


def sync_peers(
    url: str | None = None,
    *,
    client: FederationClient,
    allow_mass_delete: bool = False,
    full: bool = False,
) -> list[SyncReport]:
    """Pull every active peer (or the one at ``url``) once. Also purges what expired in our
    own feed (old tombstones) and in the replay cache."""
    feed.purge_tombstones()
    services.purge_replay_cache()
    db.session.commit()
    peers = [services.get_peer_by_url(url)] if url else services.list_peers()
    return [
        sync_peer(peer, client, allow_mass_delete=allow_mass_delete, full=full) for peer in peers
    ]

"""Cross-instance bookings (docs/federation.md §9): the origin of a resource decides.

**Borrower side (A).** ``sharing.loans.services.request_booking`` keeps a request for a
resource another instance owns as a ``forwarding`` booking and asks the federation, through
the ``RemoteBookings`` interface it defines, to queue the message that carries it. This module
registers that interface (``Forwarder``) in ``app.extensions["remote_bookings"]`` at
``init_app``: ``sharing`` never imports ``federation``, and the use case stays one call for
the API and the web form. The message is a row of ``federation_outbox`` written in the same
transaction as the booking, so a crash never loses nor doubles a request; the view then
tries to deliver it at once, after its commit and outside any lock. Whatever does not get
through is retried by ``flask federation sync`` / ``deliver``.

**Origin side (B).** ``receive_request`` checks that the borrowing régie is hosted by the
signing peer (the origin rule: its record is upserted through the régie replica service,
which refuses a régie that belongs to anyone else), then goes through the same booking path
as a local request (rules, resource lock, no-overlap guard). ``request_id`` is unique on
bookings: repeating it, even concurrently, gives the first booking.

**Status reports.** Every status change at B of a booking that came from a peer queues, in
the changing transaction, a ``status`` message for the borrower's instance (a session hook:
no use case has to remember it). A applies a report only when its ``version`` (the booking's
change counter) is higher than the last one. A also polls B for its open bookings, so a lost
report heals.

**Delivery.** One message is sent by the one job that claimed it (a conditional UPDATE, as
for e-mails). Unreachable peers, 5xx, 408 and 429 are retried with exponential backoff and
jitter (``Retry-After`` honoured); other 4xx are permanent: the message fails, its error
stays for the administrator (``flask federation status``), and a request that failed so is
shown declined to the borrower, with why.
"""

import logging
import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from flask import Flask
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from sqlalchemy import event, inspect, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from federation import records, services
from federation.client import FederationClient, FederationError, HttpResponse, Transport
from federation.models import OutboxMessage, Peer
from sharing.catalogue.models import Resource
from sharing.db import rfc3339, utcnow
from sharing.errors import Conflict, DomainError, Invalid, NotFound
from sharing.extensions import db
from sharing.http import Timestamp
from sharing.loans import services as loans
from sharing.loans.models import ACTIVE_STATUSES, Booking, BookingStatus
from sharing.regies.models import Regie
from sharing.regies.replicas import apply_regie
from sharing.replicas import NotTheOrigin

log = logging.getLogger(__name__)

BOOKINGS_PATH = "/federation/v1/bookings"
STATUS_PATH = "/federation/v1/booking-status"

REQUEST, CANCEL, STATUS = "request", "cancel", "status"

BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 6 * 3600
BACKOFF_JITTER = 0.2
# A job that claimed a message and died: another one may take it after this.
CLAIM_TIMEOUT = timedelta(minutes=5)
RETRIED_STATUSES = {408, 429}
# The origin's refusals of a request: the borrower sees them as its answer.
REFUSALS = {409, 422}


# The wire (docs/federation.md §9) ---------------------------------------------------------


class BookingRequestArgs(Schema):
    """``POST /federation/v1/bookings``."""

    class Meta:
        unknown = EXCLUDE

    request_id = fields.UUID(required=True)
    resource_id = fields.UUID(required=True)
    regie = fields.Nested(records.RegieRecord, required=True)
    starts_at = Timestamp(required=True)
    ends_at = Timestamp(required=True)
    note = fields.String(load_default="", validate=validate.Length(max=2000))
    seen_version = fields.Integer(strict=True, load_default=None)


class CancelArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    reason = fields.String(load_default="", validate=validate.Length(max=2000))


class BookingStateArgs(Schema):
    """A booking's state as the origin reports it: an answer, a push or a poll's line."""

    class Meta:
        unknown = EXCLUDE

    request_id = fields.UUID(required=True)
    booking_id = fields.UUID(required=True)
    status = fields.Enum(BookingStatus, by_value=True, required=True)
    version = fields.Integer(strict=True, required=True, validate=validate.Range(min=1))
    at = Timestamp(load_default=None)


class BookingListArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    requester = fields.UUID(required=True)
    open = fields.Boolean(load_default=False)


def state_of(booking: Booking) -> dict[str, Any]:
    """How the origin describes one of its bookings to the borrower's instance."""
    return {
        "request_id": str(booking.request_id),
        "booking_id": str(booking.id),
        "status": booking.status.value,
        "version": booking.sequence + 1,
        "at": rfc3339(booking.updated_at or utcnow()),
    }


def _load(schema: Schema, data: Any) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = schema.load(data if data is not None else {})
    except ValidationError as error:
        raise Invalid(
            "Message de fédération invalide.", fields=error.normalized_messages()
        ) from None
    return loaded


# Origin side: what peers ask of us --------------------------------------------------------


def receive_request(peer: Peer, body: Any) -> dict[str, Any]:
    """A peer's request for one of our resources; the answer (201) as a dict. The caller
    commits; a refusal raises and changes nothing."""
    data = _load(BookingRequestArgs(), body)
    if (known := _peer_booking_of_request(peer, data["request_id"])) is not None:
        return state_of(known)
    regie_data = dict(data["regie"])
    try:
        regie, _ = apply_regie(peer.instance_id, regie_data)
        booking = loans.request_booking_for_peer(regie, data, data["request_id"])
        db.session.flush()
    except IntegrityError:
        # The same request, sent twice at once, won elsewhere (or its régie was created by
        # the other one): the first booking is the answer.
        db.session.rollback()
        known = _peer_booking_of_request(peer, data["request_id"])
        if known is None:
            raise
        return state_of(known)
    return state_of(booking)


def _peer_booking_of_request(peer: Peer, request_id: uuid.UUID) -> Booking | None:
    booking = loans.booking_of_request(request_id)
    if booking is not None and booking.borrower_regie.origin_instance_id != peer.instance_id:
        raise NotTheOrigin("Cette demande a été faite par une autre instance.")
    return booking


def peer_booking(peer: Peer, booking_id: uuid.UUID) -> Booking:
    """One of our bookings made by a régie the peer hosts; 404 for anything else."""
    booking = db.session.get(Booking, booking_id)
    if (
        booking is None
        or booking.request_id is None
        or booking.is_remote
        or booking.borrower_regie.origin_instance_id != peer.instance_id
    ):
        raise NotFound("Cette réservation n'existe pas.")
    return booking


def list_peer_bookings(peer: Peer, args: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The peer's bookings of our resources (only its own: ``requester`` must be it)."""
    query = _load(BookingListArgs(), dict(args))
    if query["requester"] != peer.instance_id:
        raise NotTheOrigin("Une instance ne lit que ses propres demandes.")
    stmt = (
        select(Booking)
        .join(Regie, Regie.id == Booking.borrower_regie_id)
        .where(Regie.origin_instance_id == peer.instance_id, Booking.request_id.isnot(None))
        .order_by(Booking.created_at)
    )
    if query["open"]:
        stmt = stmt.where(Booking.status.in_(ACTIVE_STATUSES))
    return [state_of(booking) for booking in db.session.scalars(stmt) if not booking.is_remote]


def receive_cancel(peer: Peer, booking_id: uuid.UUID, body: Any) -> dict[str, Any]:
    """The borrower's instance asks to cancel; our lifecycle decides (409 after pickup)."""
    reason = _load(CancelArgs(), body)["reason"]
    booking = loans.cancel_booking_for_peer(peer_booking(peer, booking_id), reason)
    return state_of(booking)


# Borrower side: what the origin tells us ---------------------------------------------------


def receive_status(peer: Peer, body: Any) -> dict[str, Any]:
    """The origin reports a booking's new state; applied if newer. The caller commits."""
    data = _load(BookingStateArgs(), body)
    booking = loans.booking_of_request(data["request_id"])
    if booking is None:
        raise NotFound("Aucune demande ne porte cet identifiant.")
    applied = _apply_state(peer, booking, data)
    return {"applied": applied, "version": booking.remote_version}


def _apply_state(peer: Peer, booking: Booking, data: dict[str, Any]) -> bool:
    if not booking.is_remote or booking.resource.regie.origin_instance_id != peer.instance_id:
        raise NotTheOrigin("Cette réservation ne porte pas sur un matériel de cette instance.")
    if booking.remote_booking_id not in (None, data["booking_id"]):
        raise Conflict("Cette demande correspond à une autre réservation.", code="booking_mismatch")
    return loans.apply_origin_status(
        booking,
        data["status"],
        data["version"],
        data["booking_id"],
        "Décision de l'instance d'origine",
    )


# The outbox ---------------------------------------------------------------------------------

# A message neither sent nor given up on.
_PENDING = (OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None))


class Forwarder:
    """``sharing.loans.services.RemoteBookings``, registered at ``init_app``."""

    def queue_request(self, booking: Booking) -> None:
        peer = _origin_peer(booking.resource)
        payload = {
            "request_id": str(booking.request_id),
            "resource_id": str(booking.resource_id),
            "regie": records.dump_regie(booking.borrower_regie),
            "starts_at": rfc3339(booking.starts_at),
            "ends_at": rfc3339(booking.ends_at),
            "note": booking.note,
            "seen_version": booking.resource.version,
        }
        _queue(REQUEST, peer, booking, payload)

    def queue_cancel(self, booking: Booking, reason: str) -> None:
        _queue(CANCEL, _origin_peer(booking.resource), booking, {"reason": reason})

    def deliver(self, booking: Booking) -> None:
        booking_id = booking.id
        client = _client()
        waiting = select(OutboxMessage.id).where(
            OutboxMessage.booking_id == booking_id,
            *_PENDING,
        )
        for message_id in list(db.session.scalars(waiting.order_by(OutboxMessage.created_at))):
            _deliver_one(message_id, client, immediate=True)


def _origin_peer(resource: Resource) -> Peer:
    peer = services.active_peer(resource.regie.origin_instance_id)
    if peer is None:
        raise Conflict(
            "L'instance propriétaire de ce matériel n'est plus appairée avec la nôtre.",
            code="peer_unavailable",
        )
    return peer


def _queue(kind: str, peer: Peer, booking: Booking, payload: dict[str, Any]) -> None:
    assert booking.request_id is not None
    db.session.add(
        OutboxMessage(
            kind=kind,
            peer_id=peer.id,
            booking_id=booking.id,
            request_id=booking.request_id,
            payload=payload,
            next_attempt_at=utcnow(),
        )
    )
    db.session.flush()


def install() -> None:
    """Queue a status report whenever a booking a peer made here changes status (every
    session, once per process)."""
    if not event.contains(Session, "before_flush", _queue_status_reports):
        event.listen(Session, "before_flush", _queue_status_reports)


def _queue_status_reports(session: Session, _context: Any, _instances: Any) -> None:
    for obj in list(session.dirty):
        if not isinstance(obj, Booking) or obj.request_id is None or obj.remote_booking_id:
            continue
        if not inspect(obj).attrs.status.history.has_changes():
            continue
        with session.no_autoflush:
            if obj.is_remote:  # our own forwarded request, not a peer's
                continue
            peer = services.active_peer(obj.borrower_regie.origin_instance_id)
        if peer is None:
            continue
        peer_id = peer.id
        payload = {
            "request_id": str(obj.request_id),
            "booking_id": str(obj.id),
            "status": obj.status.value,
            "version": obj.sequence + 1,
            "at": rfc3339(utcnow()),
        }
        session.add(
            OutboxMessage(
                kind=STATUS,
                peer_id=peer_id,
                booking_id=obj.id,
                request_id=obj.request_id,
                payload=payload,
                next_attempt_at=utcnow(),
            )
        )


@dataclass
class _Recording:
    """A transport that keeps the last answer: its headers (``Retry-After``) and body (the
    origin's conflicts) are needed beyond what ``FederationError`` says."""

    inner: Transport
    last: HttpResponse | None = None

    def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: float,
    ) -> HttpResponse:
        self.last = None
        self.last = self.inner.send(method, url, headers, body, timeout)
        return self.last


def _client() -> FederationClient:
    client = services.default_client()
    client.transport = _Recording(client.transport)
    return client


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    reconciled: int = 0
    errors: list[str] = field(default_factory=list)


def deliver_due(now: datetime | None = None, limit: int = 200) -> DeliveryReport:
    """Send every message whose time has come (``flask federation sync`` and ``deliver``)."""
    report = DeliveryReport()
    now = now or utcnow()
    client = _client()
    due = (
        select(OutboxMessage.id)
        .where(
            *_PENDING,
            OutboxMessage.next_attempt_at <= now,
            _claimable(now),
        )
        .order_by(OutboxMessage.created_at)
        .limit(limit)
    )
    for message_id in list(db.session.scalars(due)):
        db.session.rollback()  # each message in its own transactions
        outcome = _deliver_one(message_id, client, immediate=False)
        if outcome == "sent":
            report.sent += 1
        elif outcome == "retry":
            report.retried += 1
        elif outcome == "failed":
            report.failed += 1
    return report


def _claimable(now: datetime) -> Any:
    return or_(OutboxMessage.claimed_by.is_(None), OutboxMessage.claimed_at < now - CLAIM_TIMEOUT)


def _claim(message_id: uuid.UUID, worker: str, now: datetime) -> OutboxMessage | None:
    """Take one message for this job, committed before it is sent: a concurrent job's
    conditional UPDATE then matches nothing, so a message is never sent twice at once."""
    claimed = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            *_PENDING,
            _claimable(now),
        )
        .values(claimed_by=worker, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return db.session.get(OutboxMessage, message_id, populate_existing=True)


def _deliver_one(message_id: uuid.UUID, client: FederationClient, *, immediate: bool) -> str:
    """Claim, send and record one message; ``sent``, ``retry``, ``failed`` or ``skipped``.
    With ``immediate``, a request the origin refuses is deleted and its refusal raised."""
    now = utcnow()
    message = _claim(message_id, uuid.uuid4().hex, now)
    if message is None:
        return "skipped"
    booking = db.session.get(Booking, message.booking_id)
    peer = db.session.get(Peer, message.peer_id)
    assert booking is not None
    assert peer is not None
    if message.kind == CANCEL and booking.remote_booking_id is None:
        return _cancel_before_answer(message, booking)
    transport: _Recording = client.transport  # type: ignore[assignment]
    try:
        answer = _send(client, peer, message, booking)
    except FederationError as error:
        response = transport.last
        return _after_error(message, booking, error, response, now, immediate=immediate)
    message.sent_at, message.claimed_by = utcnow(), None
    message.last_status, message.last_error = answer.status, None
    if message.kind in (REQUEST, CANCEL):
        try:
            data = BookingStateArgs().load(answer.json())
        except (ValidationError, ValueError):
            log.warning("%s answered %s without a valid booking state", peer.url, message.kind)
        else:
            _apply_state(peer, booking, data)
    db.session.commit()
    return "sent"


def _send(
    client: FederationClient, peer: Peer, message: OutboxMessage, booking: Booking
) -> HttpResponse:
    if message.kind == REQUEST:
        return client.request("POST", peer.url + BOOKINGS_PATH, json_body=message.payload)
    if message.kind == CANCEL:
        url = f"{peer.url}{BOOKINGS_PATH}/{booking.remote_booking_id}/cancel"
        return client.request("POST", url, json_body=message.payload)
    return client.request("POST", peer.url + STATUS_PATH, json_body=message.payload)


def _cancel_before_answer(message: OutboxMessage, booking: Booking) -> str:
    """A cancellation asked before the origin answered the request waits for the answer
    (without using up an attempt); if the request was refused, there is nothing to cancel."""
    message.claimed_by = None
    if booking.status == BookingStatus.FORWARDING:
        db.session.commit()
        return "skipped"
    message.sent_at = utcnow()
    db.session.commit()
    return "sent"


def _after_error(
    message: OutboxMessage,
    booking: Booking,
    error: FederationError,
    response: HttpResponse | None,
    now: datetime,
    *,
    immediate: bool,
) -> str:
    message.claimed_by = None
    message.last_status = error.status
    message.last_error = str(error)[:2000]
    status = error.status
    if status is None or status >= 500 or status in RETRIED_STATUSES:
        message.attempts += 1
        message.next_attempt_at = now + _backoff(message.attempts, response, now)
        db.session.commit()
        return "retry"
    body = _error_body(response)
    if message.kind == REQUEST and status in REFUSALS:
        if immediate:
            refusal = _as_domain_error(status, body)
            db.session.delete(message)
            db.session.delete(booking)  # refused at once: nothing stays, as for a local 409
            db.session.commit()
            raise refusal
        message.sent_at = utcnow()
        loans.origin_refused(
            booking, f"Refusée par l'instance d'origine : {body.get('message', '')}"
        )
        db.session.commit()
        return "sent"
    if message.kind == CANCEL and status == 409:
        message.sent_at = utcnow()
        loans.cancel_refused(booking)
        db.session.commit()
        return "sent"
    # Permanent: not retried. 401/403 say our pairing or keys are wrong: the administrator
    # sees last_error in ``flask federation status``.
    message.failed_at = utcnow()
    if message.kind == REQUEST:
        loans.origin_refused(
            booking, f"Transmission impossible à l'instance d'origine (HTTP {status})."
        )
    elif message.kind == CANCEL:
        loans.cancel_refused(booking)
    db.session.commit()
    log.warning("federation message %s failed for good: %s", message.id, error)
    if immediate and message.kind == REQUEST:
        raise Conflict(
            "La demande n'a pas pu être transmise à l'instance propriétaire du matériel ; "
            "elle est enregistrée comme refusée et l'administrateur est prévenu.",
            code="forwarding_failed",
            details={"origin_status": status, "origin_code": error.code},
        )
    return "failed"


def _error_body(response: HttpResponse | None) -> dict[str, Any]:
    try:
        error = response.json().get("error") if response is not None else None
    except (ValueError, AttributeError):
        return {}
    return error if isinstance(error, dict) else {}


def _as_domain_error(status: int, body: dict[str, Any]) -> DomainError:
    """The origin's refusal, answered to our user as it was given to us."""
    message = str(body.get("message") or "L'instance d'origine a refusé cette demande.")
    code = str(body.get("code") or ("booking_conflict" if status == 409 else "validation_failed"))
    details = body.get("details") if isinstance(body.get("details"), dict) else {}
    if status == 409:
        return Conflict(message, code=code, details=details)
    return Invalid(message, code=code, fields=(details or {}).get("fields"))


def _backoff(attempts: int, response: HttpResponse | None, now: datetime) -> timedelta:
    """30 s × 2^(attempts − 1), at most 6 h, ±20 % so that peers do not retry in step; a
    ``Retry-After`` the peer sent wins (still at most 6 h)."""
    retry_after = _retry_after(response, now)
    if retry_after is not None:
        return timedelta(seconds=min(retry_after, BACKOFF_CAP_SECONDS))
    seconds = min(BACKOFF_BASE_SECONDS * 2 ** min(attempts - 1, 30), BACKOFF_CAP_SECONDS)
    return timedelta(seconds=seconds * random.uniform(1 - BACKOFF_JITTER, 1 + BACKOFF_JITTER))


def _retry_after(response: HttpResponse | None, now: datetime) -> float | None:
    if response is None:
        return None
    value = next((v for k, v in response.headers.items() if k.lower() == "retry-after"), None)
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        return max((parsedate_to_datetime(value) - now).total_seconds(), 0.0)
    except (TypeError, ValueError):
        return None


# Reconciliation: a lost report heals -----------------------------------------------------


def reconcile(peer: Peer) -> int:
    """Ask ``peer`` the state of our open bookings of its resources; apply what is newer.
    The number of bookings whose state changed. FederationError when it cannot be asked."""
    identity = services.require_identity()
    open_here = list(
        db.session.scalars(
            select(Booking)
            .join(Resource, Resource.id == Booking.resource_id)
            .join(Regie, Regie.id == Resource.regie_id)
            .where(
                Regie.origin_instance_id == peer.instance_id,
                Booking.remote_booking_id.isnot(None),
                Booking.status.in_(ACTIVE_STATUSES),
            )
        )
    )
    if not open_here:
        return 0
    client = services.default_client()
    url = f"{peer.url}{BOOKINGS_PATH}?requester={identity.id}&open=1"
    listed = client.request("GET", url).json().get("bookings") or []
    states = {}
    for item in listed:
        try:
            data = BookingStateArgs().load(item)
        except ValidationError:
            continue
        states[data["request_id"]] = data
    changed = 0
    for booking in open_here:
        data = states.get(booking.request_id)
        if data is None:  # no longer open there: ask for this one
            answer = client.request("GET", f"{peer.url}{BOOKINGS_PATH}/{booking.remote_booking_id}")
            try:
                data = BookingStateArgs().load(answer.json())
            except (ValidationError, ValueError):
                continue
        try:
            changed += _apply_state(peer, booking, data)
        except DomainError as error:
            log.warning("%s: booking %s not reconciled: %s", peer.url, booking.id, error.message)
    db.session.commit()
    return changed


def reconcile_all() -> DeliveryReport:
    report = DeliveryReport()
    for peer in services.list_peers():
        try:
            report.reconciled += reconcile(peer)
        except FederationError as error:
            db.session.rollback()
            report.errors.append(f"{peer.url}: {error}")
    return report


def pending_messages(peer: Peer, limit: int = 20) -> list[OutboxMessage]:
    """Messages for ``peer`` not delivered yet, and those given up: for the administrator."""
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.peer_id == peer.id, OutboxMessage.sent_at.is_(None))
            .order_by(OutboxMessage.created_at.desc())
            .limit(limit)
        )
    )


def init_app(app: Flask) -> None:
    install()
    app.extensions["remote_bookings"] = Forwarder()

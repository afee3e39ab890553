"""Use cases for loans. Each checks who may act, applies the rules and flushes; the caller
commits once."""

import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any, Protocol

from flask import current_app
from sqlalchemy import Select
from sqlalchemy.exc import IntegrityError

from sharing.accounts.models import User
from sharing.catalogue.models import Condition, Resource, ResourceStatus
from sharing.catalogue.services import get_resource, put_in_maintenance
from sharing.db import rfc3339, utcnow
from sharing.errors import Conflict, Forbidden, Invalid, NotFound
from sharing.extensions import db
from sharing.loans import notifications, queries
from sharing.loans.models import (
    ACTIVE_STATUSES,
    Booking,
    BookingEvent,
    BookingStatus,
    ResourceBlock,
)
from sharing.loans.overlap import is_overlap_violation, lock_resource, lock_resource_status
from sharing.loans.permissions import (
    can_block_resource,
    can_cancel_booking,
    can_decide_booking,
    can_hand_over_booking,
    can_manage_calendar,
    can_request_booking,
    can_view_booking,
)
from sharing.regies.models import Regie, new_feed_token
from sharing.regies.services import get_regie


def get_booking(actor: User, booking_id: uuid.UUID | str) -> Booking:
    """A booking, for its borrower and lender régies only (404 for anyone else)."""
    try:
        key = booking_id if isinstance(booking_id, uuid.UUID) else uuid.UUID(booking_id)
    except ValueError:
        raise NotFound("Cette réservation n'existe pas.") from None
    booking = db.session.get(Booking, key)
    if booking is None or not can_view_booking(actor, booking):
        raise NotFound("Cette réservation n'existe pas.")
    return booking


def list_bookings(actor: User, role: str | None, status: BookingStatus | None) -> Select[Any]:
    """The actor's régie's bookings, as borrower, lender or both."""
    return queries.bookings_of_regie(actor.regie_id, role, status)


def request_booking(actor: User, data: dict[str, Any], now: datetime | None = None) -> Booking:
    """Ask for a resource over ``[starts_at, ends_at)``; the request holds the slot until it is
    decided or expires."""
    now = now or utcnow()
    resource = get_resource(data["resource_id"])
    if not can_request_booking(actor, resource):
        raise Forbidden("Vous ne pouvez pas réserver ce matériel.")
    starts_at, ends_at = data["starts_at"], data["ends_at"]
    _check_request_rules(resource, starts_at, ends_at, now)
    if not resource.is_local:
        return _forward_request(actor, resource, data, now)
    return _hold_slot(resource, actor.regie_id, actor, data, now)


def _hold_slot(
    resource: Resource,
    regie_id: uuid.UUID,
    by: User | None,
    data: dict[str, Any],
    now: datetime,
    request_id: uuid.UUID | None = None,
) -> Booking:
    """The request itself, for a local user or a peer's régie: under the resource's lock, 409
    if the period is taken, otherwise a request holding the slot."""
    starts_at, ends_at = data["starts_at"], data["ends_at"]
    _check_available(lock_resource_status(resource.id))  # it may have changed meanwhile
    if request_id is not None and (known := booking_of_request(request_id)) is not None:
        return known  # the same request again, which won the lock first: its answer
    _refuse_conflicts_expire_stale(resource.id, starts_at, ends_at, now)

    ttl = timedelta(hours=current_app.config["LOAN_REQUEST_TTL_HOURS"])
    booking = Booking(
        resource=resource,
        borrower_regie_id=regie_id,
        lender_regie_id=resource.regie_id,
        requested_by=by,
        starts_at=starts_at,
        ends_at=ends_at,
        status=BookingStatus.REQUESTED,
        expires_at=min(now + ttl, starts_at),
        note=data.get("note") or "",
        request_id=request_id,
    )
    booking.history.append(
        BookingEvent(by=by, from_status=None, to_status=BookingStatus.REQUESTED, at=now)
    )
    db.session.add(booking)
    _flush_or_conflict(resource.id, starts_at, ends_at, now)
    notifications.booking_requested(booking)
    return booking


def approve_booking(actor: User, booking: Booking, note: str = "") -> Booking:
    """The lender's manager accepts a request."""
    if not can_decide_booking(actor, booking):
        raise Forbidden("Seuls les responsables de la régie prêteuse décident.")
    _lock_and_reread(booking)
    _expire_if_stale(booking)
    booking.transition(BookingStatus.APPROVED, actor, note)
    booking.expires_at = None
    db.session.flush()
    notifications.booking_decided(booking)
    return booking


def decline_booking(actor: User, booking: Booking, reason: str = "") -> Booking:
    """The lender's manager refuses a request."""
    if not can_decide_booking(actor, booking):
        raise Forbidden("Seuls les responsables de la régie prêteuse décident.")
    _lock_and_reread(booking)
    _expire_if_stale(booking)
    booking.transition(BookingStatus.DECLINED, actor, reason)
    db.session.flush()
    notifications.booking_decided(booking)
    return booking


def cancel_booking(actor: User, booking: Booking, reason: str = "") -> Booking:
    """The borrower (before pickup) or the lender's manager cancels."""
    if not can_cancel_booking(actor, booking):
        raise Forbidden("Vous ne pouvez pas annuler cette réservation.")
    if booking.is_remote:
        return _ask_origin_to_cancel(booking, reason)
    _lock_and_reread(booking)
    _expire_if_stale(booking)
    booking.transition(BookingStatus.CANCELLED, actor, reason)
    db.session.flush()
    notifications.booking_cancelled(booking, actor)
    return booking


def pickup_booking(actor: User, booking: Booking, condition: Condition, notes: str = "") -> Booking:
    """The lender records the handover (état des lieux de départ)."""
    if not can_hand_over_booking(actor, booking):
        raise Forbidden("Seule la régie prêteuse enregistre le départ du matériel.")
    _lock_and_reread(booking)
    booking.transition(BookingStatus.PICKED_UP, actor, notes)
    booking.pickup_condition, booking.pickup_notes = condition, notes
    booking.picked_up_at = utcnow()
    db.session.flush()
    return booking


def return_booking(actor: User, booking: Booking, condition: Condition, notes: str = "") -> Booking:
    """The lender records the return (état des lieux de retour); damage means maintenance."""
    if not can_hand_over_booking(actor, booking):
        raise Forbidden("Seule la régie prêteuse enregistre le retour du matériel.")
    _lock_and_reread(booking)
    booking.transition(BookingStatus.RETURNED, actor, notes)
    booking.return_condition, booking.return_notes = condition, notes
    booking.returned_at = utcnow()
    if condition == Condition.DAMAGED:
        put_in_maintenance(booking.resource)
    db.session.flush()
    return booking


def add_block(
    actor: User, resource: Resource, data: dict[str, Any], now: datetime | None = None
) -> ResourceBlock:
    """The owner keeps a period for itself; it may not cover an active booking."""
    now = now or utcnow()
    if not resource.is_local:
        raise Conflict("Ce matériel appartient à une autre instance.", code="read_only_replica")
    if not can_block_resource(actor, resource):
        raise Forbidden("Seuls les responsables de la régie propriétaire bloquent des périodes.")
    lock_resource(resource.id)
    _refuse_conflicts_expire_stale(
        resource.id, data["starts_at"], data["ends_at"], now, kinds={"booking"}
    )
    block = ResourceBlock(
        resource=resource,
        starts_at=data["starts_at"],
        ends_at=data["ends_at"],
        reason=data.get("reason") or "",
        created_by_id=actor.id,
    )
    db.session.add(block)
    db.session.flush()
    return block


def availability(
    resource: Resource, starts_at: datetime, ends_at: datetime, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Busy periods of a resource, without who borrowed it."""
    rows = db.session.execute(
        queries.busy_periods(resource.id, starts_at, ends_at, now or utcnow())
    )
    return [{"starts_at": r.starts_at, "ends_at": r.ends_at, "kind": r.kind} for r in rows]


def expire_requests(now: datetime | None = None) -> int:
    """Expire every request whose time to be decided has passed (the ``loans expire`` job)."""
    stale = list(db.session.scalars(queries.stale_requests(now or utcnow())))
    for booking in stale:
        _expire(booking)
    db.session.flush()
    return len(stale)


def regenerate_calendar_token(actor: User, regie: Regie) -> str:
    """A new feed secret; subscriptions with the old one stop working."""
    if not can_manage_calendar(actor, regie.id):
        raise Forbidden("Seuls les responsables de la régie changent ce lien.")
    regie.calendar_token = new_feed_token()
    db.session.flush()
    return regie.calendar_token


def regie_for_feed(regie_id: uuid.UUID, token: str) -> Regie:
    """The régie whose feed ``token`` opens; the same 404 for a wrong id or token."""
    regie = get_regie(regie_id)
    if not secrets.compare_digest(regie.calendar_token.encode(), token.encode()):
        raise NotFound("Calendrier introuvable.")
    return regie


def _check_request_rules(
    resource: Resource, starts_at: datetime, ends_at: datetime, now: datetime
) -> None:
    errors: dict[str, list[str]] = {}
    if ends_at <= starts_at:
        errors["ends_at"] = ["La fin doit suivre le début."]
    if starts_at < now:
        errors["starts_at"] = ["Le début est dans le passé."]
    elif starts_at - now < timedelta(hours=resource.min_notice_hours):
        errors["starts_at"] = [
            f"Ce matériel se réserve au moins {resource.min_notice_hours} h à l'avance."
        ]
    if resource.max_loan_days and ends_at - starts_at > timedelta(days=resource.max_loan_days):
        errors["ends_at"] = [f"Un prêt dure au plus {resource.max_loan_days} jour(s)."]
    if errors:
        raise Invalid("Cette demande ne respecte pas les règles du prêt.", fields=errors)
    _check_available(resource.status)


def _check_available(status: ResourceStatus | None) -> None:
    if status != ResourceStatus.AVAILABLE:
        raise Invalid(
            "Ce matériel n'est pas disponible au prêt.",
            fields={"resource_id": [f"Statut actuel : {status.value if status else '—'}."]},
        )


def _refuse_conflicts_expire_stale(
    resource_id: uuid.UUID,
    starts_at: datetime,
    ends_at: datetime,
    now: datetime,
    kinds: set[str] | None = None,
) -> None:
    """Under the resource's lock: 409 with the busy periods if ``[starts_at, ends_at)`` is
    taken, otherwise expire the resource's stale requests (the database's guard still counts
    them as active). One query, and a second only when something is stale."""
    rows = db.session.execute(*queries.booking_obstacles(resource_id, starts_at, ends_at, now))
    busy, has_stale = [], False
    for row in rows:
        if row.kind == "stale":
            has_stale = True
        elif kinds is None or row.kind in kinds:
            busy.append(row)
    if busy:
        raise Conflict(
            "Ce matériel est déjà pris sur cette période.",
            code="booking_conflict",
            details={
                "conflicts": [
                    {
                        "starts_at": rfc3339(p.starts_at),
                        "ends_at": rfc3339(p.ends_at),
                        "kind": p.kind,
                    }
                    for p in busy
                ]
            },
        )
    if has_stale:
        _expire_stale_requests(now, resource_id)


def _flush_or_conflict(
    resource_id: uuid.UUID, starts_at: datetime, ends_at: datetime, now: datetime
) -> None:
    """Flush; if the database's own overlap guard fires, roll back and answer 409.

    No savepoint around the flush: under the lock the guard fires only if something wrote
    around the service. Then the whole transaction is lost (a failed flush leaves the session
    unusable, and PostgreSQL has aborted the transaction), so it is rolled back here, the one
    exception to "the caller commits or rolls back": whatever answers the refusal (error
    handlers, after-request hooks, the form's page) may still read the database."""
    try:
        db.session.flush()
    except IntegrityError as error:
        if not is_overlap_violation(error):
            raise
        db.session.rollback()
        raise Conflict(
            "Ce matériel est déjà pris sur cette période.",
            code="booking_conflict",
            details={"conflicts": []},
        ) from None


def _lock_and_reread(booking: Booking) -> None:
    """Serialise this change with every other booking write on the resource, then judge the
    booking as it is now: two people deciding it at the same moment must not both succeed."""
    lock_resource(booking.resource_id)
    db.session.refresh(booking)


def _expire(booking: Booking) -> None:
    """A request nobody decided in time. Its borrower is told here, whoever expires it: the
    job, or a later request or block on the same resource (after which the job no longer
    sees it)."""
    booking.transition(BookingStatus.EXPIRED, None, "Demande non traitée à temps")
    notifications.booking_decided(booking)


def _expire_stale_requests(now: datetime, resource_id: uuid.UUID) -> None:
    for booking in list(db.session.scalars(queries.stale_requests(now, resource_id))):
        _expire(booking)
    db.session.flush()


def _expire_if_stale(booking: Booking) -> None:
    """A request past its expiry is expired now, so deciding it gives 409."""
    if booking.status == BookingStatus.REQUESTED and not booking.holds_slot:
        _expire(booking)
        db.session.flush()


# Resources another instance owns (docs/federation.md §9) ----------------------------------


class RemoteBookings(Protocol):
    """What loans asks of the federation for bookings that cross instances. The federation
    registers one in ``app.extensions["remote_bookings"]`` when the application is built:
    ``sharing`` never imports ``federation``, and without it nothing can be forwarded."""

    def queue_request(self, booking: Booking) -> None:
        """In the caller's transaction: the message asking the origin for ``booking``."""

    def queue_cancel(self, booking: Booking, reason: str) -> None:
        """In the caller's transaction: the message asking the origin to cancel ``booking``."""

    def deliver(self, booking: Booking) -> None:
        """After the caller committed: send ``booking``'s waiting messages now if the peer
        answers, apply its answers and commit them. Raises the origin's refusal of a request
        sent now (the booking is then gone, as after a local refusal)."""


def _remote() -> RemoteBookings:
    remote: RemoteBookings | None = current_app.extensions.get("remote_bookings")
    if remote is None:
        raise Conflict("Ce matériel appartient à une autre instance.", code="read_only_replica")
    return remote


def _forward_request(
    actor: User, resource: Resource, data: dict[str, Any], now: datetime
) -> Booking:
    """A request for a resource another instance owns: kept here as ``forwarding``, with the
    message that carries it to the origin, which decides (no slot is held here)."""
    booking = Booking(
        resource=resource,
        borrower_regie_id=actor.regie_id,
        lender_regie_id=resource.regie_id,
        requested_by=actor,
        starts_at=data["starts_at"],
        ends_at=data["ends_at"],
        status=BookingStatus.FORWARDING,
        expires_at=None,  # the origin expires its requests and tells us
        note=data.get("note") or "",
        request_id=uuid.uuid4(),
    )
    booking.history.append(
        BookingEvent(by=actor, from_status=None, to_status=BookingStatus.FORWARDING, at=now)
    )
    db.session.add(booking)
    db.session.flush()
    _remote().queue_request(booking)
    return booking


def send_waiting_messages(booking: Booking) -> None:
    """After commit: a booking that crosses instances tells the other one at once (the
    outbox job retries what does not get through)."""
    if booking.request_id is not None:
        _remote().deliver(booking)


def _ask_origin_to_cancel(booking: Booking, reason: str) -> Booking:
    """Cancelling a booking another instance decides is a request to it; its answer (or its
    later report) changes the status."""
    booking.require_transition(BookingStatus.CANCELLED)
    if booking.cancel_requested_at is None:
        booking.cancel_requested_at = utcnow()
        db.session.flush()
        _remote().queue_cancel(booking, reason)
    return booking


def apply_origin_status(
    booking: Booking,
    status: BookingStatus,
    version: int,
    remote_booking_id: uuid.UUID,
    note: str = "",
) -> bool:
    """The origin's word on a booking made here (its answer, a push or a poll), applied only
    when newer than the last one: reports may arrive late, twice or out of order. The status
    is the origin's, so the local lifecycle is not asked."""
    _lock_and_reread(booking)
    if version <= booking.remote_version:
        return False
    booking.remote_booking_id = remote_booking_id
    booking.remote_version = version
    if status != booking.status:
        booking.record_move(status, None, note)
        if status in (BookingStatus.APPROVED, BookingStatus.DECLINED, BookingStatus.EXPIRED):
            notifications.booking_decided(booking)
    if status not in ACTIVE_STATUSES:
        booking.cancel_requested_at = None
    db.session.flush()
    return True


def origin_refused(booking: Booking, note: str) -> None:
    """A queued request the origin refused, or that could not be delivered for good: the
    borrower sees it declined, with why."""
    _lock_and_reread(booking)
    if booking.status == BookingStatus.FORWARDING:
        booking.transition(BookingStatus.DECLINED, None, note)
        db.session.flush()
        notifications.booking_decided(booking)


def cancel_refused(booking: Booking) -> None:
    """The origin kept the booking (it was already picked up, for instance)."""
    booking.cancel_requested_at = None
    db.session.flush()


def request_booking_for_peer(
    regie: Regie, data: dict[str, Any], request_id: uuid.UUID, now: datetime | None = None
) -> Booking:
    """A peer instance asks for one of our resources, for a régie it hosts: the rules and
    the no-overlap guarantee of a local request, without a user. The same ``request_id``
    gives the same booking, whenever it comes again."""
    now = now or utcnow()
    if (known := booking_of_request(request_id)) is not None:
        return known
    resource = get_resource(data["resource_id"])
    if not resource.is_local:
        raise Conflict("Ce matériel appartient à une autre instance.", code="read_only_replica")
    _check_request_rules(resource, data["starts_at"], data["ends_at"], now)
    return _hold_slot(resource, regie.id, None, data, now, request_id)


def cancel_booking_for_peer(booking: Booking, reason: str = "") -> Booking:
    """The borrower's instance asks to cancel one of its bookings of our resources; the
    lifecycle decides (not after pickup)."""
    _lock_and_reread(booking)
    _expire_if_stale(booking)
    booking.transition(BookingStatus.CANCELLED, None, reason)
    db.session.flush()
    return booking


def booking_of_request(request_id: uuid.UUID) -> Booking | None:
    """The booking a peer's ``request_id`` made (here or, for a forwarded one, there)."""
    return db.session.scalar(queries.booking_of_request(request_id))

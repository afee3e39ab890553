"""Read-only queries over bookings and blocks: conflicts, availability, listings."""

import uuid
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    exists,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.sql.elements import BindParameter

from sharing.loans.models import ACTIVE_STATUSES, Booking, BookingStatus, ResourceBlock


def holds_slot(now: datetime | BindParameter[datetime]) -> ColumnElement[bool]:
    """Bookings that hold their resource at ``now``: an expired request never does, whether
    or not the expiry job has run yet."""
    return or_(
        Booking.status.in_([BookingStatus.APPROVED, BookingStatus.PICKED_UP]),
        and_(
            Booking.status == BookingStatus.REQUESTED,
            or_(Booking.expires_at.is_(None), Booking.expires_at > now),
        ),
    )


def busy_periods(
    resource_id: uuid.UUID, starts_at: datetime, ends_at: datetime, now: datetime
) -> Select[Any]:
    """Bookings and blocks of a resource overlapping ``[starts_at, ends_at)``, in one query:
    rows of ``(starts_at, ends_at, kind)``, without anyone's identity."""
    return _periods(*_busy(resource_id, starts_at, ends_at, now))


def booking_obstacles(
    resource_id: uuid.UUID, starts_at: datetime, ends_at: datetime, now: datetime
) -> tuple[Select[Any], dict[str, Any]]:
    """What a new booking or block of ``[starts_at, ends_at)`` must look at, in one query: the
    busy periods (as ``busy_periods``) and the resource's requests whose time to be decided
    has passed, whatever their period (kind ``stale``). The statement and its parameters,
    for ``Session.execute``."""
    params = {"resource_id": resource_id, "starts_at": starts_at, "ends_at": ends_at, "now": now}
    return _booking_obstacles(), params


@cache
def _booking_obstacles() -> Select[Any]:
    # Built once, with named parameters: building and keying this union anew costs about
    # 1 ms of Python per booking request, several times what the database takes to answer
    # it, and it runs under the resource's lock (python -m bench.profile … --booking).
    resource_id: BindParameter[uuid.UUID] = bindparam("resource_id")
    now: BindParameter[datetime] = bindparam("now")
    stale = select(Booking.starts_at, Booking.ends_at, literal("stale").label("kind")).where(
        Booking.resource_id == resource_id,
        Booking.status == BookingStatus.REQUESTED,
        Booking.expires_at <= now,
    )
    busy = _busy(resource_id, bindparam("starts_at"), bindparam("ends_at"), now)
    return _periods(*busy, stale)


def _busy(resource_id: Any, starts_at: Any, ends_at: Any, now: Any) -> list[Select[Any]]:
    bookings = select(
        Booking.starts_at.label("starts_at"),
        Booking.ends_at.label("ends_at"),
        literal("booking").label("kind"),
    ).where(
        Booking.resource_id == resource_id,
        Booking.starts_at < ends_at,
        Booking.ends_at > starts_at,
        holds_slot(now),
    )
    blocks = select(
        ResourceBlock.starts_at, ResourceBlock.ends_at, literal("block").label("kind")
    ).where(
        ResourceBlock.resource_id == resource_id,
        ResourceBlock.starts_at < ends_at,
        ResourceBlock.ends_at > starts_at,
    )
    return [bookings, blocks]


def _periods(*parts: Select[Any]) -> Select[Any]:
    union = union_all(*parts).subquery()
    return select(union.c.starts_at, union.c.ends_at, union.c.kind).order_by(union.c.starts_at)


def is_free_between(
    resource_id: Any, starts_at: datetime, ends_at: datetime, now: datetime
) -> ColumnElement[bool]:
    """A condition on a resource id column: nothing holds it during ``[starts_at, ends_at)``."""
    booked = exists().where(
        Booking.resource_id == resource_id,
        Booking.starts_at < ends_at,
        Booking.ends_at > starts_at,
        holds_slot(now),
    )
    blocked = exists().where(
        ResourceBlock.resource_id == resource_id,
        ResourceBlock.starts_at < ends_at,
        ResourceBlock.ends_at > starts_at,
    )
    return ~booked & ~blocked


def stale_requests(now: datetime, resource_id: uuid.UUID | None = None) -> Select[Any]:
    """Requests whose time to be decided has passed."""
    stmt = select(Booking).where(
        Booking.status == BookingStatus.REQUESTED, Booking.expires_at <= now
    )
    if resource_id is not None:
        stmt = stmt.where(Booking.resource_id == resource_id)
    return stmt


def bookings_of_regie(
    regie_id: uuid.UUID, role: str | None = None, status: BookingStatus | None = None
) -> Select[Any]:
    """A régie's bookings as borrower, as lender, or both, soonest first."""
    if role == "borrower":
        stmt = select(Booking).where(Booking.borrower_regie_id == regie_id)
    elif role == "lender":
        stmt = select(Booking).where(Booking.lender_regie_id == regie_id)
    else:
        stmt = select(Booking).where(
            or_(Booking.borrower_regie_id == regie_id, Booking.lender_regie_id == regie_id)
        )
    if status is not None:
        stmt = stmt.where(Booking.status == status)
    return stmt.order_by(Booking.starts_at, Booking.id)


def active_bookings_between(start: datetime, end: datetime) -> Select[Any]:
    """Active bookings starting or ending in ``[start, end)`` (for reminders)."""
    return select(Booking).where(
        Booking.status.in_(ACTIVE_STATUSES),
        or_(
            and_(Booking.starts_at >= start, Booking.starts_at < end),
            and_(Booking.ends_at >= start, Booking.ends_at < end),
        ),
    )


# --- The dashboard's lists (web interface) ---------------------------------------------------


def _involving(regie_id: uuid.UUID) -> ColumnElement[bool]:
    return or_(Booking.borrower_regie_id == regie_id, Booking.lender_regie_id == regie_id)


def requests_to_decide(regie_id: uuid.UUID, now: datetime) -> Select[Any]:
    """Requests to the régie's equipment still waiting for a decision, soonest first (an
    expired request is left out even before the expiry job has run)."""
    return (
        select(Booking)
        .where(
            Booking.lender_regie_id == regie_id,
            Booking.status == BookingStatus.REQUESTED,
            or_(Booking.expires_at.is_(None), Booking.expires_at > now),
        )
        .order_by(Booking.starts_at, Booking.id)
    )


def pickups_between(regie_id: uuid.UUID, start: datetime, end: datetime) -> Select[Any]:
    """Approved loans of or to the régie that start in ``[start, end)``."""
    return (
        select(Booking)
        .where(
            _involving(regie_id),
            Booking.status == BookingStatus.APPROVED,
            Booking.starts_at >= start,
            Booking.starts_at < end,
        )
        .order_by(Booking.starts_at, Booking.id)
    )


def returns_between(regie_id: uuid.UUID, start: datetime, end: datetime) -> Select[Any]:
    """Loans of or to the régie, out now, due back in ``[start, end)``."""
    return (
        select(Booking)
        .where(
            _involving(regie_id),
            Booking.status == BookingStatus.PICKED_UP,
            Booking.ends_at >= start,
            Booking.ends_at < end,
        )
        .order_by(Booking.ends_at, Booking.id)
    )


def overdue_loans(regie_id: uuid.UUID, now: datetime) -> Select[Any]:
    """Loans of or to the régie picked up and past their end (``Booking.is_overdue`` in SQL)."""
    return (
        select(Booking)
        .where(
            _involving(regie_id),
            Booking.status == BookingStatus.PICKED_UP,
            Booking.ends_at <= now,
        )
        .order_by(Booking.ends_at, Booking.id)
    )


def booking_of_request(request_id: uuid.UUID) -> Select[tuple[Booking]]:
    """The booking carrying a cross-instance ``request_id`` (unique)."""
    return select(Booking).where(Booking.request_id == request_id)


def booking_status_counts() -> Select[tuple[BookingStatus, int]]:
    """How many bookings are in each status."""
    return select(Booking.status, func.count()).group_by(Booking.status)

"""Loans: bookings of one resource over a half-open period, their history, owners' blocks,
and the outbox of notifications.

The lifecycle lives on ``Booking``: ``TRANSITIONS`` says which status may follow which, and
``Booking.transition`` is the only way a status changes, so every change lands in the history.
That two active bookings of a resource never overlap is guaranteed by the database itself (see
``sharing.loans.overlap``).
"""

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sharing.accounts.models import User
from sharing.catalogue.models import Condition, Resource
from sharing.db import Base, UTCDateTime, created_at, str_enum, updated_at, utcnow, uuid_pk
from sharing.errors import Conflict
from sharing.regies.models import Regie


class BookingStatus(enum.StrEnum):
    FORWARDING = "forwarding"  # a request waiting to reach the resource's own instance
    REQUESTED = "requested"
    APPROVED = "approved"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    PICKED_UP = "picked_up"
    RETURNED = "returned"


# The statuses that hold the resource (a request holds its slot until decided or expired).
ACTIVE_STATUSES = (BookingStatus.REQUESTED, BookingStatus.APPROVED, BookingStatus.PICKED_UP)

TRANSITIONS: dict[BookingStatus, set[BookingStatus]] = {
    BookingStatus.FORWARDING: {
        BookingStatus.REQUESTED,
        BookingStatus.DECLINED,
        BookingStatus.CANCELLED,
    },
    BookingStatus.REQUESTED: {
        BookingStatus.APPROVED,
        BookingStatus.DECLINED,
        BookingStatus.CANCELLED,
        BookingStatus.EXPIRED,
    },
    BookingStatus.APPROVED: {BookingStatus.PICKED_UP, BookingStatus.CANCELLED},
    BookingStatus.PICKED_UP: {BookingStatus.RETURNED},
}

STATUS_LABELS = {
    BookingStatus.FORWARDING: "En cours de transmission",
    BookingStatus.REQUESTED: "Demandée",
    BookingStatus.APPROVED: "Acceptée",
    BookingStatus.DECLINED: "Refusée",
    BookingStatus.CANCELLED: "Annulée",
    BookingStatus.EXPIRED: "Expirée",
    BookingStatus.PICKED_UP: "En cours de prêt",
    BookingStatus.RETURNED: "Rendue",
}


class Booking(Base):
    """A régie's booking of one resource over ``[starts_at, ends_at)``."""

    __tablename__ = "bookings"

    id: Mapped[uuid_pk]
    resource_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("resources.id"), index=True)
    borrower_regie_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("regies.id"), index=True)
    lender_regie_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("regies.id"), index=True)
    requested_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[BookingStatus] = mapped_column(str_enum(BookingStatus), index=True)
    # Only meaningful while requested: the request stops holding its slot at this time.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")
    pickup_condition: Mapped[Condition | None] = mapped_column(str_enum(Condition))
    pickup_notes: Mapped[str | None] = mapped_column(Text)
    picked_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    return_condition: Mapped[Condition | None] = mapped_column(str_enum(Condition))
    return_notes: Mapped[str | None] = mapped_column(Text)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # iCalendar SEQUENCE: bumped on every change a calendar app should notice. It is also the
    # booking's version on the federation wire (sequence + 1, docs/federation.md §9).
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    # Cross-instance bookings (docs/federation.md §9). ``request_id`` is the idempotency key
    # the borrower's instance chose: set at both ends. On the borrower's side (a resource
    # another instance owns, the booking a mirror of the origin's): the origin's booking id
    # once it answered, the origin's version of it (older reports are ignored), and when a
    # cancellation was asked of the origin.
    request_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, unique=True)
    remote_booking_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    remote_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cancel_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]

    resource: Mapped[Resource] = relationship(lazy="joined")
    borrower_regie: Mapped[Regie] = relationship(foreign_keys=[borrower_regie_id])
    lender_regie: Mapped[Regie] = relationship(foreign_keys=[lender_regie_id])
    requested_by: Mapped[User | None] = relationship()
    history: Mapped[list["BookingEvent"]] = relationship(
        back_populates="booking", order_by="BookingEvent.at", cascade="all, delete-orphan"
    )

    @property
    def is_overdue(self) -> bool:
        """Derived, never stored: picked up and past its end."""
        return self.status == BookingStatus.PICKED_UP and self.ends_at <= utcnow()

    @property
    def is_remote(self) -> bool:
        """Booked here, decided by the instance that owns the resource."""
        return not self.resource.is_local

    @property
    def holds_slot(self) -> bool:
        if self.status == BookingStatus.REQUESTED:
            return self.expires_at is None or self.expires_at > utcnow()
        return self.status in ACTIVE_STATUSES

    def can_become(self, status: BookingStatus) -> bool:
        return status in TRANSITIONS.get(self.status, set())

    def require_transition(self, to: BookingStatus) -> None:
        """409 ``invalid_transition`` unless the lifecycle allows moving to ``to``."""
        if not self.can_become(to):
            raise Conflict(
                f"Impossible de passer de « {STATUS_LABELS[self.status]} » "
                f"à « {STATUS_LABELS[to]} ».",
                code="invalid_transition",
                details={"from": self.status.value, "to": to.value},
            )

    def transition(self, to: BookingStatus, by: User | None, note: str = "") -> None:
        """Move to ``to`` if the lifecycle allows it, and record who did it."""
        self.require_transition(to)
        self.record_move(to, by, note)

    def record_move(self, to: BookingStatus, by: User | None, note: str = "") -> None:
        """Record a move to ``to`` without asking the lifecycle: for the status another
        instance, which decides the booking, reports."""
        self.history.append(
            BookingEvent(by=by, from_status=self.status, to_status=to, note=note, at=utcnow())
        )
        self.status = to
        self.sequence += 1

    def __repr__(self) -> str:
        return f"<Booking {self.id} {self.status}>"


class BookingEvent(Base):
    """One line of a booking's history: who moved it from which status to which, and why."""

    __tablename__ = "booking_events"

    id: Mapped[uuid_pk]
    booking_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bookings.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    from_status: Mapped[BookingStatus | None] = mapped_column(str_enum(BookingStatus))
    to_status: Mapped[BookingStatus] = mapped_column(str_enum(BookingStatus))
    note: Mapped[str] = mapped_column(Text, default="")

    booking: Mapped[Booking] = relationship(back_populates="history")
    by: Mapped[User | None] = relationship()


class ResourceBlock(Base):
    """A period the owner keeps the resource for itself (maintenance, own use)."""

    __tablename__ = "resource_blocks"

    id: Mapped[uuid_pk]
    resource_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("resources.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[created_at]

    resource: Mapped[Resource] = relationship()


class Notification(Base):
    """An e-mail waiting in the outbox. ``key`` makes each notification unique, so a reminder
    queued by two jobs at once exists once; ``claimed_by`` makes one job send it."""

    __tablename__ = "notifications"

    id: Mapped[uuid_pk]
    key: Mapped[str] = mapped_column(String(200), unique=True)
    booking_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("bookings.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[created_at]
    claimed_by: Mapped[str | None] = mapped_column(String(64), index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

"""The outbox of French e-mails about bookings.

Services queue messages in the same transaction as the change they announce, so a rolled-back
booking announces nothing. ``flask loans notify`` delivers them: it claims a batch with one
conditional UPDATE (two jobs at once never claim the same message), commits the claim, sends,
and marks them sent. Every message has a unique ``key``, so a reminder queued by two jobs at
once exists once.
"""

import logging
import smtplib
import uuid
from datetime import datetime, timedelta
from email.message import EmailMessage
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import current_app
from sqlalchemy import Insert, Select, and_, bindparam, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from sharing.accounts.models import Role, User
from sharing.db import utcnow
from sharing.extensions import db
from sharing.loans.models import STATUS_LABELS, Booking, BookingStatus, Notification

log = logging.getLogger(__name__)

# A claim older than this is taken to belong to a job that died before sending.
CLAIM_TIMEOUT = timedelta(minutes=15)


def booking_requested(booking: Booking) -> None:
    """Tell the lender's managers that a request waits for their decision."""
    name = booking.resource.name
    subject = f"Nouvelle demande : {name}"
    body = (
        f"{booking.borrower_regie.name} demande à emprunter « {name} » "
        f"{_period(booking, booking.lender_regie.timezone)}.\n\nNote : {booking.note or '—'}\n\n"
        "Acceptez ou refusez la demande depuis votre tableau de bord."
    )
    _queue_all(
        [
            (f"requested:{booking.id}:{manager.id}", manager.email, subject, body)
            for manager in _managers(booking.lender_regie_id)
        ],
        booking,
    )


def booking_decided(booking: Booking) -> None:
    """Tell the borrower what became of their request."""
    status = STATUS_LABELS[booking.status].lower()
    when = _period(booking, booking.borrower_regie.timezone)
    for user in _borrower_contacts(booking):
        _queue(
            f"{booking.status.value}:{booking.id}:{user.id}",
            user.email,
            f"Demande {status} : {booking.resource.name}",
            f"Votre demande pour « {booking.resource.name} » ({booking.lender_regie.name}) "
            f"{when} est {status}.",
            booking,
        )


def booking_cancelled(booking: Booking, by: User) -> None:
    """Tell the other side that a booking was cancelled."""
    if by.regie_id == booking.borrower_regie_id:
        recipients, tz = _managers(booking.lender_regie_id), booking.lender_regie.timezone
    else:
        recipients, tz = _borrower_contacts(booking), booking.borrower_regie.timezone
    for user in recipients:
        _queue(
            f"cancelled:{booking.id}:{user.id}",
            user.email,
            f"Réservation annulée : {booking.resource.name}",
            f"La réservation de « {booking.resource.name} » {_period(booking, tz)} "
            f"a été annulée par {by.name} ({by.regie.name}).",
            booking,
        )


def queue_reminders(now: datetime) -> None:
    """Reminders the day before pickup and return, and one notice per overdue loan."""
    tomorrow = now + timedelta(days=1)
    due = select(Booking).where(
        or_(
            and_(
                Booking.status == BookingStatus.APPROVED,
                Booking.starts_at > now,
                Booking.starts_at <= tomorrow,
            ),
            and_(Booking.status == BookingStatus.PICKED_UP, Booking.ends_at <= tomorrow),
        )
    )
    for booking in db.session.scalars(due):
        tz = booking.borrower_regie.timezone
        if booking.status == BookingStatus.APPROVED:
            key, subject = "pickup", f"Rappel : retrait demain de {booking.resource.name}"
            text = (
                f"Le retrait de « {booking.resource.name} » est prévu {_at(booking.starts_at, tz)}."
            )
        elif booking.ends_at > now:
            key, subject = "return", f"Rappel : retour demain de {booking.resource.name}"
            text = f"Le retour de « {booking.resource.name} » est prévu {_at(booking.ends_at, tz)}."
        else:
            key, subject = "overdue", f"Retard : {booking.resource.name} n'est pas rendu"
            text = (
                f"« {booking.resource.name} » devait être rendu {_at(booking.ends_at, tz)} "
                f"à {booking.lender_regie.name}. Merci de le rapporter ou de les contacter."
            )
        for user in _borrower_contacts(booking):
            _queue(f"{key}:{booking.id}:{user.id}", user.email, subject, text, booking)
    db.session.flush()


def claim(worker: str, now: datetime, limit: int = 100) -> list[Notification]:
    """Claim up to ``limit`` unsent messages for ``worker``; the caller commits the claim
    before sending, so a concurrent job skips them. Empty only when nothing is left to claim:
    a job that loses a race for some messages tries the next ones."""
    claimable = or_(
        Notification.claimed_by.is_(None), Notification.claimed_at < now - CLAIM_TIMEOUT
    )
    candidates = (
        select(Notification.id)
        .where(Notification.sent_at.is_(None), claimable)
        .order_by(Notification.created_at)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL: pass over another job's claim
    )
    while ids := list(db.session.scalars(candidates)):
        claimed = db.session.execute(
            update(Notification)
            .where(Notification.id.in_(ids), Notification.sent_at.is_(None), claimable)
            .values(claimed_by=worker, claimed_at=now)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount:  # type: ignore[attr-defined]
            return list(
                db.session.scalars(
                    select(Notification)
                    .where(Notification.claimed_by == worker, Notification.sent_at.is_(None))
                    .execution_options(populate_existing=True)
                )
            )
        db.session.rollback()  # another job took them first: look again with fresh eyes
    return []


def send(message: Notification) -> None:
    """Deliver one message over SMTP when configured, to the log otherwise."""
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        log.info("e-mail to %s: %s\n%s", message.recipient, message.subject, message.body)
        return
    email = EmailMessage()
    email["From"] = config["MAIL_SENDER"]
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email.set_content(message.body)
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        smtp.send_message(email)


def mark_sent(message: Notification, now: datetime) -> None:
    message.sent_at = now
    db.session.flush()


def new_worker_id() -> str:
    return uuid.uuid4().hex


def _queue(key: str, recipient: str, subject: str, body: str, booking: Booking) -> None:
    _queue_all([(key, recipient, subject, body)], booking)


def _queue_all(messages: list[tuple[str, str, str, str]], booking: Booking) -> None:
    """Queue ``(key, recipient, subject, body)`` messages about ``booking`` in one INSERT."""
    if not messages:
        return
    now = utcnow()
    rows: list[dict[str, Any]] = [
        {
            "id": uuid.uuid4(),
            "key": key,
            "recipient": recipient,
            "subject": subject,
            "body": body + "\n\n-- \nMutualisation des Régies de Quartier",
            "booking_id": booking.id,
            "created_at": now,
        }
        for key, recipient, subject, body in messages
    ]
    db.session.flush()  # the booking row must exist before its notifications
    db.session.execute(_insert_new(db.session.get_bind().dialect.name), rows)


@cache
def _insert_new(dialect: str) -> Insert:
    """INSERT of messages, skipping any whose key exists (built once per dialect)."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return insert(Notification).on_conflict_do_nothing(index_elements=["key"])


def _managers(regie_id: uuid.UUID) -> list[User]:
    return list(db.session.scalars(_managers_query(), {"regie_id": regie_id}))


@cache
def _managers_query() -> Select[tuple[User]]:
    # Built once: it runs under the resource's lock for every accepted booking request.
    return select(User).where(
        User.regie_id == bindparam("regie_id"),
        User.role.in_([Role.MANAGER, Role.ADMIN]),
        User.is_enabled.is_(True),
    )


def _borrower_contacts(booking: Booking) -> list[User]:
    requester = booking.requested_by
    if requester is not None and requester.is_enabled:
        return [requester]
    return _managers(booking.borrower_regie_id)


def _at(value: datetime, timezone: str) -> str:
    text = format_datetime(
        value, "EEEE d MMMM yyyy 'à' HH:mm", tzinfo=ZoneInfo(timezone), locale="fr_FR"
    )
    return f"le {text}"


def _period(booking: Booking, timezone: str) -> str:
    return f"du {_at(booking.starts_at, timezone)[3:]} au {_at(booking.ends_at, timezone)[3:]}"

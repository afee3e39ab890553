"""The database itself refuses two overlapping active bookings of one resource, even when the
service is bypassed: an exclusion constraint on PostgreSQL, triggers on SQLite.

These are the only loans tests that write booking rows directly (SQLAlchemy Core), since that
is what they are about; the last one checks that the service turns the guard's refusal into
a 409.
"""

import itertools
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from sharing.extensions import db
from sharing.loans import queries
from sharing.loans.models import ACTIVE_STATUSES, Booking, BookingStatus, Notification
from sharing.loans.overlap import is_overlap_violation
from tests.loans.helpers import iso, soon

bookings = Booking.__table__
ACTIVE = list(ACTIVE_STATUSES)
INACTIVE = [s for s in BookingStatus if s not in ACTIVE_STATUSES]


@dataclass
class Place:
    resource_id: uuid.UUID
    other_resource_id: uuid.UUID
    lender_regie_id: uuid.UUID
    borrower_regie_id: uuid.UUID
    t0: datetime

    def row(
        self, start_h: float, end_h: float, status: BookingStatus, resource_id: Any = None
    ) -> dict[str, Any]:
        """A booking row over ``[t0 + start_h hours, t0 + end_h hours)``."""
        return {
            "id": uuid.uuid4(),
            "resource_id": resource_id or self.resource_id,
            "borrower_regie_id": self.borrower_regie_id,
            "lender_regie_id": self.lender_regie_id,
            "starts_at": self.t0 + timedelta(hours=start_h),
            "ends_at": self.t0 + timedelta(hours=end_h),
            "status": status,
        }


@pytest.fixture
def place(make) -> Place:
    owner = make.user("manager")
    resource = make.resource(owner)
    other = make.resource(owner, name="Débroussailleuse thermique")
    return Place(resource.id, other.id, owner.regie_id, make.regie().id, soon(3))


def _insert(*rows: dict[str, Any]) -> None:
    for row in rows:
        db.session.execute(insert(bookings).values(**row))


def _commit_insert(row: dict[str, Any]) -> None:
    _insert(row)
    db.session.commit()


def _commit_update(booking_id: uuid.UUID, **values: Any) -> None:
    db.session.execute(update(bookings).where(bookings.c.id == booking_id).values(**values))
    db.session.commit()


def _refused_as_overlap(excinfo: pytest.ExceptionInfo[IntegrityError]) -> bool:
    return is_overlap_violation(excinfo.value)


def _count() -> int:
    return len(db.session.execute(select(bookings.c.id)).all())


def test_two_overlapping_active_rows_are_refused(app, place):
    """Every pair of active statuses, in one transaction."""
    with app.app_context():
        for first, second in itertools.product(ACTIVE, ACTIVE):
            _insert(place.row(0, 4, first))
            with pytest.raises(IntegrityError) as excinfo:
                _insert(place.row(2, 6, second))
            assert _refused_as_overlap(excinfo), (first, second, excinfo.value)
            db.session.rollback()
        assert _count() == 0


def test_an_overlap_with_a_committed_row_is_refused(app, place):
    with app.app_context():
        _insert(place.row(0, 48, BookingStatus.APPROVED))
        db.session.commit()
        for start_h, end_h in [(47, 50), (-1, 1), (10, 11), (-10, 100), (0, 48)]:
            with pytest.raises(IntegrityError) as excinfo:
                _commit_insert(place.row(start_h, end_h, BookingStatus.REQUESTED))
            assert _refused_as_overlap(excinfo), (start_h, end_h)
            db.session.rollback()
        assert _count() == 1


def test_finished_or_refused_bookings_may_overlap_anything(app, place):
    with app.app_context():
        _insert(place.row(0, 4, BookingStatus.APPROVED))
        for status in INACTIVE:
            _insert(place.row(1, 5, status), place.row(1, 5, status))
        db.session.commit()
        assert _count() == 1 + 2 * len(INACTIVE)


def test_adjacent_periods_and_other_resources_coexist(app, place):
    with app.app_context():
        _insert(
            place.row(10, 12, BookingStatus.APPROVED),
            place.row(12, 14, BookingStatus.REQUESTED),
            place.row(8, 10, BookingStatus.PICKED_UP),
            place.row(9, 13, BookingStatus.APPROVED, resource_id=place.other_resource_id),
        )
        db.session.commit()
        assert _count() == 4


def test_an_update_may_not_create_an_overlap(app, place):
    """Reviving a cancelled booking, moving a period or a resource: all refused."""
    with app.app_context():
        active = place.row(0, 4, BookingStatus.APPROVED)
        cancelled = place.row(2, 6, BookingStatus.CANCELLED)
        later = place.row(10, 12, BookingStatus.REQUESTED)
        elsewhere = place.row(1, 3, BookingStatus.APPROVED, resource_id=place.other_resource_id)
        _insert(active, cancelled, later, elsewhere)
        db.session.commit()

        changes = [
            (cancelled["id"], {"status": BookingStatus.APPROVED}),
            (cancelled["id"], {"status": BookingStatus.REQUESTED}),
            (later["id"], {"starts_at": place.t0 + timedelta(hours=3)}),
            (active["id"], {"ends_at": place.t0 + timedelta(hours=11)}),
            (elsewhere["id"], {"resource_id": place.resource_id}),
        ]
        for booking_id, values in changes:
            with pytest.raises(IntegrityError) as excinfo:
                _commit_update(booking_id, **values)
            assert _refused_as_overlap(excinfo), values
            db.session.rollback()

        # …while changes that overlap nothing active go through.
        _commit_update(cancelled["id"], status=BookingStatus.DECLINED)
        _commit_update(later["id"], starts_at=place.t0 + timedelta(hours=4))
        statuses = dict(db.session.execute(select(bookings.c.id, bookings.c.status)).all())
        assert statuses[cancelled["id"]] == BookingStatus.DECLINED


def test_two_connections_at_once_cannot_both_insert(app, place):
    """The second writer waits for the first, then the database refuses it (PostgreSQL checks
    the exclusion constraint against the committed row; SQLite waits for the write lock)."""
    inserted, errors = threading.Event(), []

    def first_writer() -> None:
        with app.app_context(), db.engine.connect() as conn, conn.begin():
            conn.execute(insert(bookings).values(**place.row(0, 4, BookingStatus.APPROVED)))
            inserted.set()
            threading.Event().wait(0.5)  # hold the transaction open a moment

    thread = threading.Thread(target=first_writer)
    thread.start()
    try:
        assert inserted.wait(10)
        with app.app_context(), db.engine.connect() as conn:
            try:
                with conn.begin():
                    conn.execute(
                        insert(bookings).values(**place.row(3, 5, BookingStatus.REQUESTED))
                    )
            except IntegrityError as error:
                errors.append(error)
    finally:
        thread.join(10)
    assert len(errors) == 1
    assert is_overlap_violation(errors[0])
    with app.app_context():
        assert _count() == 1


def test_the_guard_answers_409_when_the_services_check_misses_an_overlap(
    app, client, make, place, monkeypatch
):
    """The service checks under the resource's lock, so the guard fires only if something
    wrote around it. If it ever does, the request is still a 409 ``booking_conflict``, not a
    500, and nothing of it is stored (no booking, no notification)."""
    with app.app_context():
        _commit_insert(place.row(0, 4, BookingStatus.APPROVED))
    real = queries.booking_obstacles
    far = timedelta(days=365)

    def looking_elsewhere(
        resource_id: uuid.UUID, starts_at: datetime, ends_at: datetime, now: datetime
    ) -> tuple[Any, dict[str, Any]]:
        return real(resource_id, starts_at + far, ends_at + far, now)

    monkeypatch.setattr(queries, "booking_obstacles", looking_elsewhere)
    borrower = make.user("member", regie=make.regie())
    answer = client.post(
        "/api/v1/bookings",
        json={
            "resource_id": str(place.resource_id),
            "starts_at": iso(place.t0 + timedelta(hours=2)),
            "ends_at": iso(place.t0 + timedelta(hours=6)),
        },
        headers=make.auth(borrower),
    )
    assert answer.status_code == 409, answer.json
    assert answer.json["error"]["code"] == "booking_conflict"
    with app.app_context():
        assert _count() == 1
        assert db.session.scalar(select(func.count()).select_from(Notification)) == 0

"""Times across daylight-saving weekends and overseas: any offset in, UTC with ``Z`` out and in
the database, durations in real elapsed time, French e-mails in the régie's local time.

The DST weekends are next year's (last Sunday of March and of October), so the bookings are
always in the future whenever the suite runs.
"""

import uuid
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from sharing.extensions import db
from sharing.loans import notifications
from sharing.loans.models import Booking, Notification
from tests.loans.helpers import iso, request, soon

PARIS = ZoneInfo("Europe/Paris")


def last_sunday(year: int, month: int) -> date:
    day = date(year, month, 31)
    return day - timedelta(days=(day.weekday() + 1) % 7)


def local(day: date, hour: int, zone: ZoneInfo = PARIS) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=zone)


YEAR = datetime.now(UTC).year + 1
SPRING = last_sunday(YEAR, 3)  # clocks go forward at 02:00 → 03:00
AUTUMN = last_sunday(YEAR, 10)  # clocks go back at 03:00 → 02:00


def test_the_weekends_are_the_dst_weekends():
    """Guard the test data itself: Saturday and Monday have different offsets."""
    day = timedelta(days=1)
    assert local(SPRING - day, 10).isoformat().endswith("T10:00:00+01:00")
    assert local(SPRING + day, 10).isoformat().endswith("T10:00:00+02:00")
    assert local(AUTUMN - day, 10).isoformat().endswith("T10:00:00+02:00")
    assert local(AUTUMN + day, 10).isoformat().endswith("T10:00:00+01:00")


def _stored(app, booking_id: str) -> tuple[datetime, datetime, object]:
    """The booking's times as the model reads them, and the raw column as the database has it."""
    with app.app_context():
        booking = db.session.get(Booking, uuid.UUID(booking_id))
        raw = db.session.execute(
            text("SELECT starts_at FROM bookings WHERE id = :id"),
            {"id": booking.id.hex if db.engine.dialect.name == "sqlite" else booking.id},
        ).scalar_one()
        return booking.starts_at, booking.ends_at, raw


def test_spring_weekend_is_47_hours_and_stored_in_utc(app, make, client, parties):
    resource = make.resource(parties.lender, max_loan_days=2)
    saturday, monday = SPRING - timedelta(days=1), SPRING + timedelta(days=1)
    starts, ends = local(saturday, 10).isoformat(), local(monday, 10).isoformat()
    created = request(client, parties["borrower_member"], resource, starts, ends)
    assert created.status_code == 201, created.json  # 47 real hours fit in 2 days
    assert created.json["starts_at"] == f"{saturday.isoformat()}T09:00:00Z"
    assert created.json["ends_at"] == f"{monday.isoformat()}T08:00:00Z"

    starts_at, ends_at, raw = _stored(app, created.json["id"])
    assert starts_at == datetime.combine(saturday, time(9), tzinfo=UTC)
    assert ends_at - starts_at == timedelta(hours=47)
    if isinstance(raw, str):  # SQLite keeps text: it must be the UTC wall time
        assert raw.startswith(f"{saturday.isoformat()} 09:00:00")
    else:
        assert raw == starts_at


def test_autumn_weekend_is_49_hours_which_is_more_than_2_days(make, client, parties):
    saturday, monday = AUTUMN - timedelta(days=1), AUTUMN + timedelta(days=1)
    starts, ends = local(saturday, 10).isoformat(), local(monday, 10).isoformat()
    two_days = make.resource(parties.lender, max_loan_days=2)
    refused = request(client, parties["borrower_member"], two_days, starts, ends)
    assert refused.status_code == 422
    assert "ends_at" in refused.json["error"]["details"]["fields"]

    three_days = make.resource(parties.lender, max_loan_days=3)
    created = request(client, parties["borrower_member"], three_days, starts, ends)
    assert created.status_code == 201, created.json
    assert (created.json["starts_at"], created.json["ends_at"]) == (
        f"{saturday.isoformat()}T08:00:00Z",
        f"{monday.isoformat()}T09:00:00Z",
    )


def test_the_repeated_hour_of_autumn_is_two_distinct_hours(make, client, parties):
    """02:30 happens twice on that night; with their offsets they are two different hours."""
    resource = make.resource(parties.lender)
    first = f"{AUTUMN.isoformat()}T02:00:00+02:00"
    second = f"{AUTUMN.isoformat()}T02:00:00+01:00"
    headers = parties["borrower_member"]
    a = request(client, headers, resource, first, f"{AUTUMN.isoformat()}T02:59:59+02:00")
    b = request(client, headers, resource, second, f"{AUTUMN.isoformat()}T03:00:00+01:00")
    assert (a.status_code, b.status_code) == (201, 201), (a.json, b.json)
    assert a.json["starts_at"] == f"{AUTUMN.isoformat()}T00:00:00Z"
    assert b.json["starts_at"] == f"{AUTUMN.isoformat()}T01:00:00Z"


OFFSETS = ["Z", "+00:00", "+02:00", "-03:00", "+04:00", "+05:30", "-09:30"]


@pytest.mark.parametrize("offset", OFFSETS)
def test_any_offset_means_the_same_instant(client, make, parties, offset):
    resource = make.resource(parties.lender)
    start = soon(3).replace(minute=0)
    end = start + timedelta(hours=5)

    def written(instant: datetime, with_offset: str) -> str:
        if with_offset == "Z":
            return iso(instant)
        sign = -1 if with_offset[0] == "-" else 1
        hours, minutes = (int(x) for x in with_offset[1:].split(":"))
        zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
        return instant.astimezone(zone).isoformat()

    created = request(
        client, parties["borrower_member"], resource, written(start, offset), written(end, offset)
    )
    assert created.status_code == 201, created.json
    assert (created.json["starts_at"], created.json["ends_at"]) == (iso(start), iso(end))
    # The very same period written with every other offset is the same, busy, period.
    for other in OFFSETS:
        clash = request(
            client,
            parties["borrower_manager"],
            resource,
            written(start, other),
            written(end, other),
        )
        assert clash.status_code == 409, other
        assert clash.json["error"]["details"]["conflicts"] == [
            {"starts_at": iso(start), "ends_at": iso(end), "kind": "booking"}
        ]
    after = request(
        client, parties["borrower_manager"], resource, written(end, "-03:00"), iso(soon(4))
    )
    assert after.status_code == 201, after.json


def test_naive_times_are_refused(client, make, parties):
    resource = make.resource(parties.lender)
    naive = soon(3).replace(tzinfo=None).isoformat()
    aware = iso(soon(4))
    answer = request(client, parties["borrower_member"], resource, naive, aware)
    assert answer.status_code == 422
    assert "starts_at" in answer.json["error"]["details"]["fields"]
    answer = request(client, parties["borrower_member"], resource, iso(soon(3)), naive[:-3])
    assert answer.status_code == 422
    assert "ends_at" in answer.json["error"]["details"]["fields"]
    availability = client.get(
        f"/api/v1/resources/{resource.id}/availability",
        query_string={"from": naive, "to": aware},
        headers=parties["borrower_member"],
    )
    assert availability.status_code == 400
    assert "from" in availability.json["error"]["details"]["fields"]


def test_overseas_regies_book_in_utc_and_read_their_own_local_time(app, make, client):
    """A régie in La Réunion lends to one in Guyane, over the Paris DST weekend (which neither
    of them observes): exactly 48 hours, e-mails in each régie's own time."""
    reunion = make.regie(timezone="Indian/Reunion", name="Régie de Saint-Denis")
    cayenne = make.regie(timezone="America/Cayenne", name="Régie de Cayenne")
    lender = make.user("manager", regie=reunion)
    borrower = make.user("member", regie=cayenne)
    resource = make.resource(lender, name="Tronçonneuse élagueuse", max_loan_days=2)
    saturday = SPRING - timedelta(days=1)
    starts = local(saturday, 10, ZoneInfo("Indian/Reunion"))
    ends = starts + timedelta(days=2)
    assert starts.isoformat().endswith("+04:00")
    created = request(client, make.auth(borrower), resource, starts.isoformat(), ends.isoformat())
    assert created.status_code == 201, created.json
    assert created.json["starts_at"] == f"{saturday.isoformat()}T06:00:00Z"
    assert created.json["ends_at"] == f"{(saturday + timedelta(days=2)).isoformat()}T06:00:00Z"

    approved = client.post(
        f"/api/v1/bookings/{created.json['id']}/approve", headers=make.auth(lender)
    )
    assert approved.status_code == 200
    with app.app_context():
        bodies = {
            n.recipient: n.body
            for n in db.session.scalars(
                select(Notification).where(Notification.booking_id == uuid.UUID(created.json["id"]))
            )
        }
    # The lender reads Réunion time (UTC+4), the borrower Guyane time (UTC−3).
    assert f"{saturday.day} mars {YEAR} à 10:00" in bodies[lender.email]
    assert f"{saturday.day} mars {YEAR} à 03:00" in bodies[borrower.email]


@pytest.mark.parametrize(
    ("utc", "zone", "expected"),
    [
        # Spring forward in Paris: 02:00 local never happens that night.
        ("2027-03-28T00:30:00Z", "Europe/Paris", "le dimanche 28 mars 2027 à 01:30"),
        ("2027-03-28T01:30:00Z", "Europe/Paris", "le dimanche 28 mars 2027 à 03:30"),
        ("2027-03-27T09:00:00Z", "Europe/Paris", "le samedi 27 mars 2027 à 10:00"),
        ("2027-03-29T08:00:00Z", "Europe/Paris", "le lundi 29 mars 2027 à 10:00"),
        # Fall back: 02:30 local happens twice, an hour apart in UTC.
        ("2027-10-31T00:30:00Z", "Europe/Paris", "le dimanche 31 octobre 2027 à 02:30"),
        ("2027-10-31T01:30:00Z", "Europe/Paris", "le dimanche 31 octobre 2027 à 02:30"),
        ("2027-10-31T02:30:00Z", "Europe/Paris", "le dimanche 31 octobre 2027 à 03:30"),
        # Overseas régies have no daylight saving.
        ("2027-03-28T00:30:00Z", "Indian/Reunion", "le dimanche 28 mars 2027 à 04:30"),
        ("2027-03-28T00:30:00Z", "America/Cayenne", "le samedi 27 mars 2027 à 21:30"),
        ("2027-10-31T01:30:00Z", "America/Cayenne", "le samedi 30 octobre 2027 à 22:30"),
    ],
)
def test_french_e_mails_show_local_time(utc, zone, expected):
    assert notifications._at(datetime.fromisoformat(utc), zone) == expected

"""The iCalendar feed of a régie, fetched like a calendar app does and parsed back with the
``icalendar`` library."""

from datetime import datetime, timedelta
from typing import Any

import pytest
from icalendar import Calendar

from tests.loans.helpers import Parties, act, book, expire_requests, request, soon

PREFIX = "http://sharing.test"  # INSTANCE_URL of the test app


def feed_path(client, headers: dict[str, str], regie_id: Any) -> str:
    """The régie's own feed URL, as GET /regies/<id> gives it to its members."""
    url = client.get(f"/api/v1/regies/{regie_id}", headers=headers).json["calendar_url"]
    assert url.startswith(PREFIX + f"/api/v1/regies/{regie_id}/calendar.ics?token=")
    return url.removeprefix(PREFIX)


def events(client, path: str) -> dict[str, Any]:
    """The feed's VEVENTs by booking id (the UID is ``<booking id>@<instance host>``)."""
    response = client.get(path)
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    found = {}
    for event in calendar.walk("VEVENT"):
        booking_id, _, host = str(event["uid"]).partition("@")
        assert host == "sharing.test"
        found[booking_id] = event
    assert len(found) == len(calendar.walk("VEVENT")), "UIDs must be unique"
    return found


def utc(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.fixture
def loans(app, make, client, parties: Parties, resource) -> dict[str, dict[str, Any]]:
    """The lending régie's bookings in every interesting status, plus one it borrows."""
    start = soon(2)
    made = {"expired": book(client, parties, resource, "requested", start)}
    expire_requests(app, soon(30))
    for i, status in enumerate(["requested", "approved", "declined", "cancelled", "picked_up"]):
        made[status] = book(client, parties, resource, status, start + timedelta(days=i + 1))
    # The lending régie also borrows, from the third régie.
    elsewhere = make.resource(parties.user("third_manager"), name="Nacelle élévatrice")
    borrowed = request(client, parties["lender_member"], elsewhere, soon(3), soon(4))
    made["borrowed"] = act(client, parties["third_manager"], borrowed.json["id"], "approve").json
    return made


def test_one_event_per_booking_as_lender_and_borrower(client, parties, loans):
    path = feed_path(client, parties["lender_member"], parties.regies["lender"].id)
    found = events(client, path)
    assert set(found) == {booking["id"] for booking in loans.values()}
    expected = {
        "expired": "CANCELLED",
        "requested": "TENTATIVE",
        "approved": "CONFIRMED",
        "declined": "CANCELLED",
        "cancelled": "CANCELLED",
        "picked_up": "CONFIRMED",
        "borrowed": "CONFIRMED",
    }
    assert {name: str(found[b["id"]]["status"]) for name, b in loans.items()} == expected
    for booking in loans.values():
        event = found[booking["id"]]
        assert event.decoded("dtstart") == utc(booking["starts_at"])
        assert event.decoded("dtend") == utc(booking["ends_at"])
        assert event.decoded("dtstart").utcoffset() == timedelta(0)
    text = client.get(path).get_data(as_text=True)
    stamp = utc(loans["approved"]["starts_at"]).strftime("%Y%m%dT%H%M%SZ")
    assert f"DTSTART:{stamp}" in text  # UTC form, which every calendar app reads alike

    # The borrowing régie's feed has its own bookings only; the third régie's has the one it lent.
    borrower = events(
        client, feed_path(client, parties["borrower_member"], parties.regies["borrower"].id)
    )
    assert set(borrower) == {b["id"] for name, b in loans.items() if name != "borrowed"}
    third = events(client, feed_path(client, parties["third_manager"], parties.regies["third"].id))
    assert set(third) == {loans["borrowed"]["id"]}


def test_uids_are_stable_and_sequence_follows_changes(client, parties, loans):
    path = feed_path(client, parties["lender_member"], parties.regies["lender"].id)
    before = events(client, path)
    again = events(client, path)
    assert {k: int(e["sequence"]) for k, e in before.items()} == {
        k: int(e["sequence"]) for k, e in again.items()
    }
    requested = loans["requested"]["id"]
    act(client, parties["lender_manager"], requested, "approve")
    after = events(client, path)
    assert set(after) == set(before)
    assert int(after[requested]["sequence"]) > int(before[requested]["sequence"])
    assert str(after[requested]["status"]) == "CONFIRMED"
    act(client, parties["borrower_member"], requested, "cancel")
    last = events(client, path)
    assert int(last[requested]["sequence"]) > int(after[requested]["sequence"])
    assert str(last[requested]["status"]) == "CANCELLED"
    unchanged = loans["picked_up"]["id"]
    assert int(last[unchanged]["sequence"]) == int(before[unchanged]["sequence"])


def test_wrong_missing_or_foreign_tokens_open_nothing(make, client, parties):
    lender_id, borrower_id = parties.regies["lender"].id, parties.regies["borrower"].id
    own = feed_path(client, parties["lender_member"], lender_id)
    token = own.partition("token=")[2]
    foreign = feed_path(client, parties["borrower_member"], borrower_id).partition("token=")[2]
    base = f"/api/v1/regies/{lender_id}/calendar.ics"
    assert client.get(own).status_code == 200
    assert client.get(base + "?token=nope").status_code == 404
    assert client.get(base + f"?token={token[:-1]}").status_code == 404
    assert client.get(base + f"?token={foreign}").status_code == 404
    assert client.get(base).status_code == 400
    assert client.get(base + "?token=").status_code == 404
    other = f"/api/v1/regies/{borrower_id}/calendar.ics?token={token}"
    assert client.get(other).status_code == 404
    unknown = f"/api/v1/regies/00000000-0000-4000-8000-000000000000/calendar.ics?token={token}"
    assert client.get(unknown).status_code == 404


def test_a_manager_regenerates_the_token_and_the_old_url_dies(client, parties):
    regie_id = parties.regies["lender"].id
    old = feed_path(client, parties["lender_member"], regie_id)
    url = f"/api/v1/regies/{regie_id}/calendar-token"
    for who, status in [
        ("lender_member", 403),
        ("borrower_manager", 403),
        ("third_manager", 403),
    ]:
        assert client.post(url, headers=parties[who]).status_code == status, who
    assert client.post(url).status_code == 401
    assert client.get(old).status_code == 200  # refusals changed nothing

    answer = client.post(url, headers=parties["lender_manager"])
    assert answer.status_code == 200
    new = answer.json["calendar_url"].removeprefix(PREFIX)
    assert new != old
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200
    assert feed_path(client, parties["lender_member"], regie_id) == new


def test_calendar_url_only_on_your_own_regie(client, parties):
    lender_id, borrower_id = parties.regies["lender"].id, parties.regies["borrower"].id
    mine = client.get(f"/api/v1/regies/{lender_id}", headers=parties["lender_member"]).json
    assert "calendar_url" in mine
    theirs = client.get(f"/api/v1/regies/{borrower_id}", headers=parties["lender_manager"]).json
    assert "calendar_url" not in theirs
    listed = client.get("/api/v1/regies", headers=parties["lender_manager"]).json["items"]
    with_url = [item["id"] for item in listed if "calendar_url" in item]
    assert with_url == [str(lender_id)]

"""The booking lifecycle through the API and a real database: who may do what, when, and what
it leaves behind (history, resource status, busy periods)."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from sharing.extensions import db
from sharing.loans.models import Booking
from tests.loans.helpers import (
    ACTIONS,
    ACTORS,
    STATUSES,
    act,
    book,
    expire_requests,
    iso,
    request,
    request_in_the_past,
    soon,
)

# api.md, Bookings: who may take each action…
ALLOWED = {
    "approve": {"lender_manager"},
    "decline": {"lender_manager"},
    "cancel": {"borrower_member", "borrower_manager", "lender_manager"},
    "pickup": {"lender_member", "lender_manager"},
    "return": {"lender_member", "lender_manager"},
}
# …from which status, and to which status it leads.
FROM = {
    "approve": {"requested"},
    "decline": {"requested"},
    "cancel": {"requested", "approved"},
    "pickup": {"approved"},
    "return": {"picked_up"},
}
TO = {
    "approve": "approved",
    "decline": "declined",
    "cancel": "cancelled",
    "pickup": "picked_up",
    "return": "returned",
}


def expected(status: str, action: str, actor: str) -> int:
    if actor == "third_manager":
        return 404  # a third régie may not even know the booking exists
    if actor not in ALLOWED[action]:
        return 403
    return 200 if status in FROM[action] else 409


@pytest.mark.parametrize("status", STATUSES)
def test_state_machine_matrix(app, client, parties, resource, status):
    """Every action by every actor on a booking in ``status``. Refusals are tried on one shared
    booking (and must leave it as it was); each allowed action gets a fresh booking."""
    cells = [(action, actor) for action in ACTIONS for actor in ACTORS]
    allowed = [cell for cell in cells if expected(status, *cell) == 200]
    start, reached = soon(2), "requested" if status == "expired" else status
    shared = book(client, parties, resource, reached, start)
    fresh = {
        cell: book(client, parties, resource, reached, start + timedelta(hours=3 * (i + 1)))
        for i, cell in enumerate(allowed)
    }
    if status == "expired":
        assert expire_requests(app, soon(30)) == 1 + len(allowed)
    history = len(shared["history"]) + (status == "expired")

    answers, codes = {}, {}
    for action, actor in cells:
        booking = fresh.get((action, actor), shared)
        response = act(client, parties[actor], booking["id"], action)
        answers[action, actor] = response.status_code
        codes[action, actor] = response.json.get("error", {}).get("code")
        after = client.get(f"/api/v1/bookings/{booking['id']}", headers=parties["lender_manager"])
        if response.status_code == 200:
            assert response.json["status"] == after.json["status"] == TO[action]
        else:
            assert after.json["status"] == status, (action, actor)
            assert len(after.json["history"]) == history, (action, actor)

    assert answers == {(a, who): expected(status, a, who) for a, who in cells}
    assert codes == {
        cell: {200: None, 403: "forbidden", 404: "not_found", 409: "invalid_transition"}[answer]
        for cell, answer in answers.items()
    }


def test_history_records_who_from_to_and_note(client, parties, resource):
    booking = book(client, parties, resource, "returned", soon(2))
    names = {
        key: parties.user(key).name
        for key in ("borrower_member", "borrower_manager", "lender_manager")
    }
    assert [(h["by"], h["from"], h["to"], h["note"]) for h in booking["history"]] == [
        (names["borrower_member"], None, "requested", ""),
        (names["lender_manager"], "requested", "approved", "D'accord"),
        (names["lender_manager"], "approved", "picked_up", "État au pickup"),
        (names["lender_manager"], "picked_up", "returned", "État au return"),
    ]
    times = [h["at"] for h in booking["history"]]
    assert times == sorted(times)
    assert all(t.endswith("Z") for t in times)
    assert booking["pickup_condition"] == booking["return_condition"] == "good"

    declined = book(client, parties, resource, "requested", soon(3))
    answer = act(client, parties["lender_manager"], declined["id"], "decline", reason="Déjà prêtée")
    assert answer.json["history"][-1] | {"at": None} == {
        "at": None,
        "by": names["lender_manager"],
        "from": "requested",
        "to": "declined",
        "note": "Déjà prêtée",
    }
    cancelled = book(client, parties, resource, "approved", soon(4))
    answer = act(client, parties["borrower_manager"], cancelled["id"], "cancel", reason="Pluie")
    assert [(h["by"], h["from"], h["to"], h["note"]) for h in answer.json["history"][-1:]] == [
        (names["borrower_manager"], "approved", "cancelled", "Pluie")
    ]


def test_expiry_is_recorded_as_done_by_the_system(app, client, parties, resource):
    booking = book(client, parties, resource, "requested", soon(2))
    assert expire_requests(app, soon(10)) == 1
    got = client.get(f"/api/v1/bookings/{booking['id']}", headers=parties["borrower_member"])
    assert got.json["status"] == "expired"
    last = got.json["history"][-1]
    assert (last["by"], last["from"], last["to"]) == ("système", "requested", "expired")


def test_damaged_return_puts_the_resource_in_maintenance(client, parties, resource):
    booking = book(client, parties, resource, "picked_up", soon(2))
    returned = act(
        client, parties["lender_member"], booking["id"], "return", condition="damaged", notes="Roue"
    )
    assert returned.status_code == 200
    assert (returned.json["return_condition"], returned.json["return_notes"]) == ("damaged", "Roue")
    url = f"/api/v1/resources/{resource.id}"
    assert client.get(url, headers=parties["lender_member"]).json["status"] == "maintenance"
    refused = request(client, parties["borrower_member"], resource, soon(5), soon(6))
    assert refused.status_code == 422
    assert "resource_id" in refused.json["error"]["details"]["fields"]


def test_good_or_worn_return_keeps_the_resource_available(client, parties, resource):
    for i, condition in enumerate(["good", "worn"]):
        booking = book(client, parties, resource, "picked_up", soon(2 + i))
        act(client, parties["lender_member"], booking["id"], "return", condition=condition)
    url = f"/api/v1/resources/{resource.id}"
    assert client.get(url, headers=parties["lender_member"]).json["status"] == "available"


def test_handover_condition_must_be_good_worn_or_damaged(client, parties, resource):
    booking = book(client, parties, resource, "approved", soon(2))
    for body in ({"condition": "new"}, {"condition": "cassé"}, {}):
        answer = client.post(
            f"/api/v1/bookings/{booking['id']}/pickup", json=body, headers=parties["lender_member"]
        )
        assert answer.status_code == 422
        assert "condition" in answer.json["error"]["details"]["fields"]


def test_is_overdue_only_when_picked_up_and_past_its_end(app, client, parties, resource):
    """Loans booked through the API, whose period is then moved to the past (as if days had
    gone by): overdue is derived from ``ends_at`` and the status, never stored."""
    bookings = {
        name: book(client, parties, resource, status, soon(2 + i))["id"]
        for i, (name, status) in enumerate(
            [
                ("late", "picked_up"),
                ("returned", "returned"),
                ("approved", "approved"),
                ("on_time", "picked_up"),
                ("ends_now", "picked_up"),
            ]
        )
    }
    now = datetime.now(UTC).replace(microsecond=0)
    ends = {
        "late": now - timedelta(hours=1),
        "returned": now - timedelta(days=1),
        "approved": now - timedelta(days=2),
        "on_time": now + timedelta(hours=1),
        "ends_now": now,
    }
    with app.app_context():
        for name, ends_at in ends.items():
            booking = db.session.get(Booking, uuid.UUID(bookings[name]))
            booking.starts_at, booking.ends_at = ends_at - timedelta(hours=1), ends_at
        db.session.commit()

    def overdue(name: str) -> bool:
        url = f"/api/v1/bookings/{bookings[name]}"
        return client.get(url, headers=parties["borrower_member"]).json["is_overdue"]

    assert {name: overdue(name) for name in bookings} == {
        "late": True,
        "returned": False,
        "approved": False,
        "on_time": False,
        "ends_now": True,  # half-open: it was due back at ``ends_at``
    }
    listed = client.get("/api/v1/bookings", headers=parties["lender_member"]).json["items"]
    assert {item["id"] for item in listed if item["is_overdue"]} == {
        bookings["late"],
        bookings["ends_now"],
    }


def _fields(response) -> dict:
    assert response.status_code == 422, response.json
    return response.json["error"]["details"]["fields"]


def test_request_rules_give_422_with_the_field_at_fault(make, client, parties):
    headers = parties["borrower_member"]
    strict = make.resource(parties.lender, max_loan_days=2, min_notice_hours=48)
    start = soon(3)
    assert "ends_at" in _fields(request(client, headers, strict, start, start - timedelta(hours=1)))
    assert "ends_at" in _fields(request(client, headers, strict, start, start))
    past = datetime.now(UTC) - timedelta(hours=1)
    assert "starts_at" in _fields(request(client, headers, strict, past, start))
    too_long = request(client, headers, strict, start, start + timedelta(days=2, seconds=1))
    assert "ends_at" in _fields(too_long)
    assert request(client, headers, strict, start, start + timedelta(days=2)).status_code == 201
    short = soon(47 / 24)
    assert "starts_at" in _fields(request(client, headers, strict, short, short + timedelta(1)))
    enough = soon(49 / 24)
    assert request(client, headers, strict, enough, enough + timedelta(hours=1)).status_code == 201

    resting = make.resource(parties.lender, status="maintenance")
    assert "resource_id" in _fields(request(client, headers, resting, start, soon(4)))


def test_a_retired_resource_cannot_be_requested(make, client, parties):
    """api.md: 422 when the resource is not ``available`` (retired is not a permission)."""
    retired = make.resource(parties.lender)
    url = f"/api/v1/resources/{retired.id}"
    assert client.delete(url, headers=parties["lender_manager"]).status_code == 204
    answer = request(client, parties["borrower_member"], retired, soon(3), soon(4))
    assert "resource_id" in _fields(answer)


def test_unknown_fields_and_resources(client, parties, resource):
    body = {
        "resource_id": str(resource.id),
        "starts_at": iso(soon(2)),
        "ends_at": iso(soon(3)),
        "borrower_regie_id": str(parties.user("third_manager").regie_id),
    }
    answer = client.post("/api/v1/bookings", json=body, headers=parties["borrower_member"])
    assert "borrower_regie_id" in _fields(answer)
    body.pop("borrower_regie_id")
    body["resource_id"] = "00000000-0000-4000-8000-000000000000"
    missing = client.post("/api/v1/bookings", json=body, headers=parties["borrower_member"])
    assert missing.status_code == 404


def test_a_stale_request_frees_its_slot_and_cannot_be_approved(app, client, parties, resource):
    """A request made four days ago nobody decided: its 72 hours are over, job or no job."""
    start = soon(2)
    stale = str(
        request_in_the_past(
            app,
            parties.user("borrower_member"),
            resource,
            start,
            start + timedelta(hours=4),
            now=datetime.now(UTC) - timedelta(days=4),
        )
    )
    lender = parties["lender_manager"]
    assert act(client, lender, stale, "approve").json["error"]["code"] == "invalid_transition"
    availability = client.get(
        f"/api/v1/resources/{resource.id}/availability",
        query_string={"from": iso(start - timedelta(days=1)), "to": iso(start + timedelta(1))},
        headers=parties["third_manager"],
    )
    assert availability.json == {"busy": []}

    other = request(
        client, parties["borrower_manager"], resource, start + timedelta(hours=1), soon(3)
    )
    assert other.status_code == 201, other.json
    assert client.get(f"/api/v1/bookings/{stale}", headers=lender).json["status"] == "expired"
    assert act(client, lender, stale, "approve").status_code == 409


def test_a_request_expires_the_resources_stale_requests_only_if_it_is_accepted(
    app, client, parties, resource
):
    """Stale requests of the resource are expired in passing whatever their period; a refused
    request changes nothing (its transaction is rolled back)."""
    start = soon(2)
    four_days_ago = datetime.now(UTC) - timedelta(days=4)
    stale = str(
        request_in_the_past(
            app,
            parties.user("borrower_member"),
            resource,
            start + timedelta(days=10),
            start + timedelta(days=11),
            now=four_days_ago,
        )
    )
    lender = parties["lender_manager"]
    taken = request(client, parties["borrower_member"], resource, start, start + timedelta(hours=4))
    assert taken.status_code == 201, taken.json
    assert client.get(f"/api/v1/bookings/{stale}", headers=lender).json["status"] == "expired"

    other = str(
        request_in_the_past(
            app,
            parties.user("borrower_member"),
            resource,
            start + timedelta(days=12),
            start + timedelta(days=13),
            now=four_days_ago,
        )
    )
    refused = request(
        client, parties["borrower_manager"], resource, start, start + timedelta(hours=1)
    )
    assert refused.status_code == 409
    assert client.get(f"/api/v1/bookings/{other}", headers=lender).json["status"] == "requested"


def test_periods_are_half_open(client, parties, resource):
    day = soon(3).replace(hour=10, minute=0, second=0)
    headers = parties["borrower_member"]
    first = request(client, headers, resource, day, day + timedelta(hours=2))
    second = request(client, headers, resource, day + timedelta(hours=2), day + timedelta(hours=4))
    before = request(client, headers, resource, day - timedelta(hours=1), day)
    assert (first.status_code, second.status_code, before.status_code) == (201, 201, 201)
    straddle = request(
        client, headers, resource, day + timedelta(hours=1, minutes=59), day + timedelta(hours=3)
    )
    assert straddle.status_code == 409
    assert straddle.json["error"]["code"] == "booking_conflict"
    busy = straddle.json["error"]["details"]["conflicts"]
    assert busy == [
        {"starts_at": iso(day), "ends_at": iso(day + timedelta(hours=2)), "kind": "booking"},
        {
            "starts_at": iso(day + timedelta(hours=2)),
            "ends_at": iso(day + timedelta(hours=4)),
            "kind": "booking",
        },
    ]


def test_finished_bookings_free_their_slot(app, client, parties, resource):
    start = soon(2)
    for i, status in enumerate(["declined", "cancelled", "requested"]):
        book(client, parties, resource, status, start + timedelta(days=i))
    expire_requests(app, soon(20))
    for i in range(3):
        again = request(
            client,
            parties["borrower_manager"],
            resource,
            start + timedelta(days=i),
            start + timedelta(days=i, hours=2),
        )
        assert again.status_code == 201, again.json


def test_blocks_are_for_the_owners_managers(client, parties, resource):
    url = f"/api/v1/resources/{resource.id}/blocks"
    body = {"starts_at": iso(soon(5)), "ends_at": iso(soon(6)), "reason": "Révision annuelle"}
    created = client.post(url, json=body, headers=parties["lender_manager"])
    assert created.status_code == 201, created.json
    assert created.json | {"id": None} == {
        "id": None,
        "resource_id": str(resource.id),
        "starts_at": body["starts_at"],
        "ends_at": body["ends_at"],
        "reason": "Révision annuelle",
    }
    for who in ("lender_member", "borrower_manager", "third_manager"):
        assert client.post(url, json=body, headers=parties[who]).status_code == 403, who


def test_blocks_and_bookings_exclude_each_other(client, parties, resource):
    t0 = soon(0)

    def at(days: float) -> datetime:
        return t0 + timedelta(days=days)

    url = f"/api/v1/resources/{resource.id}/blocks"
    lender = parties["lender_manager"]
    booked = book(client, parties, resource, "approved", at(2), hours=24)
    over_booking = {"starts_at": iso(at(2.5)), "ends_at": iso(at(4)), "reason": "Usage interne"}
    refused = client.post(url, json=over_booking, headers=lender)
    assert refused.status_code == 409
    assert refused.json["error"]["code"] == "booking_conflict"
    assert refused.json["error"]["details"]["conflicts"] == [
        {"starts_at": booked["starts_at"], "ends_at": booked["ends_at"], "kind": "booking"}
    ]
    pending = book(client, parties, resource, "requested", at(10))
    over_request = {"starts_at": iso(at(9)), "ends_at": iso(at(11))}
    assert client.post(url, json=over_request, headers=lender).status_code == 409
    act(client, parties["borrower_member"], pending["id"], "cancel")
    assert client.post(url, json=over_request, headers=lender).status_code == 201

    blocked = request(client, parties["borrower_member"], resource, at(10.5), at(12))
    assert blocked.status_code == 409
    assert blocked.json["error"]["code"] == "booking_conflict"
    assert [c["kind"] for c in blocked.json["error"]["details"]["conflicts"]] == ["block"]
    after = request(client, parties["borrower_member"], resource, at(11), at(12))
    assert after.status_code == 201, after.json  # the block ends where this begins


def test_availability_never_tells_who_or_why(client, parties, resource):
    t0 = soon(0)

    def at(days: float) -> datetime:
        return t0 + timedelta(days=days)

    start = at(3)
    booking = book(client, parties, resource, "approved", start)
    client.post(
        f"/api/v1/resources/{resource.id}/blocks",
        json={"starts_at": iso(at(5)), "ends_at": iso(at(6)), "reason": "Secret de régie"},
        headers=parties["lender_manager"],
    )
    answer = client.get(
        f"/api/v1/resources/{resource.id}/availability",
        query_string={"from": iso(at(1)), "to": iso(at(8))},
        headers=parties["third_manager"],
    )
    assert answer.status_code == 200
    assert answer.json == {
        "busy": [
            {"starts_at": booking["starts_at"], "ends_at": booking["ends_at"], "kind": "booking"},
            {"starts_at": iso(at(5)), "ends_at": iso(at(6)), "kind": "block"},
        ]
    }
    text = answer.get_data(as_text=True)
    borrower = parties.user("borrower_member")
    for secret in (booking["id"], str(borrower.regie_id), borrower.name, "chantier", "Secret"):
        assert secret not in text


def test_listing_filters_by_side_and_status(make, client, parties, resource):
    requested = book(client, parties, resource, "requested", soon(2))
    approved = book(client, parties, resource, "approved", soon(3))
    # The lending régie borrows, in turn, from the borrowing one.
    mixer = make.resource(parties.user("borrower_manager"), name="Bétonnière 160 L")
    reverse = request(client, parties["lender_member"], mixer, soon(4), soon(5)).json

    def ids(who: str, **query: str) -> list[str]:
        answer = client.get("/api/v1/bookings", query_string=query, headers=parties[who])
        assert answer.status_code == 200, answer.json
        assert answer.json["total"] == len(answer.json["items"])
        return [item["id"] for item in answer.json["items"]]

    assert ids("lender_member") == [requested["id"], approved["id"], reverse["id"]]
    assert ids("lender_member", **{"as": "lender"}) == [requested["id"], approved["id"]]
    assert ids("lender_member", **{"as": "borrower"}) == [reverse["id"]]
    assert ids("lender_manager", status="approved") == [approved["id"]]
    assert ids("lender_manager", status="requested", **{"as": "lender"}) == [requested["id"]]
    assert ids("borrower_manager", **{"as": "borrower"}) == [requested["id"], approved["id"]]
    assert ids("borrower_member", **{"as": "lender"}) == [reverse["id"]]
    assert ids("borrower_member", status="cancelled") == []
    assert ids("third_manager") == []
    bad = client.get("/api/v1/bookings?as=everyone", headers=parties["lender_member"])
    assert bad.status_code == 400
    bad = client.get("/api/v1/bookings?status=lost", headers=parties["lender_member"])
    assert bad.status_code == 400


def test_third_parties_get_404(make, client, parties, resource):
    booking = book(client, parties, resource, "approved", soon(2))
    url = f"/api/v1/bookings/{booking['id']}"
    for who in ("borrower_member", "borrower_manager", "lender_member", "lender_manager"):
        assert client.get(url, headers=parties[who]).status_code == 200
    stranger = client.get(url, headers=parties["third_manager"])
    assert stranger.status_code == 404
    assert stranger.json["error"]["code"] == "not_found"
    admin = make.user("admin", regie=make.regie())
    assert client.get(url, headers=make.auth(admin)).status_code == 404
    unknown = client.get(
        "/api/v1/bookings/00000000-0000-4000-8000-000000000000", headers=parties["lender_member"]
    )
    assert unknown.status_code == 404
    assert client.get(url).status_code == 401

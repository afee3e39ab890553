"""A first pass over the booking lifecycle through the API."""

from datetime import UTC, datetime, timedelta


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def test_request_approve_pickup_return_and_conflict(client, make):
    lender = make.user("manager")
    borrower = make.user("member")
    resource = make.resource(lender, max_loan_days=10)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    body = {
        "resource_id": str(resource.id),
        "starts_at": _iso(start),
        "ends_at": _iso(start + timedelta(days=2)),
        "note": "Pour la fête de quartier",
    }
    b_headers, l_headers = make.auth(borrower), make.auth(lender)
    created = client.post("/api/v1/bookings", json=body, headers=b_headers)
    assert created.status_code == 201, created.json
    booking = created.json
    assert booking["status"] == "requested"
    assert [h["to"] for h in booking["history"]] == ["requested"]

    clash = dict(
        body, starts_at=_iso(start + timedelta(days=1)), ends_at=_iso(start + timedelta(days=4))
    )
    conflict = client.post("/api/v1/bookings", json=clash, headers=make.auth(make.user("member")))
    assert conflict.status_code == 409
    assert conflict.json["error"]["code"] == "booking_conflict"
    assert conflict.json["error"]["details"]["conflicts"][0]["kind"] == "booking"

    adjacent = dict(body, starts_at=body["ends_at"], ends_at=_iso(start + timedelta(days=3)))
    assert client.post("/api/v1/bookings", json=adjacent, headers=b_headers).status_code == 201

    url = f"/api/v1/bookings/{booking['id']}"
    assert client.post(url + "/approve", headers=b_headers).status_code == 403
    approved = client.post(url + "/approve", headers=l_headers)
    assert approved.status_code == 200, approved.json
    assert client.post(url + "/approve", headers=l_headers).json["error"]["code"] == (
        "invalid_transition"
    )
    picked = client.post(url + "/pickup", json={"condition": "good"}, headers=l_headers)
    assert picked.json["status"] == "picked_up"
    returned = client.post(
        url + "/return", json={"condition": "damaged", "notes": "Lame tordue"}, headers=l_headers
    )
    assert returned.json["status"] == "returned"
    assert client.get(f"/api/v1/resources/{resource.id}", headers=l_headers).json["status"] == (
        "maintenance"
    )
    stranger = client.get(url, headers=make.auth(make.user("manager")))
    assert stranger.status_code == 404


def test_calendar_feed_and_availability(client, make):
    lender = make.user("manager")
    resource = make.resource(lender)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=5)
    headers = make.auth(lender)
    client.post(
        "/api/v1/bookings",
        json={
            "resource_id": str(resource.id),
            "starts_at": _iso(start),
            "ends_at": _iso(start + timedelta(hours=4)),
        },
        headers=headers,
    )
    busy = client.get(
        f"/api/v1/resources/{resource.id}/availability",
        query_string={
            "from": _iso(start - timedelta(days=1)),
            "to": _iso(start + timedelta(days=1)),
        },
        headers=make.auth(make.user("member")),
    ).json["busy"]
    assert busy == [
        {"starts_at": _iso(start), "ends_at": _iso(start + timedelta(hours=4)), "kind": "booking"}
    ]
    regie = client.get(f"/api/v1/regies/{lender.regie_id}", headers=headers).json
    feed = client.get(regie["calendar_url"].replace("http://sharing.test", ""))
    assert feed.status_code == 200
    assert b"BEGIN:VEVENT" in feed.data
    wrong = client.get(f"/api/v1/regies/{lender.regie_id}/calendar.ics?token=nope")
    assert wrong.status_code == 404


def test_catalogue_free_between_filter_ignores_expired_requests(client, make, app):
    lender = make.user("manager")
    busy = make.resource(lender, name="Remorque plateau 750 kg", category="vehicules")
    free = make.resource(lender, name="Remorque benne 1 300 kg", category="vehicules")
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=10)
    headers = make.auth(lender)
    for resource in (busy, free):
        assert (
            client.post(
                "/api/v1/bookings",
                json={
                    "resource_id": str(resource.id),
                    "starts_at": _iso(start),
                    "ends_at": _iso(start + timedelta(days=1)),
                },
                headers=headers,
            ).status_code
            == 201
        )
    # The request on ``free`` has outlived its time to be decided, job or no job.
    from sharing.extensions import db
    from sharing.loans.models import Booking

    with app.app_context():
        stale = db.session.scalars(db.select(Booking).filter_by(resource_id=free.id)).one()
        stale.expires_at = datetime.now(UTC) - timedelta(minutes=1)
        db.session.commit()
    window = {
        "q": "remorque",
        "available_from": _iso(start + timedelta(hours=2)),
        "available_to": _iso(start + timedelta(hours=5)),
    }
    names = [
        r["name"]
        for r in client.get("/api/v1/resources", query_string=window, headers=headers).json["items"]
    ]
    assert names == ["Remorque benne 1 300 kg"]

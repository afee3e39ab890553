"""Helpers that speak the loans domain: who is involved, and bookings brought into a given
status through the API (the way a régie would), never by writing rows."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from sharing.accounts.models import User
from sharing.catalogue.models import Resource
from sharing.extensions import db
from sharing.loans import services
from tests.factories import Factories

STATUSES = ["requested", "approved", "declined", "cancelled", "expired", "picked_up", "returned"]
ACTIONS = ["approve", "decline", "cancel", "pickup", "return"]
ACTORS = ["borrower_member", "borrower_manager", "lender_member", "lender_manager", "third_manager"]

# How a booking reaches each status from ``requested``, and who does it.
PATH = {
    "requested": [],
    "approved": ["approve"],
    "declined": ["decline"],
    "cancelled": ["cancel"],
    "picked_up": ["approve", "pickup"],
    "returned": ["approve", "pickup", "return"],
}


def iso(value: datetime) -> str:
    """The API's way of writing a time: UTC with ``Z``."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def soon(days: float = 2) -> datetime:
    """A whole second, ``days`` from now (so it is neither in the past nor too close)."""
    return datetime.now(UTC).replace(microsecond=0) + timedelta(days=days)


class Parties:
    """A lending régie (manager and member), a borrowing one, and an unrelated third one.

    People are created when first needed: hashing their passwords is what makes tests slow."""

    ROLES = {
        "lender_manager": ("lender", "manager"),
        "lender_member": ("lender", "member"),
        "borrower_manager": ("borrower", "manager"),
        "borrower_member": ("borrower", "member"),
        "third_manager": ("third", "manager"),
    }

    def __init__(self, make: Factories):
        self.make = make
        self.regies = {side: make.regie() for side in ("lender", "borrower", "third")}
        self._users: dict[str, User] = {}
        self._headers: dict[str, dict[str, str]] = {}

    def user(self, name: str) -> User:
        if name not in self._users:
            side, role = self.ROLES[name]
            self._users[name] = self.make.user(role, regie=self.regies[side])
        return self._users[name]

    def __getitem__(self, name: str) -> dict[str, str]:
        """Bearer headers of one of the people involved."""
        if name not in self._headers:
            self._headers[name] = self.make.auth(self.user(name))
        return self._headers[name]

    @property
    def lender(self) -> User:
        return self.user("lender_manager")


def action_body(action: str) -> dict[str, Any]:
    """A valid body for each action, so that only who and when decide the answer."""
    if action in ("pickup", "return"):
        return {"condition": "good", "notes": f"État au {action}"}
    if action == "approve":
        return {"note": "D'accord"}
    return {"reason": f"Motif : {action}"}


def who_may(action: str) -> str:
    """The actor who performs ``action`` on the happy path."""
    return "borrower_member" if action == "cancel" else "lender_manager"


def request(
    client: FlaskClient,
    headers: dict[str, str],
    resource: Resource,
    starts_at: datetime | str,
    ends_at: datetime | str,
    note: str | None = None,
) -> Any:
    """POST /bookings; returns the response."""
    body: dict[str, Any] = {
        "resource_id": str(resource.id),
        "starts_at": starts_at if isinstance(starts_at, str) else iso(starts_at),
        "ends_at": ends_at if isinstance(ends_at, str) else iso(ends_at),
    }
    if note is not None:
        body["note"] = note
    return client.post("/api/v1/bookings", json=body, headers=headers)


def act(
    client: FlaskClient, headers: dict[str, str], booking_id: str, action: str, **body: Any
) -> Any:
    """POST /bookings/<id>/<action> with a valid body (overridden by ``body``)."""
    return client.post(
        f"/api/v1/bookings/{booking_id}/{action}",
        json=action_body(action) | body,
        headers=headers,
    )


def book(
    client: FlaskClient,
    parties: Parties,
    resource: Resource,
    status: str,
    starts_at: datetime,
    hours: float = 2,
) -> dict[str, Any]:
    """A booking of ``resource`` by the borrowing régie, brought to ``status`` through the API
    (``expired`` is left out: it needs time to pass, see ``expire_all``)."""
    response = request(
        client,
        parties["borrower_member"],
        resource,
        starts_at,
        starts_at + timedelta(hours=hours),
        note="Pour le chantier d'insertion",
    )
    assert response.status_code == 201, response.json
    booking = response.json
    for action in PATH[status]:
        response = act(client, parties[who_may(action)], booking["id"], action)
        assert response.status_code == 200, response.json
        booking = response.json
    assert booking["status"] == status
    return booking


def expire_requests(app: Flask, now: datetime) -> int:
    """Run the expiry job as if it were ``now``; returns how many requests expired."""
    with app.app_context():
        count = services.expire_requests(now)
        db.session.commit()
        return count


def request_in_the_past(
    app: Flask,
    user: User,
    resource: Resource,
    starts_at: datetime,
    ends_at: datetime,
    now: datetime,
    note: str = "",
) -> uuid.UUID:
    """A request made through the service as if it were ``now`` (say, four days ago)."""
    with app.app_context():
        booking = services.request_booking(
            db.session.get(User, user.id),
            {"resource_id": resource.id, "starts_at": starts_at, "ends_at": ends_at, "note": note},
            now=now,
        )
        db.session.commit()
        return booking.id

"""Cross-instance bookings over real HTTP on 127.0.0.1 (docs/federation.md §9): A (the test
application, on the test database) books a resource of B (its own application and SQLite
file) after pulling B's catalogue; B, the origin, decides, and reports back."""

import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from federation import records
from federation import services as federation
from federation.client import FederationError
from federation.models import OutboxMessage, Peer, SignatureFailure
from sharing.accounts.models import User
from sharing.catalogue.models import Resource
from sharing.db import utcnow
from sharing.extensions import db
from sharing.loans.models import Booking, BookingStatus
from sharing.regies.models import Regie
from tests.factories import Factories
from tests.federation.conftest import Served
from tests.loans.helpers import iso, soon


def cli(served: Served, *args: str) -> str:
    result = served.cli("federation", *args)
    assert result.exit_code == 0, result.output
    return result.output


@dataclass
class World:
    a: Served
    b: Served
    resource: Resource  # B's, replicated at A
    b_manager: User
    a_member: User
    a_headers: dict[str, str]
    b_headers: dict[str, str]

    def ask(self, hours: tuple[int, int] = (0, 4), **extra: Any) -> Any:
        """A's member asks for B's resource through A's API."""
        start = soon(3)
        return self.a.app.test_client().post(
            "/api/v1/bookings",
            json={
                "resource_id": str(self.resource.id),
                "starts_at": iso(start + timedelta(hours=hours[0])),
                "ends_at": iso(start + timedelta(hours=hours[1])),
                "note": "Chantier rue Garibaldi",
            }
            | extra,
            headers=self.a_headers,
        )

    def b_books(self, hours: tuple[int, int] = (0, 4)) -> Any:
        """A user of B's own régie asks for the same resource on B."""
        start = soon(3)
        return self.b.app.test_client().post(
            "/api/v1/bookings",
            json={
                "resource_id": str(self.resource.id),
                "starts_at": iso(start + timedelta(hours=hours[0])),
                "ends_at": iso(start + timedelta(hours=hours[1])),
            },
            headers=self.b_headers,
        )

    def bookings(self, served: Served) -> list[Booking]:
        with served.app.app_context():
            found = list(db.session.scalars(select(Booking).order_by(Booking.created_at)))
            for booking in found:
                booking.borrower_regie  # noqa: B018
            return found

    def instance_id(self, served: Served) -> uuid.UUID:
        with served.app.app_context():
            return federation.require_identity().id


@pytest.fixture
def world(paired_instances: tuple[Served, Served], make: Factories) -> World:
    a, b = paired_instances
    make_b = Factories(b.app)
    b_manager = make_b.user("manager", regie=make_b.regie(name="Régie de Lyon 8", city="Lyon"))
    resource = make_b.resource(b_manager, name="Remorque plateau 750 kg", category="vehicules")
    cli(a, "sync")
    a_member = make.user("member", regie=make.regie(name="Régie de Grenoble", city="Grenoble"))
    return World(a, b, resource, b_manager, a_member, make.auth(a_member), make_b.auth(b_manager))


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@contextmanager
def unreachable(at: Served, peer: Served) -> Iterator[None]:
    """``at`` cannot reach ``peer``: the address it paired with answers nothing."""
    with at.app.app_context():
        db.session.execute(update(Peer).where(Peer.url == peer.url).values(url=closed_port_url()))
        db.session.commit()
    try:
        yield
    finally:
        with at.app.app_context():
            db.session.execute(update(Peer).values(url=peer.url))
            db.session.commit()


def time_passes(served: Served) -> None:
    """Every waiting message is due (instead of sleeping through the backoff)."""
    with served.app.app_context():
        db.session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
        db.session.commit()


def test_a_request_is_forwarded_and_the_origin_answer_is_the_answer(world: World) -> None:
    answer = world.ask()

    assert answer.status_code == 201, answer.json
    assert answer.json["status"] == "requested"
    (mirror,) = world.bookings(world.a)
    (original,) = world.bookings(world.b)
    assert mirror.id == uuid.UUID(answer.json["id"])
    assert mirror.remote_booking_id == original.id
    assert mirror.request_id == original.request_id
    assert (mirror.remote_version, original.status) == (1, BookingStatus.REQUESTED)
    assert original.requested_by_id is None
    assert original.borrower_regie_id == world.a_member.regie_id
    assert original.borrower_regie.origin_instance_id == world.instance_id(world.a)
    assert original.note == "Chantier rue Garibaldi"
    with world.a.app.app_context():
        (message,) = db.session.scalars(select(OutboxMessage))
        assert message.sent_at is not None
        assert message.attempts == 0


def test_the_origin_refuses_a_taken_slot_and_nothing_stays(world: World) -> None:
    assert world.b_books().status_code == 201

    answer = world.ask(hours=(2, 6))

    assert answer.status_code == 409, answer.json
    assert answer.json["error"]["code"] == "booking_conflict"
    assert answer.json["error"]["details"]["conflicts"]
    assert world.bookings(world.a) == []
    assert len(world.bookings(world.b)) == 1
    with world.a.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_an_unreachable_origin_gets_the_request_later_through_sync(world: World) -> None:
    with unreachable(world.a, world.b):
        answer = world.ask()
        assert answer.status_code == 202, answer.json
        assert answer.json["status"] == "forwarding"
        with world.a.app.app_context():
            (message,) = db.session.scalars(select(OutboxMessage))
            assert (message.attempts, message.sent_at) == (1, None)
            assert message.next_attempt_at > utcnow()
    assert world.bookings(world.b) == []

    time_passes(world.a)
    output = cli(world.a, "sync")

    assert "sent=1" in output
    (mirror,) = world.bookings(world.a)
    (original,) = world.bookings(world.b)
    assert mirror.status == BookingStatus.REQUESTED
    assert mirror.remote_booking_id == original.id
    assert "sent=0" in cli(world.a, "sync")  # delivered once


def signed_request(world: World, body: dict[str, Any]) -> Any:
    with world.a.app.app_context():
        client = federation.default_client()
        try:
            return client.request("POST", world.b.url + "/federation/v1/bookings", json_body=body)
        except FederationError as error:
            return error


def request_body(world: World, regie: Regie | None = None) -> dict[str, Any]:
    with world.a.app.app_context():
        regie = regie or db.session.get(Regie, world.a_member.regie_id)
        start = soon(3)
        return {
            "request_id": str(uuid.uuid4()),
            "resource_id": str(world.resource.id),
            "regie": records.dump_regie(regie),
            "starts_at": iso(start),
            "ends_at": iso(start + timedelta(hours=4)),
            "note": "",
            "seen_version": 1,
        }


def test_the_same_request_id_gets_the_first_answer_even_at_once(world: World) -> None:
    body = request_body(world)
    first = signed_request(world, body).json()
    again = signed_request(world, body).json()
    assert again["booking_id"] == first["booking_id"]

    concurrent = request_body(world) | {"starts_at": iso(soon(5)), "ends_at": iso(soon(5.1))}
    answers: list[Any] = []
    barrier = threading.Barrier(4)

    def send() -> None:
        barrier.wait()
        answers.append(signed_request(world, concurrent))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert {answer.status for answer in answers} == {201}, answers
    assert len({answer.json()["booking_id"] for answer in answers}) == 1
    assert len(world.bookings(world.b)) == 2


def test_the_origin_decision_is_pushed_to_the_borrower(world: World) -> None:
    booking_id = world.ask().json["id"]
    (original,) = world.bookings(world.b)

    approved = world.b.app.test_client().post(
        f"/api/v1/bookings/{original.id}/approve", headers=world.b_headers
    )

    assert approved.status_code == 200, approved.json
    with world.a.app.app_context():
        mirror = db.session.get(Booking, uuid.UUID(booking_id))
        assert mirror is not None
        assert (mirror.status, mirror.remote_version) == (BookingStatus.APPROVED, 2)
    with world.b.app.app_context():
        (push,) = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "status"))
        assert push.sent_at is not None


def test_a_lost_push_heals_through_the_poll(world: World) -> None:
    booking_id = world.ask().json["id"]
    (original,) = world.bookings(world.b)
    with unreachable(world.b, world.a):
        approved = world.b.app.test_client().post(
            f"/api/v1/bookings/{original.id}/approve", headers=world.b_headers
        )
        assert approved.status_code == 200, approved.json
        with world.b.app.app_context():
            (push,) = db.session.scalars(select(OutboxMessage))
            assert push.sent_at is None  # the push did not get through
            db.session.delete(push)  # and is lost for good
            db.session.commit()
    assert world.bookings(world.a)[0].status == BookingStatus.REQUESTED

    output = cli(world.a, "sync")

    assert "reconciled=1" in output
    with world.a.app.app_context():
        mirror = db.session.get(Booking, uuid.UUID(booking_id))
        assert mirror is not None
        assert mirror.status == BookingStatus.APPROVED
    assert "reconciled=0" in cli(world.a, "sync")


def test_a_cancel_is_asked_of_the_origin_which_decides(world: World) -> None:
    booking_id = world.ask().json["id"]

    answer = world.a.app.test_client().post(
        f"/api/v1/bookings/{booking_id}/cancel",
        json={"reason": "Chantier reporté"},
        headers=world.a_headers,
    )

    assert answer.status_code == 200, answer.json
    assert answer.json["status"] == "cancelled"
    (original,) = world.bookings(world.b)
    assert original.status == BookingStatus.CANCELLED
    (mirror,) = world.bookings(world.a)
    assert (mirror.status, mirror.cancel_requested_at) == (BookingStatus.CANCELLED, None)
    # The slot is free at the origin again: B's own régie can take it.
    assert world.b_books().status_code == 201


def test_two_instances_asking_for_one_slot_at_once_get_one_booking(world: World) -> None:
    answers: dict[str, int] = {}
    barrier = threading.Barrier(2)

    def from_a() -> None:
        barrier.wait()
        answers["a"] = world.ask().status_code

    def from_b() -> None:
        barrier.wait()
        answers["b"] = world.b_books().status_code

    threads = [threading.Thread(target=from_a), threading.Thread(target=from_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(answers.values()) == [201, 409], answers
    active = [b for b in world.bookings(world.b) if b.status == BookingStatus.REQUESTED]
    assert len(active) == 1
    mirrors = world.bookings(world.a)
    assert len(mirrors) == (1 if answers["a"] == 201 else 0)


def test_a_peer_cannot_book_for_a_regie_it_does_not_host(world: World) -> None:
    with world.b.app.app_context():
        b_regie = db.session.get(Regie, world.b_manager.regie_id)
        assert b_regie is not None
        before = records.dump_regie(b_regie)
    body = request_body(world) | {"regie": before | {"name": "Usurpée", "version": 99}}

    refused = signed_request(world, body)

    assert isinstance(refused, FederationError)
    assert (refused.status, refused.code) == (403, "origin_mismatch")
    assert world.bookings(world.b) == []
    with world.b.app.app_context():
        b_regie = db.session.get(Regie, world.b_manager.regie_id)
        assert b_regie is not None
        assert records.dump_regie(b_regie) == before


def test_a_401_from_the_origin_is_not_retried(world: World) -> None:
    cli(world.b, "peers", "remove", world.a.url)  # B no longer knows A's key

    answer = world.ask()

    assert answer.status_code == 409, answer.json
    assert answer.json["error"]["code"] == "forwarding_failed"
    assert answer.json["error"]["details"]["origin_status"] == 401
    (mirror,) = world.bookings(world.a)
    assert mirror.status == BookingStatus.DECLINED
    with world.a.app.app_context():
        (message,) = db.session.scalars(select(OutboxMessage))
        assert message.failed_at is not None
        assert message.last_status == 401
        assert "unknown_key" in (message.last_error or "")
    time_passes(world.a)
    assert "sent=0 retried=0 failed=0" in cli(world.a, "deliver")
    with world.b.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SignatureFailure)) == 1
    assert "FAILED" in cli(world.a, "status")


def test_a_cancel_the_origin_cannot_hear_yet_waits_in_the_outbox(world: World) -> None:
    booking_id = world.ask().json["id"]
    with unreachable(world.a, world.b):
        answer = world.a.app.test_client().post(
            f"/api/v1/bookings/{booking_id}/cancel", headers=world.a_headers
        )
        assert answer.status_code == 202, answer.json
        assert answer.json["status"] == "requested"  # the origin has not decided yet
    assert world.bookings(world.b)[0].status == BookingStatus.REQUESTED

    time_passes(world.a)
    cli(world.a, "deliver")

    assert world.bookings(world.b)[0].status == BookingStatus.CANCELLED
    assert world.bookings(world.a)[0].status == BookingStatus.CANCELLED

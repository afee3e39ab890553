"""The pull sync under faults: a Hypothesis state machine (docs/federation.md §8, and
"What the tests must prove" in the requirements).

The origin is instance B (its own application and SQLite file); the replica is the test
application (SQLite or PostgreSQL). The replica's requests go through ``FaultyTransport``,
which wraps a transport that hands the real signed request to B's WSGI application (B verifies
every signature) and can: drop an answer B gave, serve a page twice, serve an older page, cut
a page short or send it empty, shift the request's clock (±30 s is accepted, ±10 min refused),
add records B does not own (forged origins) or that fail validation. The machine can also
crash the sync between applying a page and storing its cursor, restore the origin (new
epoch), and keep the replica away longer than the tombstones' retention (purge, 410).

Invariants, after every step: the replica's versions never go back and what left the replica
never comes back; nothing forged is stored; the cursor never skips (every change the origin's
feed holds at or below the replica's cursor is applied). At quiescence (a clean sync to the
end): the replica's records of B equal B's records (id, version, content as records.DUMPERS
writes them).
"""

import json
import random
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from federation import feed, records, services, signing
from federation import sync as federation_sync
from federation.client import HttpResponse
from federation.models import Change, Peer, QuarantinedRecord, ReplicaTombstone
from sharing.accounts import services as accounts
from sharing.accounts.models import Role, User
from sharing.catalogue import services as catalogue
from sharing.catalogue.models import Resource
from sharing.catalogue.schemas import ResourceArgs
from sharing.extensions import db
from sharing.library import services as library
from sharing.library.models import Document, DocumentType
from sharing.regies import replicas as regie_replicas
from sharing.regies import services as regies
from sharing.regies.models import Regie
from tests import database
from tests.federation.conftest import Served
from tests.federation.test_sync_e2e import published, replicated

REPLICA_URL = "https://replica.example.org"
CHANGES = "/federation/v1/changes"
MAX_EXAMPLES = 30
STEPS = 15


# Transports -------------------------------------------------------------------------------


@dataclass
class AppTransport:
    """Hands each request, headers and body as signed, to the WSGI application serving its
    base URL (no sockets); the application verifies the signature as over HTTP."""

    apps: dict[str, Flask]

    def send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float
    ) -> HttpResponse:
        for base, app in self.apps.items():
            if url.startswith(base + "/"):
                parts = urlsplit(url)
                target = parts.path + (f"?{parts.query}" if parts.query else "")
                answer = app.test_client().open(
                    target, method=method, headers=dict(headers), data=body
                )
                return HttpResponse(answer.status_code, dict(answer.headers), answer.get_data())
        raise OSError(f"{url}: no route to host")


@dataclass
class FaultyTransport:
    """The replica's network: ``faults`` lists what happens to its next feed requests, one
    entry per request (None: delivered as is)."""

    inner: AppTransport
    faults: list[str | HttpResponse | None] = field(default_factory=list)
    answered: list[HttpResponse] = field(default_factory=list)  # the feed pages served
    replay_next: HttpResponse | None = None
    forged: list[dict[str, Any]] = field(default_factory=list)  # injected by "forge"
    invalid: list[dict[str, Any]] = field(default_factory=list)  # injected by "invalid"
    rng: random.Random = field(default_factory=random.Random)

    def send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float
    ) -> HttpResponse:
        if CHANGES not in url:
            return self.inner.send(method, url, headers, body, timeout)
        if self.replay_next is not None:  # the second copy of a duplicated page
            answer, self.replay_next = self.replay_next, None
            return answer
        fault = self.faults.pop(0) if self.faults else None
        if isinstance(fault, HttpResponse):  # a given older page, out of order
            return fault
        if fault == "stale" and self.answered:
            return self.rng.choice(self.answered)  # an older page, out of order
        if fault in ("skew+30", "skew-30", "skew+600", "skew-600"):
            headers = self._resigned(method, url, headers, body, int(fault[4:]))
        answer = self.inner.send(method, url, headers, body, timeout)
        if answer.status != 200:
            return answer
        if fault == "drop":  # B answered, the answer never arrived
            raise OSError("connection reset by peer")
        if fault == "truncated":
            return HttpResponse(200, answer.headers, answer.body[: len(answer.body) // 2])
        if fault == "empty":
            return HttpResponse(200, answer.headers, b"")
        if fault in ("forge", "invalid"):
            page = answer.json()
            extra = self.forged if fault == "forge" else self.invalid
            seq = page["changes"][0]["seq"] if page["changes"] else 1
            page["changes"] = [dict(change, seq=seq) for change in extra] + page["changes"]
            answer = HttpResponse(200, answer.headers, json.dumps(page).encode())
        self.answered.append(answer)
        if fault == "duplicate":
            self.replay_next = answer
        return answer

    @staticmethod
    def _resigned(
        method: str, url: str, headers: Mapping[str, str], body: bytes | None, skew: int
    ) -> dict[str, str]:
        """The same request signed by a clock ``skew`` seconds off."""
        key_id, private_key = services.signing_credentials()
        kept = {
            k: v for k, v in headers.items() if k.lower() not in ("signature", "signature-input")
        }
        return kept | signing.sign_request(
            method,
            url,
            body=body,
            private_key=private_key,
            key_id=key_id,
            now=datetime.now(UTC) + timedelta(seconds=skew),
        )


class Crash(Exception):
    """The sync process dies between applying a page and storing its cursor."""


# Helpers on both instances ----------------------------------------------------------------


def wipe(app: Flask) -> None:
    database.empty(app)
    app.config["INSTANCE_ID"] = None


def state_of(app: Flask, origin: uuid.UUID) -> dict[tuple[str, str], int]:
    """What the replica holds of ``origin``: (type, id) → version, live records only."""
    return {key: record["version"] for key, record in replicated(Served(app, ""), origin).items()}


def regie_data(n: int, **fields: Any) -> dict[str, Any]:
    return {
        "name": f"Régie {n}",
        "slug": f"regie-{n}-{uuid.uuid4().hex[:6]}",
        "city": "Vierzon",
        "postcode": "18100",
        "timezone": "Europe/Paris",
        "contact_email": None,
        "contact_phone": None,
    } | fields


@pytest.fixture
def instances(app: Flask, b: Served) -> Iterator[tuple[Flask, Flask]]:
    """The replica (test application) and the origin (B) talking through apps, not sockets."""
    network = AppTransport({REPLICA_URL: app, b.url: b.app})
    saved = (
        app.extensions["federation"].transport,
        b.app.extensions["federation"].transport,
        app.config["FEDERATION_PAGE_SIZE"],
        b.app.config.get("PASSWORD_HASH_METHOD"),
    )
    app.extensions["federation"].transport = FaultyTransport(network)
    b.app.extensions["federation"].transport = network
    app.config["FEDERATION_PAGE_SIZE"] = 3  # many pages from little data
    b.app.config["PASSWORD_HASH_METHOD"] = "pbkdf2:sha256:1000"
    yield app, b.app
    app.extensions["federation"].transport, b.app.extensions["federation"].transport = saved[:2]
    app.config["FEDERATION_PAGE_SIZE"] = saved[2]
    b.app.config["PASSWORD_HASH_METHOD"] = saved[3]
    b.app.config["FEDERATION_TOMBSTONE_RETENTION_DAYS"] = 180
    wipe(b.app)


FAULTS = [
    None,
    "drop",
    "duplicate",
    "stale",
    "truncated",
    "empty",
    "skew+30",
    "skew-30",
    "skew+600",
    "skew-600",
    "forge",
    "invalid",
]

RUNS = {"examples": 0, "steps": 0}


def test_the_replica_converges_to_the_origin_under_faults(
    instances: tuple[Flask, Flask], b: Served
) -> None:
    replica, origin = instances

    class Sync(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            RUNS["examples"] += 1
            wipe(replica)
            wipe(origin)
            origin.config["FEDERATION_TOMBSTONE_RETENTION_DAYS"] = 180
            self.network: FaultyTransport = replica.extensions["federation"].transport
            self.network.faults, self.network.answered, self.network.replay_next = [], [], None
            with origin.app_context():
                me = services.init_instance(b.url, "Origine")
                db.session.commit()
                self.origin_id = me.id
            with replica.app_context():
                services.init_instance(REPLICA_URL, "Réplique")
                db.session.commit()
            with origin.app_context():
                services.add_peer(REPLICA_URL, None, client=services.default_client())
                db.session.commit()
            with replica.app_context():
                services.add_peer(b.url, None, client=services.default_client())
                db.session.commit()
                # What no peer may change here: a régie of ours, one of a third instance.
                local = regies.create_regie(None, regie_data(0, name="Régie locale"))
                self.third = uuid.uuid4()
                elsewhere, _ = regie_replicas.apply_regie(
                    self.third,
                    regie_data(1, name="Régie d'ailleurs") | {"id": uuid.uuid4(), "version": 1},
                )
                db.session.commit()
                self.protected = {
                    ("regie", str(local.id)): records.dump_regie(local),
                    ("regie", str(elsewhere.id)): records.dump_regie(elsewhere),
                }
                self.network.forged = self._forgeries(local, elsewhere)
            self.network.invalid = [
                {
                    "type": "resource",
                    "id": str(uuid.uuid4()),
                    "op": "upsert",
                    "version": 1,
                    "data": {"name": "", "regie_id": "not a uuid"},
                }
            ]
            self.managers: dict[uuid.UUID, uuid.UUID] = {}  # régie → its manager
            self.resources: list[uuid.UUID] = []
            self.documents: list[uuid.UUID] = []
            self.counter = 0
            self.last: dict[tuple[str, str], int] = {}  # the replica's versions so far
            self.left: set[tuple[str, str]] = set()  # records that left the replica

        @staticmethod
        def _forgeries(local: Regie, elsewhere: Regie) -> list[dict[str, Any]]:
            """Records B does not own: our own régie, a third instance's régie, a resource
            of that régie, and the deletion of that régie."""
            hijacked = records.dump_regie(local) | {"name": "Détournée", "version": 50}
            foreign = records.dump_regie(elsewhere)
            resource_id = str(uuid.uuid4())
            return [
                {
                    "type": "regie",
                    "id": hijacked["id"],
                    "op": "upsert",
                    "version": 50,
                    "data": hijacked,
                },
                {
                    "type": "resource",
                    "id": resource_id,
                    "op": "upsert",
                    "version": 1,
                    "data": {
                        "id": resource_id,
                        "version": 1,
                        "regie_id": foreign["id"],
                        "regie": foreign,
                        "name": "Intrus",
                        "category": "espaces-verts",
                        "status": "available",
                    },
                },
                {"type": "regie", "id": foreign["id"], "op": "delete", "version": 50, "data": None},
            ]

        # The origin's edits -------------------------------------------------------------

        def _actor(self, regie_id: uuid.UUID) -> User:
            user = db.session.get(User, self.managers[regie_id])
            assert user is not None
            return user

        @rule()
        def create_regie(self) -> None:
            self.counter += 1
            with origin.app_context():
                regie = regies.create_regie(None, regie_data(self.counter))
                db.session.flush()
                user = accounts.create_user(
                    None,
                    {
                        "email": f"m{self.counter}-{uuid.uuid4().hex[:6]}@regies.test",
                        "name": f"Responsable {self.counter}",
                        "password": "mot-de-passe-de-test",
                        "regie_id": regie.id,
                        "role": Role.MANAGER,
                    },
                )
                db.session.commit()
                self.managers[regie.id] = user.id

        @precondition(lambda self: self.managers)
        @rule(data=st.data(), city=st.sampled_from(["Lyon", "Bron", "Givors", "Meyzieu"]))
        def edit_regie(self, data: st.DataObject, city: str) -> None:
            regie_id = data.draw(st.sampled_from(sorted(self.managers)))
            with origin.app_context():
                regie = db.session.get(Regie, regie_id)
                regies.update_regie(self._actor(regie_id), regie, {"city": city})
                db.session.commit()

        @precondition(lambda self: self.managers)
        @rule(data=st.data())
        def create_resource(self, data: st.DataObject) -> None:
            regie_id = data.draw(st.sampled_from(sorted(self.managers)))
            self.counter += 1
            with origin.app_context():
                resource = catalogue.create_resource(
                    self._actor(regie_id),
                    ResourceArgs().load(
                        {"name": f"Matériel {self.counter}", "category": "espaces-verts"}
                    ),
                )
                db.session.commit()
                self.resources.append(resource.id)

        @precondition(lambda self: self.resources)
        @rule(data=st.data(), location=st.sampled_from(["Dépôt", "Atelier", "Garage"]))
        def edit_resource(self, data: st.DataObject, location: str) -> None:
            resource_id = data.draw(st.sampled_from(self.resources))
            with origin.app_context():
                resource = db.session.get(Resource, resource_id)
                assert resource is not None
                catalogue.update_resource(
                    self._actor(resource.regie_id), resource, {"location": location}
                )
                db.session.commit()

        @precondition(lambda self: self.resources)
        @rule(data=st.data())
        def delete_resource(self, data: st.DataObject) -> None:
            resource_id = data.draw(st.sampled_from(self.resources))
            self.resources.remove(resource_id)
            with origin.app_context():
                db.session.delete(db.session.get(Resource, resource_id))
                db.session.commit()

        @precondition(lambda self: self.managers)
        @rule(data=st.data())
        def create_document(self, data: st.DataObject) -> None:
            regie_id = data.draw(st.sampled_from(sorted(self.managers)))
            self.counter += 1
            with origin.app_context():
                document = library.create_document(
                    self._actor(regie_id),
                    {
                        "title": f"Fiche {self.counter}",
                        "themes": ["espaces-verts"],
                        "type": DocumentType.GUIDE,
                    },
                )
                db.session.commit()
                self.documents.append(document.id)

        @precondition(lambda self: self.documents)
        @rule(data=st.data(), summary=st.sampled_from(["Court.", "Un peu plus long.", ""]))
        def edit_document(self, data: st.DataObject, summary: str) -> None:
            document_id = data.draw(st.sampled_from(self.documents))
            with origin.app_context():
                document = db.session.get(Document, document_id)
                assert document is not None
                library.update_document(
                    self._actor(document.regie_id), document, {"summary": summary}
                )
                db.session.commit()

        @precondition(lambda self: self.documents)
        @rule(data=st.data())
        def delete_document(self, data: st.DataObject) -> None:
            document_id = data.draw(st.sampled_from(self.documents))
            self.documents.remove(document_id)
            with origin.app_context():
                document = db.session.get(Document, document_id)
                assert document is not None
                library.delete_document(self._actor(document.regie_id), document)
                db.session.commit()

        @rule()
        def restore_origin(self) -> None:
            """B restored from a backup: a new epoch, peers resync fully."""
            with origin.app_context():
                feed.new_epoch(services.require_identity())
                db.session.commit()

        @rule()
        def replica_away_longer_than_the_retention(self) -> None:
            """Every tombstone of B is older than the retention and purged."""
            with origin.app_context():
                db.session.execute(
                    sa.update(Change)
                    .where(Change.op == feed.DELETE)
                    .values(changed_at=datetime.now(UTC) - timedelta(days=181))
                )
                feed.purge_tombstones()
                db.session.commit()

        # The replica's pulls ------------------------------------------------------------

        def _peer(self) -> Peer:
            peer = db.session.scalar(sa.select(Peer))
            assert peer is not None
            return peer

        def _sync(self) -> federation_sync.SyncReport:
            try:
                with replica.app_context():
                    return federation_sync.sync_peer(self._peer(), services.default_client())
            finally:  # faults meant for this sync that it did not use are forgotten
                self.network.faults, self.network.replay_next = [], None

        @rule(
            faults=st.lists(st.sampled_from(FAULTS), min_size=1, max_size=3),
            seed=st.integers(0, 2**16),
        )
        def sync(self, faults: list[str | None], seed: int) -> None:
            self.network.faults = list(faults)
            self.network.rng.seed(seed)
            with replica.app_context():
                before = self._peer().cursor
            report = self._sync()
            self.network.faults = []
            self.network.replay_next = None
            if faults[0] in ("skew+600", "skew-600"):  # the first request is refused
                assert not report.ok
                assert report.pages == 0
                with replica.app_context():
                    peer = self._peer()
                    assert peer.last_error is not None
                    assert "expired" in peer.last_error
                    assert peer.cursor == before  # nothing applied
            if report.ok:
                assert report.counts["rejected"] % 3 == 0  # every forgery refused, whole

        @precondition(lambda self: self.network.answered)
        @rule(picks=st.lists(st.integers(0, 10_000), min_size=1, max_size=4))
        def replay_old_pages(self, picks: list[int]) -> None:
            """Pages served before arrive again, late and out of order, each alone (the peer
            is unreachable right after it): what it did is seen before a later page heals it."""
            for pick in picks:
                old = self.network.answered[pick % len(self.network.answered)]
                self.network.faults = [old, "drop"]  # and nothing after it, this time
                self._sync()

        @rule()
        def crash_between_apply_and_cursor_save(self) -> None:
            with replica.app_context():
                peer = self._peer()
                cursor, resyncing = peer.cursor, peer.resyncing
            held = state_of(replica, self.origin_id)
            apply = federation_sync._apply_changes

            def apply_then_die(*args: Any, **kwargs: Any) -> None:
                apply(*args, **kwargs)
                raise Crash

            federation_sync._apply_changes = apply_then_die  # type: ignore[assignment]
            try:
                with replica.app_context():
                    with pytest.raises(Crash):
                        federation_sync.sync_peer(self._peer(), services.default_client())
                    db.session.rollback()  # the process died: its transaction is gone
            finally:
                federation_sync._apply_changes = apply  # type: ignore[assignment]
            with replica.app_context():
                peer = self._peer()
                if not resyncing and not peer.resyncing:
                    assert peer.cursor == cursor  # not moved by the dead transaction
            assert state_of(replica, self.origin_id) == held  # nothing of it stayed

        @rule()
        def quiesce(self) -> None:
            """A clean sync to the end: the replica equals the origin."""
            for _ in range(3):
                report = self._sync()
                assert report.ok, report.error
                if report.pages <= 1 and not report.counts["added"] + report.counts["updated"]:
                    break
            assert replicated(Served(replica, ""), self.origin_id) == published(Served(origin, ""))
            with replica.app_context():
                peer = self._peer()
                assert not peer.resyncing
                live = set(state_of(replica, self.origin_id))
                buried = {
                    (t.record_type, str(t.record_id))
                    for t in db.session.scalars(sa.select(ReplicaTombstone))
                }
                assert not live & buried

        # Invariants ---------------------------------------------------------------------

        @invariant()
        def count_steps(self) -> None:
            RUNS["steps"] += 1

        @invariant()
        def nothing_forged_is_stored(self) -> None:
            with replica.app_context():
                for (record_type, record_id), dumped in self.protected.items():
                    regie = db.session.get(Regie, uuid.UUID(record_id))
                    assert regie is not None
                    assert records.dump_regie(regie) == dumped
                    assert not db.session.scalars(
                        sa.select(Resource.id).where(Resource.regie_id == regie.id)
                    ).all()
                    assert db.session.get(ReplicaTombstone, (record_type, regie.id)) is None
                quarantined = {
                    q.record_id for q in db.session.scalars(sa.select(QuarantinedRecord))
                }
                assert quarantined <= {change["id"] for change in self.network.invalid}

        @invariant()
        def versions_never_go_back_and_what_left_never_comes_back(self) -> None:
            now = state_of(replica, self.origin_id)
            for key, version in now.items():
                assert key not in self.left, f"{key} came back"
                assert version >= self.last.get(key, 0), f"{key} went back"
            self.left |= set(self.last) - set(now)
            self.last = now

        @invariant()
        def the_cursor_never_skips(self) -> None:
            """Every change of B's feed at or below the replica's cursor (same epoch) is
            applied: the record is there at that version or later, or gone if deleted."""
            with replica.app_context():
                peer = self._peer()
                epoch, seq = peer.epoch, peer.cursor_seq
            if epoch is None or not seq:
                return
            with origin.app_context():
                if services.require_identity().epoch != epoch:
                    return
                behind = db.session.execute(
                    sa.select(
                        Change.record_type, Change.record_id, Change.op, Change.version
                    ).where(Change.seq <= seq)
                ).all()
            held = state_of(replica, self.origin_id)
            for record_type, record_id, op, version in behind:
                key = (record_type, str(record_id))
                if op == feed.DELETE:
                    assert key not in held, f"{key} deleted at the origin, still here"
                else:
                    assert held.get(key, 0) >= version, f"{key} v{version} skipped"

        def teardown(self) -> None:
            self.quiesce()

    run_state_machine_as_test(
        Sync,
        settings=settings(
            max_examples=MAX_EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
            database=None,
        ),
    )
    print(f"\nHypothesis: {RUNS['examples']} examples, {RUNS['steps']} steps")

"""The origin rule against a forged deletion: a peer that is not a record's origin cannot
bury it before its origin sends it (pages served by a scripted peer; sync_peer as the cron
job runs it)."""

import json
import uuid
from typing import Any

from flask import Flask

from federation import sync
from federation.client import HttpResponse, PreparedRequest
from federation.models import Peer
from sharing.catalogue.models import Resource
from sharing.extensions import db


class ScriptedPeer:
    """Answers the change feed with one prepared page, whatever the cursor."""

    def __init__(self, peer: Peer, changes: list[dict[str, Any]]):
        self.page = {
            "instance_id": str(peer.instance_id),
            "epoch": str(uuid.uuid4()),
            "head": len(changes),
            "changes": changes,
            "next": "x:1",
            "has_more": False,
        }

    def prepare(self, method: str, url: str, **_: Any) -> PreparedRequest:
        return PreparedRequest(method, url, {}, None)

    def send(self, request: PreparedRequest) -> HttpResponse:
        return HttpResponse(200, {}, json.dumps(self.page).encode())

    def request(self, method: str, url: str, **_: Any) -> HttpResponse:
        return self.send(self.prepare(method, url))


def peer(name: str) -> Peer:
    found = Peer(
        instance_id=uuid.uuid4(),
        url=f"https://{name}.example.org",
        name=name,
        key_id=f"{name}#0",
        public_key="-",
        fingerprint="-",
    )
    db.session.add(found)
    db.session.commit()
    return found


def resource_change(resource_id: uuid.UUID, regie_id: uuid.UUID, version: int) -> dict[str, Any]:
    regie = {
        "id": str(regie_id),
        "version": 1,
        "name": "Régie de Lyon 8",
        "slug": "lyon-8",
        "city": "Lyon",
        "postcode": "69008",
        "timezone": "Europe/Paris",
        "contact_email": None,
        "contact_phone": None,
    }
    data = {
        "id": str(resource_id),
        "version": version,
        "regie_id": str(regie_id),
        "regie": regie,
        "name": "Broyeur de végétaux",
        "description": "",
        "category": "espaces-verts",
        "condition": "good",
        "location": "",
        "status": "available",
        "deposit_eur": None,
        "replacement_value_eur": None,
        "max_loan_days": None,
        "min_notice_hours": 0,
        "requirements": "",
    }
    return {
        "seq": 1,
        "type": "resource",
        "id": str(resource_id),
        "op": "upsert",
        "version": version,
        "data": data,
    }


def test_a_forged_deletion_does_not_bury_a_record_of_another_origin(app: Flask) -> None:
    resource_id, regie_id = uuid.uuid4(), uuid.uuid4()
    with app.app_context():
        forger, origin = peer("forger"), peer("origin")
        forged = [
            {
                "seq": 1,
                "type": "resource",
                "id": str(resource_id),
                "op": "delete",
                "version": 99,
                "data": None,
            }
        ]
        assert sync.sync_peer(forger, ScriptedPeer(forger, forged)).ok

        genuine = [resource_change(resource_id, regie_id, version=1)]
        report = sync.sync_peer(origin, ScriptedPeer(origin, genuine))

        assert report.ok, report.error
        assert report.counts["added"] == 1
        assert db.session.get(Resource, resource_id) is not None


def test_the_origin_deletion_still_buries_its_record_against_late_upserts(app: Flask) -> None:
    resource_id, regie_id = uuid.uuid4(), uuid.uuid4()
    with app.app_context():
        origin = peer("origin")
        sync.sync_peer(origin, ScriptedPeer(origin, [resource_change(resource_id, regie_id, 1)]))
        deleted = [
            {
                "seq": 2,
                "type": "resource",
                "id": str(resource_id),
                "op": "delete",
                "version": 2,
                "data": None,
            }
        ]
        sync.sync_peer(origin, ScriptedPeer(origin, deleted))

        late = sync.sync_peer(
            origin, ScriptedPeer(origin, [resource_change(resource_id, regie_id, 1)])
        )

        assert late.counts["unchanged"] == 1
        assert db.session.get(Resource, resource_id) is None

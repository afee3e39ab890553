"""Sync end to end over real HTTP on 127.0.0.1: instance B (its own application and SQLite
file) publishes régies, resources and documents; instance A (the test application, on the test
database: SQLite or PostgreSQL) pulls them with ``flask federation sync`` as an administrator's
cron job would, and keeps read-only replicas equal to B's records."""

import io
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from federation import records
from federation.models import Peer, ReplicaTombstone
from sharing.accounts.models import User
from sharing.catalogue.models import Resource
from sharing.extensions import db
from sharing.library import files
from sharing.library import services as library
from sharing.library.models import Attachment, Document
from sharing.regies.models import Regie
from tests.factories import Factories
from tests.federation.conftest import Served

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def sync(a: Served, *args: str) -> str:
    result = a.cli("federation", "sync", *args)
    assert result.exit_code == 0, result.output
    return result.output


def published(served: Served) -> dict[tuple[str, str], dict[str, Any]]:
    """Every record ``served`` owns, as its feed writes it."""
    with served.app.app_context():
        out = {}
        for record_type, model in records.MODELS.items():
            for record in db.session.scalars(select(model)):
                regie = record if isinstance(record, Regie) else record.regie
                if regie.is_local and not getattr(record, "deleted_at", None):
                    out[(record_type, str(record.id))] = records.DUMPERS[record_type](record)
        return out


def replicated(served: Served, origin: uuid.UUID) -> dict[tuple[str, str], dict[str, Any]]:
    """Every replica ``served`` holds of ``origin``'s records, written the same way."""
    with served.app.app_context():
        out = {}
        for record_type, model in records.MODELS.items():
            for record in db.session.scalars(select(model)):
                regie = record if isinstance(record, Regie) else record.regie
                if regie.origin_instance_id == origin and not getattr(record, "deleted_at", None):
                    out[(record_type, str(record.id))] = records.DUMPERS[record_type](record)
        return out


def instance_id(served: Served) -> uuid.UUID:
    with served.app.app_context():
        from federation import services

        return services.require_identity().id


@pytest.fixture
def b_content(paired_instances: tuple[Served, Served]) -> dict[str, Any]:
    """On B: a régie with a manager, a resource and a document with a PDF attached."""
    _, b = paired_instances
    make = Factories(b.app)
    manager = make.user("manager", regie=make.regie(name="Régie de Lyon 8", city="Lyon"))
    resource = make.resource(manager, name="Remorque plateau 750 kg", category="vehicules")
    headers = make.auth(manager)
    client = b.app.test_client()
    made = client.post(
        "/api/v1/documents",
        json={
            "title": "Fiche pratique : désherbage zéro phyto",
            "themes": ["espaces-verts"],
            "type": "fiche-pratique",
            "body": "Le désherbage **thermique**.",
        },
        headers=headers,
    )
    assert made.status_code == 201, made.json
    document_id = made.json["id"]
    uploaded = client.post(
        f"/api/v1/documents/{document_id}/attachments",
        data={"file": (io.BytesIO(PDF), "fiche.pdf", "application/pdf")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 201, uploaded.json
    return {
        "manager": manager,
        "resource": resource,
        "document_id": document_id,
        "headers": headers,
    }


def test_a_pulls_b_and_holds_replicas_equal_to_b_records(
    paired_instances: tuple[Served, Served], b_content: dict[str, Any]
) -> None:
    a, b = paired_instances

    output = sync(a)

    assert "ok" in output
    origin = instance_id(b)
    assert replicated(a, origin) == published(b)
    assert len(published(b)) == 3
    with a.app.app_context():
        (peer,) = db.session.scalars(select(Peer))
        assert (peer.records_added, peer.records_quarantined, peer.records_rejected) == (3, 0, 0)
        assert peer.lag == 0
        document = db.session.get(Document, uuid.UUID(b_content["document_id"]))
        assert document is not None
        assert not document.is_local
        (attachment,) = document.attachments
        assert not attachment.is_pending  # fetched by hash and verified
        assert files.blob_path(attachment.sha256).read_bytes() == PDF
        hits = library.search_library(q="désherbage thermique")
        assert [hit.id for hit in hits.items] == [document.id]


def test_a_second_sync_changes_nothing_and_edits_and_deletions_follow(
    paired_instances: tuple[Served, Served], b_content: dict[str, Any]
) -> None:
    a, b = paired_instances
    sync(a)

    again = sync(a)
    assert "added=0 updated=0 deleted=0" in again

    client = b.app.test_client()
    resource_id = b_content["resource"].id
    patched = client.patch(
        f"/api/v1/resources/{resource_id}",
        json={"location": "Dépôt Gerland"},
        headers=b_content["headers"],
    )
    assert patched.status_code == 200, patched.json
    deleted = client.delete(
        f"/api/v1/documents/{b_content['document_id']}", headers=b_content["headers"]
    )
    assert deleted.status_code == 204

    output = sync(a)

    assert "updated=1" in output
    assert "deleted=1" in output
    assert replicated(a, instance_id(b)) == published(b)
    with a.app.app_context():
        resource = db.session.get(Resource, resource_id)
        assert resource is not None
        assert (resource.location, resource.version) == ("Dépôt Gerland", 2)
        tombstone = db.session.get(
            ReplicaTombstone, ("document", uuid.UUID(b_content["document_id"]))
        )
        assert tombstone is not None


def test_replicas_are_read_only_through_the_api(
    paired_instances: tuple[Served, Served], b_content: dict[str, Any], make: Factories
) -> None:
    a, _ = paired_instances
    sync(a)
    with a.app.app_context():
        replica_regie = db.session.scalar(select(Regie).where(Regie.origin_instance_id.isnot(None)))
        assert replica_regie is not None
    local_admin = make.user("admin")
    headers = make.auth(local_admin)
    client = a.app.test_client()

    resource_id = b_content["resource"].id
    answer = client.patch(f"/api/v1/resources/{resource_id}", json={"name": "x"}, headers=headers)
    assert answer.status_code in (403, 409)
    if answer.status_code == 409:
        assert answer.json["error"]["code"] == "read_only_replica"
    answer = client.patch(f"/api/v1/regies/{replica_regie.id}", json={"city": "x"}, headers=headers)
    assert answer.status_code == 409
    assert answer.json["error"]["code"] == "read_only_replica"
    listed = client.get("/api/v1/resources", headers=headers).json["items"]
    (item,) = [r for r in listed if r["id"] == str(resource_id)]
    assert item["origin"]["is_local"] is False
    assert item["origin"]["instance_id"] == str(instance_id(paired_instances[1]))


def test_nothing_is_published_from_replicas(
    paired_instances: tuple[Served, Served], b_content: dict[str, Any]
) -> None:
    """A pulls B; B pulls A: B must get nothing back (no relaying, no loops)."""
    a, b = paired_instances
    sync(a)

    output = sync(b)

    assert "added=0" in output
    with b.app.app_context():
        assert db.session.scalar(select(Regie).where(Regie.origin_instance_id.isnot(None))) is None
    with a.app.app_context():
        users = db.session.scalars(select(User)).all()
        assert users == []  # accounts are never replicated
        assert db.session.scalars(select(Attachment)).all() != []

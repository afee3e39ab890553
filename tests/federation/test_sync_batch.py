"""A sync page adds the records it brings as rows written at its end (``NewReplicas``): the
cases where a page speaks of such a record again before that end, and a new document's rows
(pages served by a scripted peer; sync_peer as the cron job runs it)."""

import logging
import uuid
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from federation import sync
from federation.models import ReplicaTombstone
from sharing import search
from sharing.catalogue.models import Resource
from sharing.extensions import db
from sharing.library.models import SEARCH_KIND, Document, DocumentVersion
from sharing.regies.models import Regie
from sharing.replicas import NewReplicas
from tests.federation.test_sync_origin_rule import ScriptedPeer, peer, resource_change


@pytest.fixture(autouse=True)
def _the_page_is_written_at_once(caplog: pytest.LogCaptureFixture) -> Any:
    """A page the batch mishandles still ends right, applied again record by record after
    the error (``_pull_one_page``): each test here also checks that did not happen."""
    with caplog.at_level(logging.WARNING, logger="federation.sync"):
        yield
    assert not [r for r in caplog.get_records("call") if "record by record" in r.getMessage()]


def page_of(*changes: dict[str, Any]) -> list[dict[str, Any]]:
    return [change | {"seq": seq} for seq, change in enumerate(changes, start=1)]


def renamed(change: dict[str, Any], version: int, name: str) -> dict[str, Any]:
    return change | {
        "version": version,
        "data": change["data"] | {"version": version, "name": name},
    }


def found(kind: str, words: str) -> set[uuid.UUID]:
    return {row[0] for row in db.session.execute(search.matches(kind, words))}


def test_a_new_record_twice_in_a_page_ends_at_its_latest_version(app: Flask) -> None:
    with app.app_context():
        origin = peer("lyon")
        resource_id, regie_id = uuid.uuid4(), uuid.uuid4()
        first = resource_change(resource_id, regie_id, 1)
        changes = page_of(
            first, renamed(first, 3, "Broyeur thermique"), renamed(first, 2, "Broyeur électrique")
        )
        report = sync.sync_peer(origin, ScriptedPeer(origin, changes))  # type: ignore[arg-type]

        assert report.ok, report.error
        assert (report.counts["added"], report.counts["updated"]) == (1, 1)
        assert report.counts["unchanged"] == 1  # version 2, after version 3
        resource = db.session.get(Resource, resource_id)
        assert resource is not None
        assert (resource.version, resource.name) == (3, "Broyeur thermique")
        assert found("resource", "thermique") == {resource_id}
        assert found("resource", "électrique") == set()


def test_a_new_record_deleted_later_in_its_page_stays_deleted(app: Flask) -> None:
    with app.app_context():
        origin = peer("lyon")
        resource_id, regie_id = uuid.uuid4(), uuid.uuid4()
        deletion = {"type": "resource", "id": str(resource_id), "op": "delete", "version": 2}
        changes = page_of(resource_change(resource_id, regie_id, 1), deletion)
        report = sync.sync_peer(origin, ScriptedPeer(origin, changes))  # type: ignore[arg-type]

        assert report.ok, report.error
        assert (report.counts["added"], report.counts["deleted"]) == (1, 1)
        assert db.session.get(Resource, resource_id) is None
        tombstone = db.session.scalar(
            select(ReplicaTombstone).where(ReplicaTombstone.record_id == resource_id)
        )
        assert tombstone is not None
        assert tombstone.version == 2
        assert found("resource", "broyeur") == set()


def test_a_regie_deleted_after_its_new_resources_stays_for_them(app: Flask) -> None:
    with app.app_context():
        origin = peer("lyon")
        resource_id, regie_id = uuid.uuid4(), uuid.uuid4()
        added = resource_change(resource_id, regie_id, 1)
        regie = {"type": "regie", "id": str(regie_id), "op": "upsert", "version": 1}
        first = ScriptedPeer(origin, page_of(regie | {"data": added["data"]["regie"]}))
        assert sync.sync_peer(origin, first).ok  # type: ignore[arg-type]
        deletion = {"type": "regie", "id": str(regie_id), "op": "delete", "version": 2}
        then = ScriptedPeer(origin, page_of(added, deletion))
        then.page["epoch"] = first.page["epoch"]
        report = sync.sync_peer(origin, then)  # type: ignore[arg-type]

        assert report.ok, report.error
        assert report.counts["quarantined"] == report.counts["rejected"] == 0
        assert db.session.get(Resource, resource_id) is not None
        assert db.session.get(Regie, regie_id) is not None  # its resource still refers to it


def test_a_new_document_gets_the_rows_a_single_one_would(app: Flask) -> None:
    with app.app_context():
        origin = peer("lyon")
        document_id, regie_id = uuid.uuid4(), uuid.uuid4()
        regie = resource_change(uuid.uuid4(), regie_id, 1)["data"]["regie"]
        data = {
            "id": str(document_id),
            "version": 4,
            "regie_id": str(regie_id),
            "regie": regie,
            "title": "Organiser un chantier d'insertion en maraîchage",
            "summary": "Retour d'expérience de la régie de Lyon 8.",
            "body": "Planifier les semis avec les salariés en parcours.",
            "themes": ["insertion", "maraichage-alimentation", "insertion"],
            "tags": ["semis", "chantier", "semis"],
            "type": "guide",
            "licence": "CC-BY-SA-4.0",
            "attachments": [
                {
                    "sha256": "ab" * 32,
                    "size": 1200,
                    "media_type": "application/pdf",
                    "filename": "planning.pdf",
                }
            ],
            "created_at": "2026-03-02T09:00:00Z",
        }
        change = {"type": "document", "id": str(document_id), "op": "upsert", "version": 4}
        changes = page_of(change | {"data": data})
        report = sync.sync_peer(origin, ScriptedPeer(origin, changes))  # type: ignore[arg-type]

        assert report.ok, report.error
        assert report.counts["added"] == 1
        db.session.expire_all()
        document = db.session.get(Document, document_id)
        assert document is not None
        assert document.regie_id == regie_id
        assert document.version == 4
        assert document.created_at.isoformat() == "2026-03-02T09:00:00+00:00"
        assert document.themes == ["maraichage-alimentation", "insertion"]  # vocabulary order
        assert document.tags == ["chantier", "semis"]
        (attachment,) = document.attachments
        assert (attachment.filename, attachment.size, attachment.is_pending) == (
            "planning.pdf",
            1200,
            True,
        )
        (version,) = db.session.scalars(
            select(DocumentVersion).where(DocumentVersion.document_id == document_id)
        )
        assert (version.number, version.author_id, version.title) == (4, None, data["title"])
        assert (version.themes, version.tags) == (document.themes, document.tags)
        # Found by its body, a tag and a theme's label, as a local document is.
        for words in ("semis salariés", "chantier", "Maraîchage et alimentation"):
            assert found(SEARCH_KIND, words) == {document_id}, words


def test_a_row_the_database_refuses_fails_as_an_insert_would(app: Flask) -> None:
    """The sync retries a page record by record on SQLAlchemy's errors: COPY's must be too."""
    with app.app_context():
        origin = peer("lyon")
        resource_id, regie_id = uuid.uuid4(), uuid.uuid4()
        changes = page_of(resource_change(resource_id, regie_id, 1))
        report = sync.sync_peer(origin, ScriptedPeer(origin, changes))  # type: ignore[arg-type]
        assert report.ok, report.error
        held = db.session.get(Resource, resource_id)
        assert held is not None
        new = NewReplicas()
        row = {column.name: getattr(held, column.name) for column in Resource.__table__.columns}
        new.add(resource_id, {Resource: [row]})  # the same id again

        with pytest.raises(IntegrityError):
            new.write()
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(Resource)) == 1


def test_a_page_the_database_refuses_is_applied_record_by_record(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    """Two new régies of one page with the same slug: written together they break its
    unique index; one at a time, the second gets its origin's suffix."""
    with app.app_context():
        origin = peer("lyon")
        changes = page_of(*(resource_change(uuid.uuid4(), uuid.uuid4(), 1) for _ in range(2)))
        report = sync.sync_peer(origin, ScriptedPeer(origin, changes))  # type: ignore[arg-type]

        assert report.ok, report.error
        assert (report.counts["added"], report.counts["quarantined"]) == (2, 0)
        slugs = set(db.session.scalars(select(Regie.slug)))
        assert slugs == {"lyon-8", f"lyon-8-{origin.instance_id.hex[:8]}"}
        assert db.session.scalar(select(func.count()).select_from(Resource)) == 2
    caplog.clear()  # the retry was logged, as it should be here

"""The change feed on its own (docs/federation.md §7): ``/federation/v1/changes`` read with
requests signed by a paired peer, and ``feed.read_page`` / ``feed.purge_tombstones`` directly.

Pagination, compaction, records edited while a peer pages, tombstones, the limit, cursors of
another epoch or older than the purged tombstones (410), the tombstones' retention, replicas
never published, and unsigned requests refused."""

import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from federation import feed, services
from federation.models import Change, FeedCounter, Instance, Peer
from sharing.accounts.models import User
from sharing.catalogue import services as catalogue
from sharing.catalogue.models import Resource
from sharing.db import utcnow
from sharing.extensions import db
from sharing.library import services as library
from sharing.library.models import Document
from sharing.library.models import DocumentType as Kind
from sharing.regies import replicas as regie_replicas
from sharing.regies import services as regies
from sharing.regies.models import Regie
from tests.factories import Factories
from tests.federation.conftest import LOCAL_URL, RemoteInstance

PATH = "/federation/v1/changes"


def changes(
    client: FlaskClient, remote: RemoteInstance, since: str | None = None, limit: Any = None
) -> Any:
    """GET the feed as ``remote`` (signed for our published URL)."""
    query: dict[str, Any] = {}
    if since is not None:
        query["since"] = since
    if limit is not None:
        query["limit"] = limit
    target = PATH + (f"?{urlencode(query)}" if query else "")
    return client.get(target, headers=remote.sign("GET", LOCAL_URL + target))


def read_all(client: FlaskClient, remote: RemoteInstance, since: str | None = None, limit: int = 2):
    """Every page from ``since`` to the end: (pages, last cursor)."""
    pages = []
    while True:
        answer = changes(client, remote, since, limit)
        assert answer.status_code == 200, answer.json
        pages.append(answer.json)
        since = answer.json["next"]
        if not answer.json["has_more"]:
            return pages, since


def entries(pages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [change for page in pages for change in page["changes"]]


def edit_regie(app: Flask, manager: User, regie_id: uuid.UUID, **data: Any) -> None:
    with app.app_context():
        regies.update_regie(db.session.get(User, manager.id), db.session.get(Regie, regie_id), data)
        db.session.commit()


@pytest.fixture
def feed_client(client: FlaskClient, paired: Peer) -> FlaskClient:
    return client


def test_pages_follow_each_other_with_has_more_and_next(
    feed_client: FlaskClient, remote: RemoteInstance, make: Factories, identity: Instance
) -> None:
    made = [make.regie(name=f"Régie {n}") for n in range(5)]

    pages, last = read_all(feed_client, remote, limit=2)

    assert [len(page["changes"]) for page in pages] == [2, 2, 1]
    assert [page["has_more"] for page in pages] == [True, True, False]
    listed = entries(pages)
    assert [change["id"] for change in listed] == [str(regie.id) for regie in made]
    seqs = [change["seq"] for change in listed]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == 5
    for page in pages:
        assert page["instance_id"] == str(identity.id)
        assert page["epoch"] == str(identity.epoch)
        assert page["head"] == seqs[-1]
        assert page["next"] == f"{identity.epoch}:{page['changes'][-1]['seq']}"
    assert all(change["op"] == "upsert" and change["type"] == "regie" for change in listed)
    assert listed[0]["data"]["name"] == "Régie 0"
    assert listed[0]["version"] == listed[0]["data"]["version"] == 1
    # At the end, the cursor stays where it is and the page is empty.
    answer = changes(feed_client, remote, last, 2)
    assert answer.json["changes"] == []
    assert answer.json["has_more"] is False
    assert answer.json["next"] == last


def test_a_record_edited_twice_appears_once_at_its_latest_seq(
    app: Flask, feed_client: FlaskClient, remote: RemoteInstance, make: Factories, paired: Peer
) -> None:
    manager = make.user("manager")
    other = make.regie()
    edit_regie(app, manager, manager.regie_id, city="Lyon")
    edit_regie(app, manager, manager.regie_id, city="Bron")

    listed = entries(read_all(feed_client, remote, limit=10)[0])

    ids = [change["id"] for change in listed]
    assert ids == [str(other.id), str(manager.regie_id)]  # moved past the other one
    latest = listed[-1]
    assert (latest["version"], latest["data"]["city"]) == (3, "Bron")
    with app.app_context():
        assert db.session.scalar(select(FeedCounter.last_seq)) == latest["seq"]
        assert db.session.scalar(select(db.func.count()).select_from(Change)) == 2


def test_a_record_edited_while_a_peer_pages_is_seen_again_never_missed(
    app: Flask, feed_client: FlaskClient, remote: RemoteInstance, make: Factories, paired: Peer
) -> None:
    managers = [make.user("manager") for _ in range(3)]  # régies 1, 2, 3 in that order
    first = changes(feed_client, remote, None, 1).json
    assert [c["id"] for c in first["changes"]] == [str(managers[0].regie_id)]

    # Régie 1 (already read) and régie 2 (not yet read) change while the peer pages.
    edit_regie(app, managers[0], managers[0].regie_id, city="Vénissieux")
    edit_regie(app, managers[1], managers[1].regie_id, city="Vaulx-en-Velin")
    rest = entries(read_all(feed_client, remote, first["next"], limit=1)[0])

    assert [c["id"] for c in rest] == [
        str(managers[2].regie_id),
        str(managers[0].regie_id),
        str(managers[1].regie_id),
    ]
    assert rest[1]["data"]["city"] == "Vénissieux"
    assert rest[2]["data"]["city"] == "Vaulx-en-Velin"


def test_a_change_committed_after_the_page_was_read_gets_a_higher_seq(
    app: Flask, feed_client: FlaskClient, remote: RemoteInstance, make: Factories, paired: Peer
) -> None:
    manager = make.user("manager")
    page = changes(feed_client, remote, None, 100).json
    edit_regie(app, manager, manager.regie_id, city="Givors")

    after = changes(feed_client, remote, page["next"], 100).json

    assert [c["data"]["city"] for c in after["changes"]] == ["Givors"]
    assert after["changes"][0]["seq"] > page["head"]


def test_a_deleted_document_is_a_tombstone_without_data(
    app: Flask, feed_client: FlaskClient, remote: RemoteInstance, make: Factories, paired: Peer
) -> None:
    manager = make.user("manager")
    with app.app_context():
        actor = db.session.get(User, manager.id)
        document = library.create_document(
            actor, {"title": "Fiche", "themes": ["espaces-verts"], "type": Kind.GUIDE}
        )
        db.session.commit()
        document_id = document.id
    cursor = read_all(feed_client, remote, limit=10)[1]
    with app.app_context():
        library.delete_document(
            db.session.get(User, manager.id), db.session.get(Document, document_id)
        )
        db.session.commit()

    (tombstone,) = entries(read_all(feed_client, remote, cursor, limit=10)[0])

    assert tombstone["id"] == str(document_id)
    assert (tombstone["type"], tombstone["op"], tombstone["data"]) == ("document", "delete", None)
    assert tombstone["version"] == 2  # the deleting version: an older upsert cannot win
    # Read from the beginning, the document is listed once, as its tombstone.
    everything = entries(read_all(feed_client, remote, limit=10)[0])
    assert [c["op"] for c in everything if c["id"] == str(document_id)] == ["delete"]


def test_a_record_removed_from_the_database_is_a_tombstone(
    app: Flask, feed_client: FlaskClient, remote: RemoteInstance, make: Factories, paired: Peer
) -> None:
    resource = make.resource()
    with app.app_context():
        db.session.delete(db.session.get(Resource, resource.id))
        db.session.commit()

    listed = entries(read_all(feed_client, remote, limit=10)[0])

    (gone,) = [c for c in listed if c["id"] == str(resource.id)]
    assert (gone["op"], gone["data"], gone["version"]) == ("delete", None, 1)


def test_the_feed_publishes_resources_and_documents_with_their_regie(
    app: Flask, feed_client: FlaskClient, remote: RemoteInstance, make: Factories, paired: Peer
) -> None:
    manager = make.user("manager")
    resource = make.resource(manager, name="Nacelle")
    with app.app_context():
        catalogue.update_resource(
            db.session.get(User, manager.id),
            db.session.get(Resource, resource.id),
            {"location": "Dépôt"},
        )
        db.session.commit()

    listed = entries(read_all(feed_client, remote, limit=10)[0])

    (item,) = [c for c in listed if c["type"] == "resource"]
    assert item["version"] == 2
    assert (item["data"]["name"], item["data"]["location"]) == ("Nacelle", "Dépôt")
    assert item["data"]["regie"]["id"] == str(manager.regie_id)


@pytest.mark.parametrize("limit", ["0", "501", "-1", "abc", ""])
def test_a_limit_out_of_range_is_400(
    feed_client: FlaskClient, remote: RemoteInstance, limit: str
) -> None:
    answer = changes(feed_client, remote, None, limit)

    assert answer.status_code == 400, answer.json
    assert answer.json["error"]["code"] == "invalid_query"


@pytest.mark.parametrize("limit", ["1", "500"])
def test_the_limits_of_limit_are_accepted(
    feed_client: FlaskClient, remote: RemoteInstance, limit: str
) -> None:
    assert changes(feed_client, remote, None, limit).status_code == 200


@pytest.mark.parametrize("since", ["garbage", "not-a-uuid:12", f"{uuid.uuid4()}:x"])
def test_an_unreadable_cursor_is_400(
    feed_client: FlaskClient, remote: RemoteInstance, since: str
) -> None:
    answer = changes(feed_client, remote, since)

    assert answer.status_code == 400, answer.json


def test_a_cursor_of_another_epoch_is_410_cursor_expired(
    app: Flask, feed_client: FlaskClient, remote: RemoteInstance, make: Factories
) -> None:
    make.regie()
    cursor = read_all(feed_client, remote)[1]
    assert changes(feed_client, remote, f"{uuid.uuid4()}:1").json["error"]["code"] == (
        "cursor_expired"
    )
    with app.app_context():
        feed.new_epoch(services.require_identity())  # a restore from a backup
        db.session.commit()
        epoch = services.require_identity().epoch

    answer = changes(feed_client, remote, cursor)

    assert answer.status_code == 410, answer.json
    assert answer.json["error"]["code"] == "cursor_expired"
    assert answer.json["error"]["details"]["epoch"] == str(epoch)
    fresh = changes(feed_client, remote)  # a full resync starts from the beginning
    assert fresh.status_code == 200
    assert fresh.json["epoch"] == str(epoch)
    assert len(fresh.json["changes"]) == 1


def age_tombstones(app: Flask, days: int) -> None:
    with app.app_context():
        db.session.execute(
            update(Change)
            .where(Change.op == feed.DELETE)
            .values(changed_at=utcnow() - timedelta(days=days))
        )
        db.session.commit()


def delete_documents(app: Flask, manager: User, count: int) -> list[uuid.UUID]:
    ids = []
    with app.app_context():
        actor = db.session.get(User, manager.id)
        for n in range(count):
            document = library.create_document(
                actor,
                {"title": f"Fiche {n}", "themes": ["espaces-verts"], "type": Kind.GUIDE},
            )
            db.session.flush()
            ids.append(document.id)
            db.session.commit()
        for document_id in ids:
            library.delete_document(actor, db.session.get(Document, document_id))
            db.session.commit()
    return ids


def test_purge_keeps_tombstones_for_the_retention_and_expires_older_cursors(
    app: Flask, feed_client: FlaskClient, remote: RemoteInstance, make: Factories, paired: Peer
) -> None:
    manager = make.user("manager")
    early = changes(feed_client, remote).json["next"]  # a peer that read the régie only
    delete_documents(app, manager, 2)
    pages, late = read_all(feed_client, remote, limit=100)
    tombstone_seqs = [c["seq"] for c in entries(pages) if c["op"] == "delete"]
    assert len(tombstone_seqs) == 2
    app.config["FEDERATION_TOMBSTONE_RETENTION_DAYS"] = 30
    try:
        age_tombstones(app, 29)
        with app.app_context():
            assert feed.purge_tombstones() == 0  # within the retention: kept
            db.session.commit()
        assert changes(feed_client, remote, early).status_code == 200

        age_tombstones(app, 31)
        with app.app_context():
            assert feed.purge_tombstones() == 2
            db.session.commit()
            counter = db.session.get(FeedCounter, 1)
            assert counter is not None
            assert counter.purged_seq == max(tombstone_seqs)
            remaining = db.session.scalars(select(Change.op)).all()
            assert remaining == ["upsert"]  # upserts are never purged
    finally:
        app.config["FEDERATION_TOMBSTONE_RETENTION_DAYS"] = 180

    expired = changes(feed_client, remote, early)
    assert expired.status_code == 410, expired.json
    assert expired.json["error"]["code"] == "cursor_expired"
    assert expired.json["error"]["details"]["purged_seq"] == max(tombstone_seqs)
    # A peer that had read past the purged tombstones goes on; so does a new one.
    assert changes(feed_client, remote, late).status_code == 200
    assert changes(feed_client, remote).status_code == 200


def test_the_purge_is_relative_to_the_given_time(app: Flask, make: Factories) -> None:
    manager = make.user("manager")
    delete_documents(app, manager, 1)
    with app.app_context():
        now = utcnow()
        assert feed.purge_tombstones(now + timedelta(days=179)) == 0
        assert feed.purge_tombstones(now + timedelta(days=181)) == 1
        db.session.commit()


def test_replicas_are_never_published(
    app: Flask, feed_client: FlaskClient, remote: RemoteInstance, make: Factories, paired: Peer
) -> None:
    other = uuid.uuid4()
    with app.app_context():
        regie_id = uuid.uuid4()
        regie_replicas.apply_regie(
            other,
            {
                "id": regie_id,
                "version": 1,
                "name": "Régie d'ailleurs",
                "slug": "ailleurs",
                "city": "Nantes",
                "postcode": "44000",
                "timezone": "Europe/Paris",
                "contact_email": None,
                "contact_phone": None,
            },
        )
        db.session.commit()
        # Edited and deleted later by its origin's feed: still nothing of ours.
        regie = db.session.get(Regie, regie_id)
        assert regie is not None
        regie.city, regie.version = "Rezé", 2
        db.session.commit()
        assert db.session.scalars(select(Change)).all() == []
    local = make.regie()

    listed = entries(read_all(feed_client, remote, limit=10)[0])

    assert [c["id"] for c in listed] == [str(local.id)]


def test_an_unsigned_request_is_401(client: FlaskClient, paired: Peer) -> None:
    answer = client.get(PATH)

    assert answer.status_code == 401
    assert answer.json["error"]["code"] == "signature_missing"


def test_an_unpaired_instance_is_401(
    client: FlaskClient, identity: Instance, make: Factories
) -> None:
    stranger = RemoteInstance("https://stranger.example.org")
    make.regie()

    answer = changes(client, stranger)

    assert answer.status_code == 401
    assert answer.json["error"]["code"] == "unknown_key"


def test_read_page_directly_matches_the_endpoint(
    app: Flask, feed_client: FlaskClient, remote: RemoteInstance, make: Factories
) -> None:
    make.regie()
    make.regie()
    with app.app_context():
        page = feed.read_page(services.require_identity(), None, 1)
        assert page.has_more
        following = feed.read_page(services.require_identity(), page.next, 1)
        assert not following.has_more
    assert changes(feed_client, remote, None, 1).json == page.as_json()
    assert changes(feed_client, remote, page.next, 1).json == following.as_json()


def test_an_edit_committed_without_a_flush_is_published(
    app: Flask, feed_client: FlaskClient, remote: RemoteInstance, make: Factories
) -> None:
    """Regression: the change rows were written in before_commit, which SQLAlchemy runs
    before the commit's own flush; an edit not flushed yet was never published (replicas
    stayed at the old version for ever)."""
    regie = make.regie()
    with app.app_context():
        loaded = db.session.get(Regie, regie.id)
        assert loaded is not None
        loaded.city, loaded.version = "Oullins", 2  # no flush before the commit
        db.session.commit()

    (change,) = entries(read_all(feed_client, remote, limit=10)[0])

    assert (change["version"], change["data"]["city"]) == (2, "Oullins")


def test_a_version_incremented_in_sql_is_published(
    app: Flask, feed_client: FlaskClient, remote: RemoteInstance, make: Factories
) -> None:
    """Regression: ``version = Regie.version + 1`` (an increment without a lost update) left
    no attribute history after the flush, so the change was never published."""
    regie = make.regie()
    with app.app_context():
        loaded = db.session.get(Regie, regie.id)
        assert loaded is not None
        loaded.city, loaded.version = "Pierre-Bénite", Regie.version + 1
        db.session.commit()

    (change,) = entries(read_all(feed_client, remote, limit=10)[0])

    assert (change["version"], change["data"]["city"]) == (2, "Pierre-Bénite")

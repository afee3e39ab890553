"""Three instances end to end over real HTTP on 127.0.0.1: A (the test application, on the test
database), B (its own application and SQLite file) and C (its own application on a throw-away
PostgreSQL database, whatever database the run uses). They pair in a full mesh with the CLI,
each publishes content, each pulls the two others with ``flask federation sync``.

Every instance then holds everything, each record under its true origin; nothing is relayed:
B never publishes C's records, and once B drops C, A still gets C's edits, from C."""

import os
import secrets
import threading
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from werkzeug.serving import make_server

from federation import services
from federation.models import Change, Peer
from sharing import create_app
from sharing.accounts.models import User
from sharing.catalogue import services as catalogue
from sharing.catalogue.models import Resource
from sharing.extensions import db
from sharing.library import services as library
from sharing.library.models import DocumentType
from tests import database
from tests.factories import Factories
from tests.federation.conftest import MIGRATIONS, Served
from tests.federation.test_sync_e2e import instance_id, published, replicated

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
if not POSTGRES_ADMIN_URL.startswith("postgresql"):
    POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="module")
def server_c(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """Instance C on a PostgreSQL database of its own, dropped at the end."""
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"sharing_test_c_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    folder = tmp_path_factory.mktemp("instance-c")
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "instance-c",
            "SQLALCHEMY_DATABASE_URI": sa.make_url(POSTGRES_ADMIN_URL)
            .set(database=name)
            .render_as_string(hide_password=False),
            "FEDERATION_KEY_DIR": str(folder / "keys"),
            "ATTACHMENTS_DIR": str(folder / "attachments"),
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )
    with app.app_context():
        upgrade(directory=MIGRATIONS)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config["INSTANCE_URL"] = f"http://127.0.0.1:{server.server_port}"
    try:
        yield Served(app, app.config["INSTANCE_URL"])
    finally:
        server.shutdown()
        thread.join()
        with app.app_context():
            db.engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def c(server_c: Served) -> Iterator[Served]:
    yield server_c
    database.empty(server_c.app)
    server_c.app.config["INSTANCE_ID"] = None


@pytest.fixture
def mesh(a: Served, b: Served, c: Served) -> Iterator[dict[str, Served]]:
    """A, B and C paired two by two with the CLI, fingerprints checked."""
    saved = b.app.config.get("PASSWORD_HASH_METHOD")
    b.app.config["PASSWORD_HASH_METHOD"] = "pbkdf2:sha256:1000"
    instances = {"A": a, "B": b, "C": c}
    fingerprints = {key: served.init(f"Instance {key}") for key, served in instances.items()}
    for key, served in instances.items():
        for other, peer in instances.items():
            if other != key:
                added = served.cli(
                    "federation", "peers", "add", peer.url, "--fingerprint", fingerprints[other]
                )
                assert added.exit_code == 0, added.output
    yield instances
    b.app.config["PASSWORD_HASH_METHOD"] = saved


def publish(served: Served, key: str) -> dict[str, uuid.UUID]:
    """A régie with a manager, a resource and a document, made on ``served``."""
    make = Factories(served.app)
    manager = make.user("manager", regie=make.regie(name=f"Régie de {key}", city=key))
    resource = make.resource(manager, name=f"Remorque de {key}")
    with served.app.app_context():
        document = library.create_document(
            db.session.get(User, manager.id),
            {"title": f"Fiche de {key}", "themes": ["espaces-verts"], "type": DocumentType.GUIDE},
        )
        db.session.commit()
        document_id = document.id
    return {"manager": manager.id, "resource": resource.id, "document": document_id}


def sync(served: Served) -> str:
    result = served.cli("federation", "sync")
    assert result.exit_code == 0, result.output
    return result.output


def test_three_instances_in_a_full_mesh_hold_everything_and_relay_nothing(
    mesh: dict[str, Served],
) -> None:
    ids = {key: instance_id(served) for key, served in mesh.items()}
    content = {key: publish(served, key) for key, served in mesh.items()}
    with mesh["C"].app.app_context():
        assert mesh["C"].app.extensions["sqlalchemy"].engines[None].dialect.name == "postgresql"

    for served in mesh.values():
        sync(served)

    for key, served in mesh.items():
        for other, origin in mesh.items():
            if other == key:
                continue
            theirs = published(origin)
            assert len(theirs) == 3
            assert replicated(served, ids[other]) == theirs, f"{key} holds {other}'s records"
    # Origins shown correctly through the API of A.
    client = mesh["A"].app.test_client()
    make = Factories(mesh["A"].app)
    headers = make.auth(make.user("admin", regie=make.regie()))
    listed = {
        item["id"]: item for item in client.get("/api/v1/resources", headers=headers).json["items"]
    }
    for key in ("B", "C"):
        item = listed[str(content[key]["resource"])]
        assert item["origin"]["is_local"] is False
        assert item["origin"]["instance_id"] == str(ids[key])
    assert listed[str(content["A"]["resource"])]["origin"]["is_local"] is True

    # B holds C's records but never publishes them: its feed, read by A, lists B's own only.
    with mesh["A"].app.app_context():
        answer = services.default_client().request(
            "GET", f"{mesh['B'].url}/federation/v1/changes?limit=500"
        )
    listed_by_b = {change["id"] for change in answer.json()["changes"]}
    assert listed_by_b == {key[1] for key in published(mesh["B"])}
    assert not listed_by_b & {key[1] for key in published(mesh["C"])}
    with mesh["B"].app.app_context():
        recorded = {str(i) for i in db.session.scalars(sa.select(Change.record_id))}
    assert not recorded & {key[1] for key in published(mesh["C"])}

    # B drops C; C edits its resource; A still gets the edit, from C itself.
    removed = mesh["B"].cli("federation", "peers", "remove", mesh["C"].url)
    assert removed.exit_code == 0, removed.output
    c_app = mesh["C"].app
    with c_app.app_context():
        catalogue.update_resource(
            db.session.get(User, content["C"]["manager"]),
            db.session.get(Resource, content["C"]["resource"]),
            {"location": "Dépôt de C"},
        )
        db.session.commit()
    sync(mesh["B"])  # B no longer pulls C
    output = sync(mesh["A"])

    assert f"{mesh['C'].url}: ok" in output
    resource_key = ("resource", str(content["C"]["resource"]))
    assert replicated(mesh["A"], ids["C"])[resource_key]["location"] == "Dépôt de C"
    assert replicated(mesh["A"], ids["C"])[resource_key]["version"] == 2
    assert replicated(mesh["B"], ids["C"])[resource_key]["version"] == 1  # B has the old one
    assert replicated(mesh["A"], ids["C"]) == published(mesh["C"])
    with mesh["A"].app.app_context():
        peer_c = db.session.scalar(sa.select(Peer).where(Peer.instance_id == ids["C"]))
        peer_b = db.session.scalar(sa.select(Peer).where(Peer.instance_id == ids["B"]))
        assert peer_c is not None
        assert peer_b is not None
        assert peer_c.records_updated == 1
        assert peer_b.records_updated == 0
        assert peer_b.records_rejected == 0

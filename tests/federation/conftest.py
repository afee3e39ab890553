"""Federation fixtures: a private key folder per test, a fake transport, and "remote"
instances that exist only as a key pair and an instance document (the real second instance
over HTTP is in test_two_instances.py)."""

import json
import threading
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from flask_migrate import upgrade
from werkzeug.serving import make_server

from federation import keys, services, signing
from federation.client import FederationClient, HttpResponse, HttpTransport
from federation.models import Instance, Peer
from sharing import create_app
from sharing.extensions import db

LOCAL_URL = "https://local.example.org"


@dataclass
class RemoteInstance:
    """Another instance, reduced to what signing needs: an id, a URL and a key pair."""

    url: str
    name: str = "Instance distante"
    instance_id: uuid.UUID = field(default_factory=uuid.uuid4)
    private_key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)

    @property
    def key_id(self) -> str:
        return keys.make_key_id(self.instance_id, self.private_key.public_key())

    @property
    def public_key(self) -> str:
        return keys.encode_public_key(self.private_key.public_key())

    @property
    def fingerprint(self) -> str:
        return keys.fingerprint(self.private_key.public_key())

    def document(self) -> dict[str, Any]:
        return {
            "instance_id": str(self.instance_id),
            "url": self.url,
            "name": self.name,
            "public_key": self.public_key,
            "key_id": self.key_id,
            "fingerprint": self.fingerprint,
            "software": "regies-sharing",
            "version": "0.1.0",
        }

    def rotate(self) -> None:
        self.private_key = Ed25519PrivateKey.generate()

    def sign(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        now: datetime | None = None,
        nonce: str | None = None,
    ) -> dict[str, str]:
        return signing.sign_request(
            method, url, body=body, private_key=self.private_key, key_id=self.key_id, now=now,
            nonce=nonce,
        )  # fmt: skip


@dataclass
class FakeTransport:
    """Answers ``GET <url>/federation/v1/instance`` from ``documents``; records every call."""

    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    down: bool = False

    def serve(self, remote: RemoteInstance, at: str | None = None) -> None:
        self.documents[at or remote.url] = remote.document()

    def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: float,
    ) -> HttpResponse:
        self.calls.append((method, url))
        if self.down:
            raise OSError("connection refused")
        for base, document in self.documents.items():
            if url == base + "/federation/v1/instance":
                return HttpResponse(200, {}, json.dumps(document).encode())
        return HttpResponse(404, {}, b'{"error": {"status": 404, "code": "not_found"}}')


@pytest.fixture(autouse=True)
def _federation_sandbox(app: Flask, tmp_path: Path) -> Iterator[None]:
    """Keys in a folder of this test, a fake network, and no identity left behind in the
    configuration of the session's application."""
    state = app.extensions["federation"]
    saved = state.transport, app.config.get("FEDERATION_KEY_DIR")
    app.config["FEDERATION_KEY_DIR"] = str(tmp_path / "keys")
    state.transport = FakeTransport()
    yield
    state.transport, app.config["FEDERATION_KEY_DIR"] = saved
    app.config["INSTANCE_ID"] = None
    state.next_identity_check = 0.0


@pytest.fixture
def transport(app: Flask) -> FakeTransport:
    return app.extensions["federation"].transport  # type: ignore[no-any-return]


@pytest.fixture
def fake_client(app: Flask, transport: FakeTransport) -> FederationClient:
    with app.app_context():
        return services.default_client()


@pytest.fixture
def identity(app: Flask) -> Instance:
    """This instance's identity, at LOCAL_URL."""
    with app.app_context():
        instance = services.init_instance(LOCAL_URL, "Instance de test")
        db.session.commit()
        return instance


@pytest.fixture
def remote(transport: FakeTransport) -> RemoteInstance:
    """A peer-to-be whose instance document the fake network serves."""
    instance = RemoteInstance("https://paris.example.org", name="Île-de-France")
    transport.serve(instance)
    return instance


@pytest.fixture
def paired(app: Flask, identity: Instance, remote: RemoteInstance) -> Peer:
    """``remote`` paired with us (its fingerprint checked)."""
    with app.app_context():
        peer = services.add_peer(remote.url, remote.fingerprint, client=services.default_client())
        db.session.commit()
        return peer


# Real instances over HTTP on 127.0.0.1 ------------------------------------------------------

MIGRATIONS = str(Path(__file__).resolve().parents[2] / "migrations")


@dataclass
class Served:
    app: Flask
    url: str

    def cli(self, *args: str) -> Result:
        return self.app.test_cli_runner().invoke(args=list(args))

    def init(self, name: str) -> str:
        """``flask federation init``; the fingerprint it prints."""
        result = self.cli("federation", "init", "--url", self.url, "--name", name)
        assert result.exit_code == 0, result.output
        return result.output.split("fingerprint: ")[1].strip()


@pytest.fixture(scope="module")
def server_b(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("instance-b")
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "instance-b",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'b.sqlite'}",
            "FEDERATION_KEY_DIR": str(folder / "keys"),
        }
    )
    with app.app_context():
        upgrade(directory=MIGRATIONS)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["INSTANCE_URL"] = url
    yield Served(app, url)
    server.shutdown()
    thread.join()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def b(server_b: Served) -> Iterator[Served]:
    """Instance B, emptied after each test."""
    yield server_b
    with server_b.app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
    server_b.app.config["INSTANCE_ID"] = None


@pytest.fixture
def a(app: Flask, live_server: str) -> Served:
    """The test application, served on 127.0.0.1, talking to the network for real."""
    app.extensions["federation"].transport = HttpTransport()
    return Served(app, live_server)


@pytest.fixture
def paired_instances(a: Served, b: Served) -> tuple[Served, Served]:
    fingerprint_a, fingerprint_b = a.init("Auvergne-Rhône-Alpes"), b.init("Île-de-France")
    added = a.cli("federation", "peers", "add", b.url, "--fingerprint", fingerprint_b)
    assert added.exit_code == 0, added.output
    added = b.cli("federation", "peers", "add", a.url, "--fingerprint", fingerprint_a)
    assert added.exit_code == 0, added.output
    return a, b

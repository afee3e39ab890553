"""Federation fixtures: a private key folder per test, a fake transport, and "remote"
instances that exist only as a key pair and an instance document (the real second instance
over HTTP is in test_two_instances.py)."""

import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask

from federation import keys, services, signing
from federation.client import FederationClient, HttpResponse
from federation.models import Instance, Peer
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

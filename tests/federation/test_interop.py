"""Interoperability with an independent RFC 9421 implementation, the PyPI package
``http-message-signatures`` (its Ed25519 algorithm, ``HTTPMessageSigner`` and
``HTTPMessageVerifier``): what we sign verifies with it, and what it signs verifies with us.
"""

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from http_message_signatures import (
    HTTPMessageSigner,
    HTTPMessageVerifier,
    InvalidSignature,
    MappingKeyResolver,
    algorithms,
)

from federation import services
from federation.client import HttpResponse
from federation.models import Instance, Peer
from tests.federation.conftest import FakeTransport, RemoteInstance
from tests.federation.test_ping import PATH, PING, refused_with, send

OUR_PROFILE = ("@method", "@target-uri", "@authority")


class PackageRequest:
    """The message interface the package reads: method, absolute URL, headers."""

    def __init__(self, method: str, url: str, headers: Mapping[str, str] | None = None):
        self.method = method
        self.url = url
        self.headers: dict[str, str] = dict(headers or {})


def package_verifier(key_id: str, public_key: Any) -> HTTPMessageVerifier:
    verifier = HTTPMessageVerifier(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={key_id: public_key}, private_keys={}),
    )
    verifier.max_clock_skew = timedelta(seconds=60)
    return verifier


def package_signer(remote: RemoteInstance) -> HTTPMessageSigner:
    return HTTPMessageSigner(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(
            public_keys={}, private_keys={remote.key_id: remote.private_key}
        ),
    )


def package_signed(
    remote: RemoteInstance,
    method: str,
    url: str,
    body: bytes | None = None,
    *,
    nonce: str | None = None,
) -> dict[str, str]:
    """Headers of a request signed by the package, following our profile."""
    request = PackageRequest(method, url, {"Content-Type": "application/json"} if body else {})
    now = datetime.now(UTC)
    package_signer(remote).sign(
        request,
        key_id=remote.key_id,
        label="sig1",
        created=now,
        expires=now + timedelta(minutes=5),
        nonce=nonce,
        covered_component_ids=OUR_PROFILE,
        body=body,
    )
    return request.headers


# -- Ours → the package -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("GET", "https://b.example.org/federation/v1/ping", None),
        ("GET", "https://b.example.org:8443/federation/v1/changes?since=&limit=100", None),
        ("POST", "https://b.example.org/federation/v1/bookings", b'{"request_id": "r-1"}'),
        ("POST", "http://127.0.0.1:5001/federation/v1/ping", b""),
    ],
)
def test_what_we_sign_verifies_with_the_package(method: str, url: str, body: bytes | None) -> None:
    remote = RemoteInstance("https://a.example.org")
    request = PackageRequest(method, url, remote.sign(method, url, body=body))

    (result,) = package_verifier(remote.key_id, remote.private_key.public_key()).verify(
        request,
        require_components=OUR_PROFILE + (("content-digest",) if body is not None else ()),
        body=body,
        max_age=timedelta(minutes=5),
    )

    assert result.label == "sig1"
    assert result.parameters["keyid"] == remote.key_id
    assert result.parameters["alg"] == "ed25519"
    assert result.parameters["expires"] - result.parameters["created"] == 300
    assert result.covered_components['"@target-uri"'] == url
    if method == "POST":
        assert result.nonce
        assert result.body == body


def test_the_package_refuses_what_we_signed_once_tampered() -> None:
    remote = RemoteInstance("https://a.example.org")
    url = "https://b.example.org/federation/v1/ping"
    headers = remote.sign("POST", url, body=b'{"n": 1}')
    verifier = package_verifier(remote.key_id, remote.private_key.public_key())

    with pytest.raises(InvalidSignature):
        verifier.verify(PackageRequest("POST", url, headers), body=b'{"n": 2}')
    with pytest.raises(InvalidSignature):
        verifier.verify(PackageRequest("POST", url.replace("b.", "c."), headers))


def test_requests_from_our_client_verify_with_the_package(
    app: Flask, identity: Instance, transport: FakeTransport
) -> None:
    sent: list[tuple[str, str, Mapping[str, str], bytes | None]] = []

    def capture(
        method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float
    ) -> HttpResponse:
        sent.append((method, url, headers, body))
        return HttpResponse(200, {}, b'{"instance_id": "x", "peer": {}}')

    transport.send = capture  # type: ignore[method-assign]
    with app.app_context():
        client = services.default_client()
        client.ping("https://b.example.org", method="GET")
        client.ping("https://b.example.org", method="POST")

    verifier = package_verifier(identity.key_id, identity.verifying_key)
    for method, url, headers, body in sent:
        assert headers["Host"] == "b.example.org"
        (result,) = verifier.verify(
            PackageRequest(method, url, headers), require_components=OUR_PROFILE, body=body
        )
        assert result.parameters["keyid"] == identity.key_id
    assert [m for m, *_ in sent] == ["GET", "POST"]


# -- The package → ours -------------------------------------------------------------------


def test_what_the_package_signs_verifies_with_us(
    client: FlaskClient, paired: Peer, remote: RemoteInstance
) -> None:
    get = client.get(PATH, headers=package_signed(remote, "GET", PING))
    body = b'{"ping": "pong"}'
    post = client.post(
        PATH, headers=package_signed(remote, "POST", PING, body, nonce="n-42"), data=body
    )

    assert get.status_code == 200, get.json
    assert get.json["peer"]["instance_id"] == str(remote.instance_id)
    assert post.status_code == 200, post.json
    assert post.json["received_bytes"] == len(body)


def test_package_signatures_are_refused_by_us_with_the_right_reason(
    client: FlaskClient, paired: Peer, remote: RemoteInstance
) -> None:
    body = b'{"ping": "pong"}'
    headers = package_signed(remote, "POST", PING, body, nonce="n-1")
    refused_with(send(client, headers, "POST", b'{"ping": "PONG"}'), "digest_mismatch")

    assert send(client, headers, "POST", body).status_code == 200
    refused_with(send(client, headers, "POST", body), "replayed")

    elsewhere = package_signed(remote, "GET", "https://paris.example.org" + PATH)
    refused_with(send(client, elsewhere), "signature_invalid")

    no_nonce = package_signed(remote, "POST", PING, body)
    refused_with(send(client, no_nonce, "POST", body), "signature_invalid")

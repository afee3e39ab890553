"""End to end over real HTTP on 127.0.0.1: the test application (A, on the test database) and
a second instance (B, its own application, SQLite file and key folder, served by werkzeug in
a thread) pair by hand with the CLI as the README says, then ping, refuse, rotate."""

import http.client
import json
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from federation import services
from federation.client import FederationError, HttpResponse, HttpTransport
from sharing.extensions import db
from tests.federation.conftest import Served


def ping(sender: Served, receiver: Served, method: str = "GET") -> dict:
    with sender.app.app_context():
        return services.default_client().ping(receiver.url, method=method)


def refusal(sender: Served, receiver: Served, method: str = "GET") -> str | None:
    with pytest.raises(FederationError) as raised:
        ping(sender, receiver, method)
    assert raised.value.status == 401, raised.value
    return raised.value.code


def test_two_instances_pair_by_hand_and_ping_each_other(
    paired_instances: tuple[Served, Served],
) -> None:
    a, b = paired_instances

    from_a = a.cli("federation", "ping", b.url)
    from_b = b.cli("federation", "ping", a.url)

    assert from_a.exit_code == 0, from_a.output
    assert "GET" in from_a.output
    assert "POST" in from_a.output
    assert "Auvergne-Rhône-Alpes" in from_a.output  # how B knows A
    assert from_b.exit_code == 0, from_b.output
    assert "Île-de-France" in from_b.output
    with b.app.app_context():
        (peer,) = services.list_peers()
        assert peer.url == a.url
    assert ping(a, b, "POST")["received_bytes"] > 0


def test_a_wrong_fingerprint_is_refused_over_http(a: Served, b: Served) -> None:
    a.init("A")
    b.init("B")

    result = a.cli("federation", "peers", "add", b.url, "--fingerprint", "00" * 32)

    assert result.exit_code != 0
    assert "appairage refusé" in result.output
    with a.app.app_context():
        assert services.list_peers(include_removed=True) == []


def test_pairing_is_mutual_until_both_sides_add(a: Served, b: Served) -> None:
    a.init("A")
    fingerprint_b = b.init("B")
    assert a.cli("federation", "peers", "add", b.url, "--fingerprint", fingerprint_b).exit_code == 0

    assert refusal(a, b) == "unknown_key"  # B has not added A
    result = a.cli("federation", "ping", b.url)
    assert result.exit_code != 0
    assert "401" in result.output
    assert "unknown_key" in result.output


def test_a_removed_peer_is_refused_over_http(paired_instances: tuple[Served, Served]) -> None:
    a, b = paired_instances
    assert b.cli("federation", "peers", "remove", a.url).exit_code == 0

    assert refusal(a, b) == "unknown_key"
    assert refusal(a, b, "POST") == "unknown_key"
    with b.app.app_context():
        (failure,) = services.list_signature_failures()[:1]
        assert failure.reason == "unknown_key"


def test_a_rotated_key_is_fetched_from_the_paired_url_over_http(
    paired_instances: tuple[Served, Served],
) -> None:
    a, b = paired_instances
    rotated = b.cli("federation", "keys", "rotate")
    assert rotated.exit_code == 0, rotated.output
    new_fingerprint = rotated.output.split("fingerprint: ")[1].split()[0]

    assert ping(b, a)["peer"]["url"] == b.url

    with a.app.app_context():
        (peer,) = services.list_peers()
        (change,) = services.list_key_changes(peer)
    assert peer.fingerprint == new_fingerprint
    assert (change.trigger, change.new_fingerprint) == ("unknown_key", new_fingerprint)


@dataclass
class Captured:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None


class CapturingTransport(HttpTransport):
    def __init__(self) -> None:
        self.sent: list[Captured] = []

    def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: float,
    ) -> HttpResponse:
        self.sent.append(Captured(method, url, dict(headers), body))
        return super().send(method, url, headers, body, timeout)


def raw(url: str, method: str, headers: Mapping[str, str], body: bytes | None) -> tuple[int, dict]:
    """Send bytes as an attacker would, with nothing of ours in between."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=10)
    try:
        connection.request(method, parts.path, body=body, headers=dict(headers))
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def test_captured_requests_cannot_be_replayed_tampered_or_redirected(
    paired_instances: tuple[Served, Served],
) -> None:
    a, b = paired_instances
    capture = CapturingTransport()
    a.app.extensions["federation"].transport = capture
    ping(a, b, "POST")
    (post,) = capture.sent

    status, body = raw(post.url, "POST", post.headers, post.body)
    assert (status, body["error"]["code"]) == (401, "replayed")

    status, body = raw(post.url, "POST", post.headers, b'{"ping":"PONG"}')
    assert (status, body["error"]["code"]) == (401, "digest_mismatch")

    ping(a, b, "GET")
    get = capture.sent[-1]
    elsewhere = a.url + urlsplit(get.url).path  # A's request for B, delivered somewhere else
    status, body = raw(elsewhere, "GET", get.headers, None)
    assert (status, body["error"]["code"]) == (401, "unknown_key")

    status, body = raw(get.url, "GET", get.headers | {"Signature": "sig1=:AAAA:"}, None)
    assert (status, body["error"]["code"]) == (401, "signature_invalid")

    with b.app.app_context():
        reasons = sa.select(sa.text("reason")).select_from(sa.text("federation_signature_failures"))
        assert set(db.session.scalars(reasons)) == {
            "replayed",
            "digest_mismatch",
            "signature_invalid",
        }

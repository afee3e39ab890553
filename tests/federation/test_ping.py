"""``/federation/v1/ping`` and ``require_peer_signature`` with the database: paired, unpaired
and removed peers, the replay cache shared by workers, the 401 body, and the failure log."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from federation import services
from federation.models import Instance, Peer, SeenNonce, SignatureFailure
from sharing.extensions import db
from tests.federation.conftest import LOCAL_URL, FakeTransport, RemoteInstance

PATH = "/federation/v1/ping"
PING = LOCAL_URL + PATH


def send(
    client: FlaskClient,
    headers: dict[str, str],
    method: str = "GET",
    body: bytes | None = None,
    path: str = PATH,
) -> TestResponse:
    return client.open(path, method=method, headers=headers, data=body)


def refused_with(response: TestResponse, reason: str) -> None:
    assert response.status_code == 401, response.json
    error = response.json["error"]
    assert error["status"] == 401
    assert error["code"] == reason
    assert error["message"]
    assert error["details"]["detail"]


def failures(app: Flask) -> list[SignatureFailure]:
    with app.app_context():
        return services.list_signature_failures()


def test_a_paired_peer_is_answered(
    client: FlaskClient, paired: Peer, remote: RemoteInstance, identity: Instance
) -> None:
    response = send(client, remote.sign("GET", PING))

    assert response.status_code == 200, response.json
    assert response.json == {
        "instance_id": str(identity.id),
        "peer": {
            "instance_id": str(remote.instance_id),
            "url": remote.url,
            "name": "Île-de-France",
        },
    }


def test_a_signed_post_with_a_body_is_answered(
    client: FlaskClient, paired: Peer, remote: RemoteInstance
) -> None:
    body = b'{"ping": "pong"}'

    response = send(client, remote.sign("POST", PING, body=body), "POST", body)

    assert response.status_code == 200, response.json
    assert response.json["received_bytes"] == len(body)


def test_the_host_header_does_not_matter_only_our_published_url(
    client: FlaskClient, paired: Peer, remote: RemoteInstance
) -> None:
    headers = remote.sign("GET", PING) | {"Host": "internal-name:8000"}

    assert send(client, headers).status_code == 200


def test_an_unsigned_request_is_signature_missing_and_only_logged(
    app: Flask, client: FlaskClient, paired: Peer
) -> None:
    refused_with(send(client, {}), "signature_missing")
    assert failures(app) == []


def test_before_init_ping_is_404(client: FlaskClient, remote: RemoteInstance) -> None:
    response = send(client, remote.sign("GET", PING))

    assert response.status_code == 404
    assert response.json["error"]["code"] == "instance_not_initialised"


def test_a_tampered_body_is_digest_mismatch_and_recorded(
    app: Flask, client: FlaskClient, paired: Peer, remote: RemoteInstance
) -> None:
    headers = remote.sign("POST", PING, body=b'{"n": 1}')

    refused_with(send(client, headers, "POST", b'{"n": 2}'), "digest_mismatch")

    (failure,) = failures(app)
    assert failure.reason == "digest_mismatch"
    assert failure.peer_id == paired.id
    assert failure.key_id == remote.key_id
    assert (failure.method, failure.path) == ("POST", PATH)
    assert failure.skew_seconds is not None
    assert abs(failure.skew_seconds) <= 2


@pytest.mark.parametrize(
    "signed_for",
    [
        "https://paris.example.org/federation/v1/ping",  # meant for another instance
        "http://local.example.org/federation/v1/ping",  # another scheme
        LOCAL_URL + "/federation/v1/instance",  # another path
        PING + "?x=1",  # another query
    ],
)
def test_a_request_signed_for_another_target_is_signature_invalid(
    app: Flask, client: FlaskClient, paired: Peer, remote: RemoteInstance, signed_for: str
) -> None:
    refused_with(send(client, remote.sign("GET", signed_for)), "signature_invalid")
    assert [f.reason for f in failures(app)] == ["signature_invalid"]


def test_a_request_with_another_method_is_signature_invalid(
    client: FlaskClient, paired: Peer, remote: RemoteInstance
) -> None:
    body = b"{}"
    headers = remote.sign("POST", PING, body=body)

    refused_with(send(client, headers, "GET", body), "signature_invalid")


def test_an_unpaired_instance_is_unknown_key_without_any_fetch(
    client: FlaskClient, identity: Instance, transport: FakeTransport
) -> None:
    stranger = RemoteInstance("https://stranger.example.org")
    transport.serve(stranger)

    refused_with(send(client, stranger.sign("GET", PING)), "unknown_key")
    assert transport.calls == []


def test_a_removed_peer_is_refused(
    app: Flask, client: FlaskClient, paired: Peer, remote: RemoteInstance, transport: FakeTransport
) -> None:
    assert send(client, remote.sign("GET", PING)).status_code == 200
    with app.app_context():
        services.remove_peer(remote.url)
        db.session.commit()
    transport.calls.clear()

    refused_with(send(client, remote.sign("GET", PING)), "unknown_key")
    assert transport.calls == []  # no identity refresh for a removed peer
    assert failures(app)[0].peer_id is None


@pytest.mark.parametrize("offset", [-30, 30])
def test_peer_clocks_thirty_seconds_off_are_accepted(
    client: FlaskClient, paired: Peer, remote: RemoteInstance, offset: int
) -> None:
    now = datetime.now(UTC) + timedelta(seconds=offset)
    body = b"{}"

    assert send(client, remote.sign("GET", PING, now=now)).status_code == 200
    post = send(client, remote.sign("POST", PING, body=body, now=now), "POST", body)
    assert post.status_code == 200


@pytest.mark.parametrize("offset", [-600, 600])
def test_peer_clocks_ten_minutes_off_are_expired(
    app: Flask, client: FlaskClient, paired: Peer, remote: RemoteInstance, offset: int
) -> None:
    now = datetime.now(UTC) + timedelta(seconds=offset)

    refused_with(send(client, remote.sign("GET", PING, now=now)), "expired")
    (failure,) = failures(app)
    assert failure.skew_seconds is not None
    assert abs(failure.skew_seconds - offset) <= 2


def test_the_clock_skew_is_configurable(
    app: Flask, client: FlaskClient, paired: Peer, remote: RemoteInstance
) -> None:
    now = datetime.now(UTC) + timedelta(seconds=30)
    app.config["FEDERATION_CLOCK_SKEW_SECONDS"] = 5
    try:
        refused_with(send(client, remote.sign("GET", PING, now=now)), "expired")
    finally:
        app.config["FEDERATION_CLOCK_SKEW_SECONDS"] = 60


def test_a_replayed_post_is_refused(
    client: FlaskClient, paired: Peer, remote: RemoteInstance
) -> None:
    body = b'{"ping": "pong"}'
    headers = remote.sign("POST", PING, body=body)

    assert send(client, headers, "POST", body).status_code == 200
    refused_with(send(client, headers, "POST", body), "replayed")


def test_a_get_that_carries_a_nonce_is_protected_too(
    client: FlaskClient, paired: Peer, remote: RemoteInstance
) -> None:
    headers = remote.sign("GET", PING, nonce="une-seule-fois")

    assert send(client, headers).status_code == 200
    refused_with(send(client, headers), "replayed")


def test_the_replay_cache_is_shared_through_the_database(app: Flask) -> None:
    """Two workers are two sessions: the unique constraint decides between them."""
    keep_until = datetime.now(UTC) + timedelta(minutes=5)
    with app.app_context():
        assert services.DatabaseNonces().consume("k#1", "n", keep_until)
        db.session.commit()
    with app.app_context():
        assert not services.DatabaseNonces().consume("k#1", "n", keep_until)
        assert services.DatabaseNonces().consume("k#2", "n", keep_until)
        db.session.commit()


def test_expired_nonces_are_purged(app: Flask) -> None:
    now = datetime.now(UTC)
    with app.app_context():
        db.session.add(SeenNonce(key_id="k#1", nonce="old", expires_at=now - timedelta(seconds=1)))
        db.session.add(SeenNonce(key_id="k#1", nonce="new", expires_at=now + timedelta(minutes=5)))
        db.session.commit()

        assert services.purge_replay_cache() == 1
        db.session.commit()
        assert db.session.scalars(sa.select(SeenNonce.nonce)).all() == ["new"]


def test_a_nonce_is_kept_until_its_signature_expires_plus_the_skew(
    app: Flask, client: FlaskClient, paired: Peer, remote: RemoteInstance
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    body = b"{}"
    send(client, remote.sign("POST", PING, body=body, now=now, nonce="n-1"), "POST", body)

    with app.app_context():
        seen = db.session.scalars(sa.select(SeenNonce)).one()
    assert (seen.key_id, seen.nonce) == (remote.key_id, "n-1")
    assert seen.expires_at == now + timedelta(seconds=300 + 60)


def test_old_signature_failures_are_forgotten(
    app: Flask, client: FlaskClient, paired: Peer, remote: RemoteInstance
) -> None:
    with app.app_context():
        db.session.add(
            SignatureFailure(
                at=datetime.now(UTC) - timedelta(days=31),
                key_id=remote.key_id,
                reason="expired",
                method="GET",
                path=PATH,
            )
        )
        db.session.commit()

    refused_with(send(client, remote.sign("GET", PING + "?x")), "signature_invalid")

    assert [f.reason for f in failures(app)] == ["signature_invalid"]


def test_the_instance_document_needs_no_signature_and_no_session(
    client: FlaskClient, identity: Instance
) -> None:
    assert client.get("/federation/v1/instance").status_code == 200

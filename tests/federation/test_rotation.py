"""Key rotation: a peer's new key is fetched from the URL we paired with when we first meet
its key id, the administrator gets a record of it, and our own ``rotate_key``."""

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from federation import keys, services
from federation.models import Instance, Peer
from sharing.extensions import db
from tests.federation.conftest import FakeTransport, RemoteInstance
from tests.federation.test_ping import PING, refused_with, send


def rotate_and_publish(remote: RemoteInstance, transport: FakeTransport) -> str:
    old_key_id = remote.key_id
    remote.rotate()
    transport.serve(remote)
    transport.calls.clear()
    return old_key_id


def test_a_rotated_peer_key_is_refreshed_from_the_paired_url_and_accepted(
    app: Flask, client: FlaskClient, paired: Peer, remote: RemoteInstance, transport: FakeTransport
) -> None:
    old_key_id = rotate_and_publish(remote, transport)

    response = send(client, remote.sign("GET", PING))

    assert response.status_code == 200, response.json
    assert transport.calls == [("GET", remote.url + "/federation/v1/instance")]
    with app.app_context():
        (peer,) = services.list_peers()
        (change,) = services.list_key_changes(peer)
    assert (peer.key_id, peer.fingerprint) == (remote.key_id, remote.fingerprint)
    assert peer.previous_key_id == old_key_id
    assert (change.old_key_id, change.new_key_id) == (old_key_id, remote.key_id)
    assert (change.old_fingerprint, change.new_fingerprint) == (
        paired.fingerprint,
        remote.fingerprint,
    )
    assert change.trigger == "unknown_key"


def test_the_key_change_is_logged_for_the_administrator(
    client: FlaskClient,
    paired: Peer,
    remote: RemoteInstance,
    transport: FakeTransport,
    caplog: object,
) -> None:
    rotate_and_publish(remote, transport)

    send(client, remote.sign("GET", PING))

    messages = [r.getMessage() for r in caplog.records]  # type: ignore[attr-defined]
    assert any("key of peer" in m and remote.fingerprint in m for m in messages)


def test_the_previous_key_is_accepted_during_its_grace_period_only(
    app: Flask, client: FlaskClient, paired: Peer, remote: RemoteInstance, transport: FakeTransport
) -> None:
    old = RemoteInstance(remote.url, instance_id=remote.instance_id)
    old.private_key = remote.private_key
    rotate_and_publish(remote, transport)
    assert send(client, remote.sign("GET", PING)).status_code == 200

    assert send(client, old.sign("GET", PING)).status_code == 200  # signed before the rotation

    with app.app_context():
        peer = services.list_peers()[0]
        peer.previous_key_valid_until = datetime.now(UTC) - timedelta(seconds=1)
        peer.key_refresh_attempted_at = datetime.now(UTC)
        db.session.commit()
    refused_with(send(client, old.sign("GET", PING)), "unknown_key")


def test_a_refresh_that_finds_another_instance_at_the_paired_url_is_refused(
    app: Flask, client: FlaskClient, paired: Peer, remote: RemoteInstance, transport: FakeTransport
) -> None:
    impostor = RemoteInstance(remote.url)  # another instance id at the same URL
    transport.serve(impostor)
    remote.rotate()  # signs with a new key, which the paired URL does not publish

    refused_with(send(client, remote.sign("GET", PING)), "unknown_key")

    with app.app_context():
        (peer,) = services.list_peers()
        assert peer.key_id == paired.key_id
        assert "instance" in (peer.last_error or "")
        assert services.list_key_changes() == []


def test_a_key_id_the_paired_url_does_not_publish_is_unknown_key(
    app: Flask, client: FlaskClient, paired: Peer, remote: RemoteInstance, transport: FakeTransport
) -> None:
    forger = RemoteInstance(remote.url, instance_id=remote.instance_id)  # claims remote's id

    refused_with(send(client, forger.sign("GET", PING)), "unknown_key")

    assert transport.calls[-1] == ("GET", remote.url + "/federation/v1/instance")
    with app.app_context():
        assert services.list_peers()[0].key_id == paired.key_id


def test_refreshes_are_rate_limited(
    client: FlaskClient, paired: Peer, remote: RemoteInstance, transport: FakeTransport
) -> None:
    forger = RemoteInstance(remote.url, instance_id=remote.instance_id)
    transport.calls.clear()

    for _ in range(3):
        refused_with(send(client, forger.sign("GET", PING)), "unknown_key")

    assert len(transport.calls) == 1


def test_a_refresh_with_the_peer_down_is_unknown_key_and_noted(
    app: Flask, client: FlaskClient, paired: Peer, remote: RemoteInstance, transport: FakeTransport
) -> None:
    remote.rotate()
    transport.down = True

    refused_with(send(client, remote.sign("GET", PING)), "unknown_key")

    with app.app_context():
        assert "unreachable" in (services.list_peers()[0].last_error or "")


def test_our_own_rotation_writes_a_new_key_file_and_keeps_the_previous_id(
    app: Flask, client: FlaskClient, identity: Instance
) -> None:
    old_path = Path(app.config["FEDERATION_KEY_DIR"]) / f"ed25519-{identity.fingerprint[:16]}.pem"
    assert old_path.exists()

    result = app.test_cli_runner().invoke(args=["federation", "keys", "rotate"])

    assert result.exit_code == 0, result.output
    with app.app_context():
        rotated = services.require_identity()
        new_path = keys.key_path(rotated.verifying_key)
    assert rotated.id == identity.id
    assert rotated.key_id != identity.key_id
    assert rotated.previous_key_id == identity.key_id
    assert rotated.previous_public_key == identity.public_key
    assert rotated.key_rotated_at is not None
    assert stat.S_IMODE(new_path.stat().st_mode) == 0o600
    assert not old_path.exists()
    assert client.get("/federation/v1/instance").json["key_id"] == rotated.key_id
    assert f"fingerprint: {rotated.fingerprint}" in result.output


def test_we_sign_with_the_new_key_right_after_rotating(
    app: Flask, identity: Instance, fake_client: object
) -> None:
    with app.app_context():
        before, _ = services.signing_credentials()
        services.rotate_key()
        db.session.commit()
        after, private_key = services.signing_credentials()
        current = services.require_identity()

    assert before != after == current.key_id
    assert keys.encode_public_key(private_key.public_key()) == current.public_key

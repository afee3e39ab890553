"""Pairing through a fake network: the fingerprint check, what a fetched instance document
must say, removing and re-adding, and the ``flask federation peers`` commands."""

import uuid

import pytest
from flask import Flask

from federation import services
from federation.client import FederationClient
from federation.models import Instance, Peer
from sharing.errors import Conflict, DomainError, Invalid, NotFound
from sharing.extensions import db
from tests.federation.conftest import LOCAL_URL, FakeTransport, RemoteInstance


def add(app: Flask, url: str, fingerprint: str | None = None) -> Peer:
    with app.app_context():
        peer = services.add_peer(url, fingerprint, client=services.default_client())
        db.session.commit()
        return peer


def refused(app: Flask, url: str, fingerprint: str | None = None) -> DomainError:
    with app.app_context(), pytest.raises(DomainError) as raised:
        services.add_peer(url, fingerprint, client=services.default_client())
    return raised.value


def test_adding_a_peer_pins_its_key_when_the_fingerprint_matches(
    app: Flask, identity: Instance, remote: RemoteInstance, transport: FakeTransport
) -> None:
    peer = add(app, remote.url, remote.fingerprint)

    assert peer.instance_id == remote.instance_id
    assert peer.url == remote.url
    assert peer.name == "Île-de-France"
    assert peer.key_id == remote.key_id
    assert peer.public_key == remote.public_key
    assert peer.fingerprint == remote.fingerprint
    assert peer.is_active
    assert transport.calls == [("GET", remote.url + "/federation/v1/instance")]


def test_the_fingerprint_may_be_pasted_in_upper_case_with_colons(
    app: Flask, identity: Instance, remote: RemoteInstance
) -> None:
    pasted = ":".join(remote.fingerprint[i : i + 2] for i in range(0, 64, 2)).upper()

    assert add(app, remote.url, pasted).fingerprint == remote.fingerprint


def test_a_fingerprint_mismatch_is_refused_and_nothing_is_pinned(
    app: Flask, identity: Instance, remote: RemoteInstance
) -> None:
    error = refused(app, remote.url, "0" * 64)

    assert isinstance(error, Conflict)
    assert error.code == "fingerprint_mismatch"
    assert remote.fingerprint in error.message
    with app.app_context():
        assert services.list_peers(include_removed=True) == []


def test_without_a_fingerprint_the_key_is_pinned_as_fetched(
    app: Flask, identity: Instance, remote: RemoteInstance
) -> None:
    assert add(app, remote.url).fingerprint == remote.fingerprint


def test_pairing_needs_our_own_identity_first(app: Flask, remote: RemoteInstance) -> None:
    error = refused(app, remote.url)

    assert isinstance(error, NotFound)
    assert error.code == "instance_not_initialised"


def test_an_instance_announcing_another_url_is_refused(
    app: Flask, identity: Instance, transport: FakeTransport
) -> None:
    elsewhere = RemoteInstance("https://lyon.example.org")
    transport.serve(elsewhere, at="https://alias.example.org")

    error = refused(app, "https://alias.example.org")

    assert error.code == "url_mismatch"
    assert "https://lyon.example.org" in error.message


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("public_key", "not base64!"),
        ("public_key", "AAAA"),
        ("fingerprint", "f" * 64),
        ("fingerprint", "F" * 64),
        ("key_id", "someone-else#0123"),
        ("instance_id", "not-a-uuid"),
        ("name", ""),
    ],
)
def test_an_inconsistent_instance_document_is_refused(
    app: Flask,
    identity: Instance,
    remote: RemoteInstance,
    transport: FakeTransport,
    field: str,
    value: str,
) -> None:
    transport.documents[remote.url][field] = value

    error = refused(app, remote.url)

    assert isinstance(error, Invalid)
    assert error.code == "invalid_instance_document"
    assert field in error.fields


def test_unknown_fields_of_a_newer_peer_are_ignored(
    app: Flask, identity: Instance, remote: RemoteInstance, transport: FakeTransport
) -> None:
    transport.documents[remote.url]["protocols"] = ["v1", "v2"]

    assert add(app, remote.url).instance_id == remote.instance_id


def test_an_unreachable_or_absent_instance_is_reported(
    app: Flask, identity: Instance, transport: FakeTransport
) -> None:
    assert refused(app, "https://nobody.example.org").code == "peer_unreachable"
    transport.down = True
    assert refused(app, "https://nobody.example.org").code == "peer_unreachable"


def test_an_instance_cannot_pair_with_itself(
    app: Flask, identity: Instance, client_document: dict, transport: FakeTransport
) -> None:
    transport.documents[LOCAL_URL] = client_document

    assert refused(app, LOCAL_URL).code == "self_pairing"


@pytest.fixture
def client_document(app: Flask, identity: Instance) -> dict:
    return app.test_client().get("/federation/v1/instance").json  # type: ignore[no-any-return]


def test_removing_a_peer_keeps_its_row_and_hides_it(
    app: Flask, paired: Peer, remote: RemoteInstance
) -> None:
    with app.app_context():
        services.remove_peer(remote.url + "/")
        db.session.commit()
        assert services.list_peers() == []
        (kept,) = services.list_peers(include_removed=True)
        assert kept.removed_at is not None
        with pytest.raises(NotFound):
            services.remove_peer(remote.url)


def test_a_removed_peer_can_be_paired_again(
    app: Flask, paired: Peer, remote: RemoteInstance, transport: FakeTransport
) -> None:
    with app.app_context():
        services.remove_peer(remote.url)
        db.session.commit()

    again = add(app, remote.url, remote.fingerprint)

    assert again.id == paired.id
    assert again.is_active


def test_adding_a_paired_peer_again_repins_its_current_key_and_records_it(
    app: Flask, paired: Peer, remote: RemoteInstance, transport: FakeTransport
) -> None:
    remote.rotate()
    transport.serve(remote)

    again = add(app, remote.url, remote.fingerprint)

    assert again.id == paired.id
    assert again.key_id == remote.key_id
    with app.app_context():
        (change,) = services.list_key_changes()
    assert (change.trigger, change.old_fingerprint) == ("admin", paired.fingerprint)
    assert change.new_fingerprint == remote.fingerprint


def test_a_url_paired_with_another_identity_must_be_removed_first(
    app: Flask, paired: Peer, remote: RemoteInstance, transport: FakeTransport
) -> None:
    reinstalled = RemoteInstance(remote.url, instance_id=uuid.uuid4())
    transport.serve(reinstalled)

    assert refused(app, remote.url).code == "peer_exists"

    with app.app_context():
        services.remove_peer(remote.url)
        db.session.commit()
    assert add(app, remote.url).instance_id == reinstalled.instance_id


def test_peers_are_listed_by_url(app: Flask, identity: Instance, transport: FakeTransport) -> None:
    for host in ("roubaix", "agen", "grenoble"):
        remote = RemoteInstance(f"https://{host}.example.org")
        transport.serve(remote)
        add(app, remote.url)

    with app.app_context():
        assert [p.url for p in services.list_peers()] == [
            "https://agen.example.org",
            "https://grenoble.example.org",
            "https://roubaix.example.org",
        ]


def test_cli_peers_add_list_remove(app: Flask, identity: Instance, remote: RemoteInstance) -> None:
    runner = app.test_cli_runner()

    mismatch = runner.invoke(
        args=["federation", "peers", "add", remote.url, "--fingerprint", "ab" * 32]
    )
    assert mismatch.exit_code != 0
    assert "appairage refusé" in mismatch.output

    added = runner.invoke(
        args=["federation", "peers", "add", remote.url, "--fingerprint", remote.fingerprint]
    )
    assert added.exit_code == 0, added.output
    assert str(remote.instance_id) in added.output

    listed = runner.invoke(args=["federation", "peers", "list"])
    assert listed.exit_code == 0
    assert remote.url in listed.output
    assert remote.fingerprint in listed.output

    removed = runner.invoke(args=["federation", "peers", "remove", remote.url])
    assert removed.exit_code == 0, removed.output
    assert runner.invoke(args=["federation", "peers", "list"]).output == ""
    assert "removed" in runner.invoke(args=["federation", "peers", "list", "--all"]).output

    unknown = runner.invoke(args=["federation", "peers", "remove", "https://x.example.org"])
    assert unknown.exit_code != 0


def test_the_client_never_follows_redirects(
    app: Flask, identity: Instance, transport: FakeTransport, fake_client: FederationClient
) -> None:
    transport.documents.clear()

    def moved(*args: object, **kwargs: object) -> object:
        from federation.client import HttpResponse

        return HttpResponse(301, {"Location": "https://evil.example.org/"}, b"")

    transport.send = moved  # type: ignore[method-assign]

    error = refused(app, "https://moved.example.org")

    assert error.code == "peer_unreachable"
    assert "301" in error.message

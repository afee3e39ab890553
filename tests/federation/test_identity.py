"""This instance's identity: the public document, the private key file, init's idempotence,
and the instance id that local records report as their origin."""

import base64
import hashlib
import re
import stat
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import Flask
from flask.testing import FlaskClient

from federation import keys, services
from federation.models import Instance
from sharing.errors import Conflict, Invalid
from sharing.extensions import db
from tests.factories import Factories
from tests.federation.conftest import LOCAL_URL

DOCUMENT_FIELDS = {
    "instance_id",
    "url",
    "name",
    "public_key",
    "key_id",
    "fingerprint",
    "software",
    "version",
}


def key_files(app: Flask) -> list[Path]:
    return sorted(Path(app.config["FEDERATION_KEY_DIR"]).glob("*.pem"))


def test_the_instance_document_is_404_json_before_init(client: FlaskClient) -> None:
    response = client.get("/federation/v1/instance")

    assert response.status_code == 404
    assert response.json["error"]["code"] == "instance_not_initialised"
    assert response.json["error"]["status"] == 404


def test_the_instance_document_follows_the_wire_format(
    client: FlaskClient, identity: Instance
) -> None:
    response = client.get("/federation/v1/instance")

    assert response.status_code == 200
    document = response.json
    assert set(document) == DOCUMENT_FIELDS
    assert document["instance_id"] == str(identity.id)
    assert document["url"] == LOCAL_URL
    assert document["name"] == "Instance de test"
    raw = base64.b64decode(document["public_key"], validate=True)
    assert len(raw) == 32
    assert document["public_key"] == base64.b64encode(raw).decode()  # standard and padded
    Ed25519PublicKey.from_public_bytes(raw)
    assert document["fingerprint"] == hashlib.sha256(raw).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", document["fingerprint"])
    assert document["key_id"] == f"{identity.id}#{document['fingerprint'][:16]}"
    assert document["software"] == "regies-sharing"
    assert document["version"]
    assert response.headers["Cache-Control"] == "no-cache"


def test_the_private_key_is_a_0600_file_and_not_in_the_database(
    app: Flask, identity: Instance
) -> None:
    (path,) = key_files(app)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    pem = path.read_bytes()
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert not list(path.parent.glob(".key-*"))  # no temporary file left by the atomic write

    with app.app_context():
        private = keys.read_private_key(identity.verifying_key)
        secret = private.private_bytes_raw()
        row = db.session.execute(sa.select(Instance.__table__)).one()._asdict()
    assert keys.public_key_bytes(private.public_key()) == keys.public_key_bytes(
        identity.verifying_key
    )
    stored = "".join(str(value) for value in row.values())
    for encoding in (secret.hex(), base64.b64encode(secret).decode(), pem.decode()):
        assert encoding not in stored


def test_the_key_folder_defaults_to_the_instance_folder(app: Flask) -> None:
    app.config["FEDERATION_KEY_DIR"] = None
    with app.app_context():
        assert keys.key_dir() == Path(app.instance_path) / "federation"


def test_init_again_with_the_same_url_and_name_returns_the_same_identity(
    app: Flask, identity: Instance
) -> None:
    with app.app_context():
        again = services.init_instance(LOCAL_URL + "/", "Instance de test")

    assert again.id == identity.id
    assert again.key_id == identity.key_id
    assert len(key_files(app)) == 1


@pytest.mark.parametrize(
    ("url", "name"),
    [("https://other.example.org", "Instance de test"), (LOCAL_URL, "Autre nom")],
)
def test_init_refuses_to_change_an_existing_identity(
    app: Flask, identity: Instance, url: str, name: str
) -> None:
    with app.app_context(), pytest.raises(Conflict) as raised:
        services.init_instance(url, name)

    assert raised.value.code == "already_initialised"
    assert len(key_files(app)) == 1


def test_init_again_fails_when_the_key_file_is_gone(app: Flask, identity: Instance) -> None:
    key_files(app)[0].unlink()
    services._private_keys.clear()

    with app.app_context(), pytest.raises(Conflict) as raised:
        services.init_instance(LOCAL_URL, "Instance de test")

    assert raised.value.code == "key_file"


@pytest.mark.parametrize(
    "url", ["ftp://x.example.org", "https://", "https://x.example.org/?a=1", "x.example.org"]
)
def test_init_refuses_a_url_that_is_not_a_base_url(app: Flask, url: str) -> None:
    with app.app_context(), pytest.raises(Invalid):
        services.init_instance(url, "Instance")


def test_urls_are_stored_in_canonical_form(app: Flask) -> None:
    with app.app_context():
        identity = services.init_instance("HTTPS://Partage.Example.ORG:443/", "Instance")

    assert identity.url == "https://partage.example.org"


def test_only_one_identity_row_can_exist(app: Flask, identity: Instance) -> None:
    with app.app_context():
        db.session.add(
            Instance(
                id=uuid.uuid4(),
                singleton=1,
                url="https://x.example.org",
                name="x",
                key_id="x#0",
                public_key=identity.public_key,
            )
        )
        with pytest.raises(sa.exc.IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_cli_init_prints_the_instance_id_and_fingerprint(app: Flask) -> None:
    runner = app.test_cli_runner()

    result = runner.invoke(
        args=["federation", "init", "--url", LOCAL_URL, "--name", "Auvergne-Rhône-Alpes"]
    )

    assert result.exit_code == 0, result.output
    with app.app_context():
        identity = services.require_identity()
    assert f"instance_id: {identity.id}" in result.output
    assert f"fingerprint: {identity.fingerprint}" in result.output

    again = runner.invoke(
        args=["federation", "init", "--url", LOCAL_URL, "--name", "Auvergne-Rhône-Alpes"]
    )
    assert again.exit_code == 0
    assert again.output == result.output

    other = runner.invoke(args=["federation", "init", "--url", LOCAL_URL, "--name", "Autre"])
    assert other.exit_code != 0
    assert "déjà une identité" in other.output


def test_local_records_report_the_instance_id_once_it_exists(
    app: Flask, client: FlaskClient, make: Factories
) -> None:
    regie = make.regie()
    admin = make.user(regie=regie, role="admin")
    token = make.token(admin)
    headers = {"Authorization": f"Bearer {token}"}

    before = client.get(f"/api/v1/regies/{regie.id}", headers=headers).json
    assert before["origin"]["instance_id"] is None

    result = app.test_cli_runner().invoke(
        args=["federation", "init", "--url", LOCAL_URL, "--name", "Instance"]
    )
    assert result.exit_code == 0, result.output
    # As if init had run in another process, 30 s ago: the next request finds the identity.
    app.config["INSTANCE_ID"] = None
    app.extensions["federation"].next_identity_check = 0.0

    after = client.get(f"/api/v1/regies/{regie.id}", headers=headers).json
    with app.app_context():
        assert after["origin"]["instance_id"] == str(services.require_identity().id)
    assert after["origin"]["is_local"] is True

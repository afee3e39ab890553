"""The audit log: each security-relevant action leaves one row naming the right actor, in the
action's transaction; only the instance's administrators read it (page and API); a failed
sign-in is kept although the sign-in fails, and never with the password."""

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from federation import services as federation
from federation.models import Peer
from sharing.accounts import services as accounts
from sharing.accounts.models import Role, User
from sharing.audit import services as audit
from sharing.audit.models import AuditEvent
from sharing.errors import Forbidden, NotFound
from sharing.extensions import db
from tests.factories import PASSWORD, Factories
from tests.federation.conftest import LOCAL_URL, RemoteInstance
from tests.views.conftest import csrf_token, login

SECRET_PASSWORD = "Tr0p-Secret-Passw0rd"


def events(app: Flask, action: str | None = None) -> list[AuditEvent]:
    with app.app_context():
        stmt = sa.select(AuditEvent).order_by(AuditEvent.at, AuditEvent.id)
        if action:
            stmt = stmt.where(AuditEvent.action == action)
        return list(db.session.scalars(stmt))


def everything_stored(app: Flask) -> str:
    """Every column of every audit row, as text: what an attacker reading the table gets."""
    with app.app_context():
        rows = db.session.execute(sa.text("SELECT * FROM audit_events")).all()
    return " ".join(str(value) for row in rows for value in row)


def post_login(client: FlaskClient, email: str, password: str) -> Any:
    token = csrf_token(client, "/connexion")
    return client.post(
        "/connexion", data={"email": email, "password": password, "csrf_token": token}
    )


# -- Sign-in, sign-out ----------------------------------------------------------------------


def test_a_sign_in_and_a_sign_out_are_recorded_with_their_actor(app, client, make):
    user = make.user("member")

    login(client, user)
    client.post("/deconnexion", data={"csrf_token": csrf_token(client, "/catalogue")})

    (signed_in,) = events(app, "login.success")
    (signed_out,) = events(app, "logout")
    for event in (signed_in, signed_out):
        assert event.actor_id == user.id
        assert event.actor == user.email
        assert event.regie_id == user.regie_id
        assert event.ip == "127.0.0.1"


@pytest.mark.parametrize("case", ["unknown", "wrong_password", "disabled"])
def test_a_failed_sign_in_is_kept_although_the_sign_in_fails(app, client, make, case):
    user = make.user("member")
    if case == "disabled":
        with app.app_context():
            accounts.set_user_enabled(None, user.id, False)
            db.session.commit()
    email = "personne@regies.test" if case == "unknown" else user.email
    password = PASSWORD if case == "disabled" else SECRET_PASSWORD

    assert post_login(client, email, password).status_code == 401

    (failure,) = events(app, "login.failure")
    assert failure.actor_id is None
    assert failure.actor == "anonyme"
    assert (
        failure.details["reason"]
        == {
            "unknown": "unknown_email",
            "wrong_password": "wrong_password",
            "disabled": "disabled",
        }[case]
    )
    if case == "unknown":
        assert failure.target == ""
        assert "personne@regies.test" not in everything_stored(app)
        with app.app_context():
            assert failure.details["email_digest"] == audit.email_digest("Personne@regies.test ")
    else:
        assert failure.target == user.email
        assert failure.regie_id == user.regie_id
    assert SECRET_PASSWORD not in everything_stored(app)


def test_a_password_typed_in_the_email_field_is_never_stored(app, client, make):
    """Attack on the log itself: people type their password in the wrong field."""
    make.user("member")

    post_login(client, SECRET_PASSWORD, SECRET_PASSWORD)
    client.post("/api/v1/auth/tokens", json={"email": SECRET_PASSWORD, "password": SECRET_PASSWORD})

    assert len(events(app, "login.failure")) == 2
    stored = everything_stored(app)
    assert SECRET_PASSWORD not in stored
    assert SECRET_PASSWORD.lower() not in stored


def test_a_failed_token_request_is_recorded(app, client, make):
    user = make.user("member")

    response = client.post("/api/v1/auth/tokens", json={"email": user.email, "password": "x"})

    assert response.status_code == 401
    (failure,) = events(app, "login.failure")
    assert failure.details == {
        "reason": "wrong_password",
        "account_id": str(user.id),
        "via": "api",
    }


# -- Tokens and accounts --------------------------------------------------------------------


def test_token_creation_and_revocation_are_recorded(app, client, make):
    user = make.user("member")
    with app.app_context():
        db.session.execute(sa.delete(AuditEvent))  # the factories' own rows
        db.session.commit()

    created = client.post(
        "/api/v1/auth/tokens", json={"email": user.email, "password": PASSWORD, "label": "script"}
    )
    token_id = created.json["id"]
    bearer = {"Authorization": f"Bearer {created.json['token']}"}
    assert client.delete(f"/api/v1/auth/tokens/{token_id}", headers=bearer).status_code == 204

    assert [(e.action, e.actor_id, e.target) for e in events(app)] == [
        ("token.create", user.id, token_id),
        ("token.revoke", user.id, token_id),
    ]
    assert events(app)[0].details == {"label": "script", "via": "api"}
    assert created.json["token"] not in everything_stored(app)


def test_a_refused_revocation_leaves_no_row(app, client, make):
    """The row is written in the action's transaction: no action, no row."""
    owner, other = make.user("member"), make.user("member")
    with app.app_context():
        token, _ = accounts.create_token(db.session.get(User, owner.id), "x")
        db.session.commit()
    before = len(events(app))

    response = client.delete(f"/api/v1/auth/tokens/{token.id}", headers=make.auth(other))

    assert response.status_code == 404
    assert [e.action for e in events(app)][before:] == ["token.create"]  # make.auth's own


def test_creating_an_account_is_recorded_with_its_creator(app, client, make):
    admin = make.user("admin")
    regie = make.regie()
    body = {
        "email": "nouvelle@regies.test",
        "name": "Nouvelle",
        "password": "un-mot-de-passe-solide",
        "regie_id": str(regie.id),
        "role": "manager",
    }

    assert client.post("/api/v1/users", json=body, headers=make.auth(admin)).status_code == 201

    created = [e for e in events(app, "user.create") if e.target == "nouvelle@regies.test"]
    assert [(e.actor_id, e.regie_id, e.details["role"]) for e in created] == [
        (admin.id, regie.id, "manager")
    ]
    assert "un-mot-de-passe-solide" not in everything_stored(app)


def test_role_changes_and_disabling_are_recorded(app, make):
    manager = make.user("manager")
    member = make.user("member", regie=manager.regie)
    with app.app_context():
        actor = db.session.get(User, manager.id)
        accounts.change_role(actor, member.id, Role.MANAGER)
        accounts.set_user_enabled(actor, member.id, False)
        accounts.set_user_enabled(actor, member.id, False)  # no change, no row
        accounts.set_user_enabled(actor, member.id, True)
        db.session.commit()

    rows = [e for e in events(app) if e.action.startswith("user.") and e.target == member.email]
    assert [(e.action, e.actor_id) for e in rows] == [
        ("user.create", None),
        ("user.role_change", manager.id),
        ("user.disable", manager.id),
        ("user.enable", manager.id),
    ]
    assert rows[1].details["from"] == "member"
    assert rows[1].details["to"] == "manager"


def test_a_member_cannot_promote_or_disable_anyone(app, make):
    """Attacks through the services: promote oneself, disable one's manager, reach another
    régie's account. Each is refused and leaves no row."""
    member = make.user("member")
    manager = make.user("manager", regie=member.regie)
    stranger = make.user("member")
    before = len(events(app))
    with app.app_context():
        actor = db.session.get(User, member.id)
        with pytest.raises((Forbidden, NotFound)):
            accounts.change_role(actor, member.id, Role.ADMIN)
        with pytest.raises((Forbidden, NotFound)):
            accounts.set_user_enabled(actor, manager.id, False)
        with pytest.raises(NotFound):
            accounts.change_role(db.session.get(User, manager.id), stranger.id, Role.MANAGER)
        with pytest.raises(Forbidden):  # a manager may not make anyone an administrator
            accounts.change_role(db.session.get(User, manager.id), member.id, Role.ADMIN)
        db.session.rollback()
    assert len(events(app)) == before


def test_a_disabled_account_loses_its_tokens(app, client, make):
    user = make.user("member")
    headers = make.auth(user)
    with app.app_context():
        accounts.set_user_enabled(None, user.id, False)
        db.session.commit()

    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert events(app, "user.disable")[0].actor == "cli"


# -- Federation -----------------------------------------------------------------------------


def test_pairing_rotation_and_removal_are_recorded(app, identity, remote: RemoteInstance):
    with app.app_context():
        federation.add_peer(remote.url, remote.fingerprint, client=federation.default_client())
        federation.rotate_key()
        federation.remove_peer(remote.url)
        db.session.commit()

    rows = [e for e in events(app) if e.action.startswith("federation.")]
    assert [(e.action, e.target, e.actor, e.ip) for e in rows] == [
        ("federation.peer_pair", remote.url, "cli", None),
        ("federation.key_rotate", LOCAL_URL, "cli", None),
        ("federation.peer_remove", remote.url, "cli", None),
    ]
    assert rows[0].details["fingerprint"] == remote.fingerprint


def test_a_refused_pairing_leaves_no_row(app, identity, remote: RemoteInstance):
    with app.app_context(), pytest.raises(Exception, match="empreinte"):
        federation.add_peer(remote.url, "0" * 64, client=federation.default_client())
    assert events(app, "federation.peer_pair") == []


def test_a_rejected_federation_signature_is_recorded(app, client, paired: Peer, remote):
    ping = LOCAL_URL + "/federation/v1/ping"
    headers = remote.sign("POST", ping, body=b'{"n": 1}')

    response = client.post("/federation/v1/ping", headers=headers, data=b'{"n": 2}')

    assert response.status_code == 401
    (rejected,) = events(app, "federation.signature_rejected")
    assert rejected.actor == remote.url
    assert rejected.target == "POST /federation/v1/ping"
    assert rejected.details["reason"] == "digest_mismatch"


def test_an_unsigned_request_is_only_logged(app, client, paired: Peer):
    """Anyone on the internet can send those: they would flood the log."""
    assert client.get("/federation/v1/ping").status_code == 401
    assert events(app, "federation.signature_rejected") == []


# -- Who reads the log ----------------------------------------------------------------------


@pytest.mark.parametrize("role", ["member", "manager"])
def test_only_administrators_see_the_page_and_the_api(app, client, make, role):
    """Attack: a member or a manager reads the log by its URL, with a cookie or a token."""
    user = make.user(role)
    login(client, user)

    page = client.get("/admin/journal")
    api_cookie = client.get("/api/v1/audit")
    api_token = client.get("/api/v1/audit", headers=make.auth(user))

    assert (page.status_code, api_cookie.status_code, api_token.status_code) == (403, 403, 403)
    assert user.email not in page.get_data(as_text=True)
    assert "Journal d'audit" not in client.get("/catalogue").get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_sign_in(client):
    assert client.get("/admin/journal").status_code == 302
    assert client.get("/api/v1/audit").status_code == 401


def test_the_admin_page_filters_by_action_and_paginates(app, client, make: Factories):
    admin = make.user("admin")
    login(client, admin)
    for _ in range(3):
        post_login(FlaskClient(app), "inconnu@regies.test", "x")

    page = client.get("/admin/journal", query_string={"action": "login.failure", "per_page": 2})
    text = page.get_data(as_text=True)

    assert page.status_code == 200
    assert "Journal d'audit" in text
    assert text.count("Échec de connexion") == 2 + 1  # two rows and the filter's option
    assert "Page 1 sur 2" in text
    assert "Connexion</th>" not in text  # the admin's own sign-in is filtered out
    assert client.get("/admin/journal", query_string={"action": "nope"}).status_code == 400


def test_the_api_lists_newest_first_for_administrators(app, client, make):
    admin = make.user("admin")
    headers = make.auth(admin)
    post_login(client, "inconnu@regies.test", "x")

    answer = client.get("/api/v1/audit", headers=headers)
    only = client.get("/api/v1/audit", headers=headers, query_string={"action": "logout"})

    assert answer.status_code == 200
    assert answer.json["items"][0]["action"] == "login.failure"
    assert answer.json["total"] == len(events(app))
    assert only.json == {"items": [], "total": 0, "page": 1, "per_page": 50}
    assert client.get("/api/v1/audit?action=x", headers=headers).status_code == 400


def test_list_events_refuses_non_administrators(app, make):
    manager = make.user("manager")
    with app.app_context(), pytest.raises(Forbidden):
        audit.list_events(db.session.get(User, manager.id))


def test_unknown_actions_are_a_programming_error(app):
    with app.test_request_context(), pytest.raises(ValueError, match="unknown audit action"):
        audit.record("login.maybe")


def test_rows_carry_no_foreign_keys(app):
    """The log must outlive the accounts and régies it names."""
    with app.app_context():
        assert sa.inspect(db.engine).get_foreign_keys("audit_events") == []

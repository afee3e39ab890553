"""Accounts through HTTP: tokens, sign-in limits, the current user, creating and listing users."""

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from sharing.accounts.models import ApiToken, User, hash_token
from sharing.extensions import db
from sharing.regies.models import Regie
from tests.factories import PASSWORD

RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
CSRF_INPUT = re.compile(r'name="csrf[_-]token"\s+(?:value|content)="([^"]+)"')


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
    return client.post("/api/v1/auth/tokens", json={"email": email, "password": password})


def csrf_token_of(client: FlaskClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    match = CSRF_INPUT.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def browser_sign_in(client: FlaskClient, user: User) -> None:
    """Sign in through the HTML form, as a browser does: the client then holds a session."""
    token = csrf_token_of(client, "/connexion")
    response = client.post(
        "/connexion", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def count(app: Flask, model: type) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0


def disable(app: Flask, user: User) -> None:
    with app.app_context():
        db.session.get(User, user.id).is_enabled = False  # type: ignore[union-attr]
        db.session.commit()


@pytest.fixture
def low_login_limit(app: Flask) -> Iterator[int]:
    """Three sign-in attempts a minute (the limit is read on every request)."""
    previous = app.config["LOGIN_RATE_LIMIT"]
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    try:
        yield 3
    finally:
        app.config["LOGIN_RATE_LIMIT"] = previous


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    error = response.json["error"]
    assert set(error) == {"status", "code", "message", "details"}
    assert (error["status"], error["code"]) == (status, code)
    assert isinstance(error["message"], str)
    assert error["message"]
    assert isinstance(error["details"], dict)
    return dict(error)


# Personal API tokens


def test_token_creation_answers_the_documented_fields(client, make):
    user = make.user("member")

    response = client.post(
        "/api/v1/auth/tokens",
        json={"email": user.email, "password": PASSWORD, "label": "  tableur  "},
    )

    assert response.status_code == 201, response.json
    body = response.json
    assert set(body) == {"id", "token", "label", "created_at"}
    uuid.UUID(body["id"])
    assert body["label"] == "tableur"
    assert RFC3339_UTC.match(body["created_at"])
    assert body["token"].startswith("rqt_")
    assert len(body["token"]) > 32
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200
    assert me.json["id"] == str(user.id)


def test_only_the_hash_of_a_token_is_stored(client, app, make):
    user = make.user("member")

    body = sign_in(client, user.email).json

    with app.app_context():
        stored = db.session.get(ApiToken, uuid.UUID(body["id"]))
        assert stored is not None
        assert stored.token_hash == hash_token(body["token"])
        assert body["token"] not in stored.token_hash
        assert stored.label == ""


def test_email_is_matched_case_insensitively_and_trimmed(client, make):
    user = make.user("member")

    response = sign_in(client, f"  {user.email.upper()} ")

    assert response.status_code == 201


@pytest.mark.parametrize(
    "body",
    [
        {"password": PASSWORD},
        {"email": "x@regies.test"},
        {"email": "x@regies.test", "password": PASSWORD, "label": "x" * 101},
        {"email": "x@regies.test", "password": PASSWORD, "remember": True},
        {"email": 42, "password": PASSWORD},
    ],
    ids=["no-email", "no-password", "long-label", "unknown-field", "email-not-a-string"],
)
def test_token_request_is_validated(client, app, body):
    response = client.post("/api/v1/auth/tokens", json=body)

    assert_error(response, 422, "validation_failed")
    assert count(app, ApiToken) == 0


def test_bad_credentials_give_one_answer_whatever_was_wrong(client, app, make):
    user = make.user("member")

    unknown = sign_in(client, "personne@regies.test")
    wrong = sign_in(client, user.email, "pas-le-bon-mot-de-passe")
    empty = sign_in(client, user.email, "")

    errors = [assert_error(r, 401, "invalid_credentials") for r in (unknown, wrong, empty)]
    assert errors[0] == errors[1] == errors[2]  # no user enumeration
    assert unknown.get_data() == wrong.get_data()
    assert count(app, ApiToken) == 0


def test_a_disabled_user_gets_no_token_and_loses_the_old_ones(client, app, make):
    user = make.user("manager")
    headers = make.auth(user)
    disable(app, user)

    refused = sign_in(client, user.email)
    old_token = client.get("/api/v1/me", headers=headers)

    unknown_message = assert_error(
        sign_in(client, "personne@regies.test"), 401, "invalid_credentials"
    )
    assert assert_error(refused, 401, "invalid_credentials") == unknown_message
    assert_error(old_token, 401, "invalid_token")


def test_a_revoked_token_stops_working(client, make):
    user = make.user("member")
    body = sign_in(client, user.email).json
    headers = {"Authorization": f"Bearer {body['token']}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200

    revoked = client.delete(f"/api/v1/auth/tokens/{body['id']}", headers=headers)

    assert revoked.status_code == 204
    assert revoked.get_data() == b""
    assert_error(client.get("/api/v1/me", headers=headers), 401, "invalid_token")


def test_revoking_is_done_once_and_only_by_the_owner(client, make):
    owner = make.user("member")
    other = make.user("admin")
    target = sign_in(client, owner.email).json
    owner_headers = make.auth(owner)
    url = f"/api/v1/auth/tokens/{target['id']}"

    by_other = client.delete(url, headers=make.auth(other))
    still_works = client.get("/api/v1/me", headers={"Authorization": f"Bearer {target['token']}"})
    first = client.delete(url, headers=owner_headers)
    second = client.delete(url, headers=owner_headers)
    unknown = client.delete(f"/api/v1/auth/tokens/{uuid.uuid4()}", headers=owner_headers)

    assert_error(by_other, 404, "not_found")  # someone else's token does not exist for you
    assert still_works.status_code == 200
    assert first.status_code == 204
    assert_error(second, 404, "not_found")
    assert_error(unknown, 404, "not_found")


def test_revoking_one_token_keeps_the_others(client, make):
    user = make.user("member")
    first, second = sign_in(client, user.email).json, sign_in(client, user.email).json

    client.delete(
        f"/api/v1/auth/tokens/{first['id']}",
        headers={"Authorization": f"Bearer {first['token']}"},
    )

    assert first["token"] != second["token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {second['token']}"})
    assert me.status_code == 200


# Rate limiting


def test_token_creation_is_rate_limited(client, make, low_login_limit):
    user = make.user("member")
    for _ in range(low_login_limit):
        assert sign_in(client, user.email, "mauvais").status_code == 401

    limited = sign_in(client, user.email)  # even the right password waits now

    assert_error(limited, 429, "rate_limited")
    assert int(limited.headers["Retry-After"]) > 0


def test_successful_sign_ins_count_too(client, make, low_login_limit):
    user = make.user("member")
    statuses = [sign_in(client, user.email).status_code for _ in range(low_login_limit + 1)]

    assert statuses == [201] * low_login_limit + [429]


def test_html_login_form_is_rate_limited(client, make, low_login_limit):
    user = make.user("member")
    token = csrf_token_of(client, "/connexion")
    form = {"email": user.email, "password": "mauvais", "csrf_token": token}
    statuses = [client.post("/connexion", data=form).status_code for _ in range(low_login_limit)]

    limited = client.post("/connexion", data=form | {"password": PASSWORD})

    assert statuses == [401] * low_login_limit
    assert limited.status_code == 429
    assert limited.mimetype == "text/html"
    assert "Trop de tentatives" in limited.get_data(as_text=True)
    # Showing the form is not an attempt.
    assert client.get("/connexion").status_code == 200


# The current user


def test_me_describes_the_user_and_their_regie(client, make):
    regie = make.regie(name="Régie de Vierzon", slug="vierzon")
    user = make.user("manager", regie=regie, name="Chantal Martin")

    response = client.get("/api/v1/me", headers=make.auth(user))

    assert response.status_code == 200
    assert response.json == {
        "id": str(user.id),
        "email": user.email,
        "name": "Chantal Martin",
        "role": "manager",
        "regie": {"id": str(regie.id), "name": "Régie de Vierzon", "slug": "vierzon"},
    }


def test_me_needs_credentials(client):
    assert_error(client.get("/api/v1/me"), 401, "unauthorized")


# Creating users


def new_user(regie_id: Any, **fields: Any) -> dict[str, Any]:
    return {
        "email": "nouvelle@regies.test",
        "name": "Nouvelle Recrue",
        "password": "un-mot-de-passe-solide",
        "regie_id": str(regie_id),
        "role": "member",
    } | fields


def test_manager_creates_a_member_who_can_sign_in(client, make):
    manager = make.user("manager")

    response = client.post(
        "/api/v1/users",
        json=new_user(manager.regie_id, email="Nouvelle@Regies.TEST"),
        headers=make.auth(manager),
    )

    assert response.status_code == 201, response.json
    body = response.json
    assert set(body) == {"id", "email", "name", "role", "regie"}
    assert body["email"] == "nouvelle@regies.test"
    assert body["role"] == "member"
    assert body["regie"]["id"] == str(manager.regie_id)
    assert sign_in(client, "nouvelle@regies.test", "un-mot-de-passe-solide").status_code == 201


def test_duplicate_email_is_422_on_the_email_field(client, app, make):
    admin = make.user("admin")
    existing = make.user("member")
    before = count(app, User)

    response = client.post(
        "/api/v1/users",
        json=new_user(admin.regie_id, email=existing.email.upper()),
        headers=make.auth(admin),
    )

    error = assert_error(response, 422, "validation_failed")
    assert list(error["details"]["fields"]) == ["email"]
    assert count(app, User) == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"password": "court"}, "password"),
        ({"password": ""}, "password"),
        ({"password": "x" * 501}, "password"),
        ({"email": "pas-une-adresse"}, "email"),
        ({"name": "   "}, "name"),
        ({"role": "superadmin"}, "role"),
        ({"regie_id": "pas-un-uuid"}, "regie_id"),
        ({"regie_id": str(uuid.UUID(int=1))}, "regie_id"),
        ({"is_enabled": False}, "is_enabled"),
        ({"password_hash": "pbkdf2:sha256:1$x$y"}, "password_hash"),
    ],
    ids=lambda value: value if isinstance(value, str) else next(iter(value)),
)
def test_user_creation_is_validated_and_never_echoes_the_password(client, app, make, change, field):
    admin = make.user("admin")
    before = count(app, User)
    body = new_user(admin.regie_id, password="secret-qui-ne-doit-pas-revenir") | change

    response = client.post("/api/v1/users", json=body, headers=make.auth(admin))

    error = assert_error(response, 422, "validation_failed")
    assert field in error["details"]["fields"]
    text = response.get_data(as_text=True)
    assert str(body["password"]) not in text or body["password"] == ""
    assert count(app, User) == before


def test_no_response_ever_carries_a_password_or_its_hash(client, app, make):
    admin = make.user("admin")
    headers = make.auth(admin)
    password = "un-mot-de-passe-solide"
    created = client.post(
        "/api/v1/users", json=new_user(admin.regie_id, password=password), headers=headers
    )
    with app.app_context():
        hashes = [h for h in db.session.scalars(select(User.password_hash))]
    responses = [
        created,
        sign_in(client, "nouvelle@regies.test", password),
        client.get("/api/v1/me", headers=headers),
        client.get("/api/v1/users", headers=headers),
        client.get(f"/api/v1/regies/{admin.regie_id}", headers=headers),
        client.get("/api/v1/openapi.json"),
    ]

    for response in responses:
        assert response.status_code in (200, 201)
        text = response.get_data(as_text=True)
        assert password not in text
        assert PASSWORD not in text
        assert "password_hash" not in text
        assert "token_hash" not in text
        for value in hashes:
            assert value not in text
            assert value.split("$")[-1] not in text


# Listing users


def test_admin_lists_every_account_manager_their_regie_member_nobody(client, make):
    home, other = make.regie(), make.regie()
    admin = make.user("admin", regie=home, name="A Admin")
    manager = make.user("manager", regie=home, name="B Responsable")
    member = make.user("member", regie=home, name="C Membre")
    make.user("manager", regie=other, name="D Ailleurs")

    for_admin = client.get("/api/v1/users", headers=make.auth(admin))
    for_manager = client.get("/api/v1/users", headers=make.auth(manager))
    for_member = client.get("/api/v1/users", headers=make.auth(member))

    assert for_admin.status_code == 200
    assert [u["name"] for u in for_admin.json["items"]] == [
        "A Admin",
        "B Responsable",
        "C Membre",
        "D Ailleurs",
    ]
    assert for_admin.json["total"] == 4
    assert [u["name"] for u in for_manager.json["items"]] == [
        "A Admin",
        "B Responsable",
        "C Membre",
    ]
    assert set(for_manager.json) == {"items", "total", "page", "per_page"}
    assert_error(for_member, 403, "forbidden")


def test_user_list_is_paginated(client, make):
    admin = make.user("admin", name="A")
    for name in "BCD":
        make.user("member", regie=admin.regie, name=name)

    body = client.get("/api/v1/users?per_page=2&page=2", headers=make.auth(admin)).json

    assert (body["total"], body["page"], body["per_page"]) == (4, 2, 2)
    assert [u["name"] for u in body["items"]] == ["C", "D"]


# Browser sessions on the API: CSRF


def test_session_writes_need_the_csrf_header_bearer_writes_do_not(client, app, make):
    admin = make.user("admin")
    browser_sign_in(client, admin)
    regie = {"name": "Régie par navigateur", "slug": "navigateur", "city": "Bourges"}

    read = client.get("/api/v1/me")
    forged = client.post("/api/v1/regies", json=regie)
    forged_patch = client.patch(f"/api/v1/regies/{admin.regie_id}", json={"city": "Pirate"})

    assert read.status_code == 200
    assert read.json["id"] == str(admin.id)
    assert_error(forged, 403, "csrf_failed")
    assert_error(forged_patch, 403, "csrf_failed")
    assert count(app, Regie) == 1

    token = csrf_token_of(client, "/")
    allowed = client.post("/api/v1/regies", json=regie, headers={"X-CSRFToken": token})
    assert allowed.status_code == 201, allowed.json

    scripted = FlaskClient(app, app.response_class)  # no cookies at all
    by_token = scripted.post(
        "/api/v1/regies", json=regie | {"slug": "script"}, headers=make.auth(admin)
    )
    assert by_token.status_code == 201, by_token.json


def test_a_wrong_csrf_header_is_refused(client, make):
    admin = make.user("admin")
    browser_sign_in(client, admin)

    response = client.post(
        "/api/v1/regies",
        json={"name": "R", "slug": "rr", "city": "C"},
        headers={"X-CSRFToken": "n-importe-quoi"},
    )

    assert_error(response, 403, "csrf_failed")


def test_a_disabled_users_session_stops_working(client, app, make):
    member = make.user("member")
    browser_sign_in(client, member)
    assert client.get("/api/v1/me").status_code == 200

    disable(app, member)

    assert_error(client.get("/api/v1/me"), 401, "unauthorized")


def test_login_form_with_a_nul_character_is_a_plain_failure(client, make):
    """PostgreSQL refuses NUL in text: the form must answer "bad credentials", not crash."""
    user = make.user("member")
    token = csrf_token_of(client, "/connexion")

    response = client.post(
        "/connexion",
        data={"email": user.email + "\x00", "password": PASSWORD, "csrf_token": token},
    )

    assert response.status_code == 401
    assert "incorrect" in response.get_data(as_text=True)

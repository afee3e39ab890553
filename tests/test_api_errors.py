"""Every API error is the JSON body of api.md, bad input is never a 500 and changes nothing.

``CASES`` is a list of hostile or clumsy requests. Each must answer a 4xx with the error body
``{"error": {"status", "code", "message", "details"}}`` whose ``status`` is the HTTP status;
most also pin the exact status and code. Paths may name ``{regie}``, ``{resource}`` or
``{token}``: real objects of the signed-in administrator's régie.
"""

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from sharing.accounts.models import ApiToken, Role, User
from sharing.catalogue.models import Resource
from sharing.extensions import db
from sharing.regies.models import Regie

JSON = "application/json"
TABLES = (Regie, User, ApiToken, Resource)


@dataclass
class Case:
    id: str
    method: str
    path: str
    status: int | None = None  # None: any 4xx
    code: str | None = None
    json: Any = None
    data: bytes | str | None = None
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    field: str | None = None  # must be named in details.fields


RESOURCE = {"name": "Remorque 750 kg", "category": "vehicules"}
REGIE = {"name": "Régie X", "slug": "regie-x", "city": "Bourges"}
USER = {
    "email": "nouveau@regies.test",
    "name": "Nouveau",
    "password": "un-mot-de-passe-solide",
    "regie_id": "{regie}",
    "role": "member",
}


def invalid(path: str, payload: dict[str, Any], name: str, method: str = "POST") -> Case:
    """A JSON body that must be refused with 422 naming ``name`` in ``details.fields``."""
    value = repr(payload.get(name, "<missing>"))
    value = value if len(value) <= 24 else value[:20] + "..."
    return Case(
        f"{method} /{path.split('/')[3]} {name}={value}",
        method,
        path,
        422,
        "validation_failed",
        json=payload,
        field=name,
    )


def bad_query(path: str, query: str, name: str) -> Case:
    """A query string that must be refused with 400 ``invalid_query`` naming ``name``."""
    return Case(
        f"GET {path}?{query[:40]}", "GET", f"{path}?{query}", 400, "invalid_query", field=name
    )


CASES = [
    # Routing
    Case("unknown route", "GET", "/api/v1/nope", 404, "not_found"),
    Case("unknown sub-route", "GET", "/api/v1/regies/{regie}/nope", 404, "not_found"),
    Case("unknown route, POST", "POST", "/api/v1/nope", 404, "not_found", json={}),
    Case("not a uuid: regie", "GET", "/api/v1/regies/not-a-uuid", 404, "not_found"),
    Case("not a uuid: resource", "GET", "/api/v1/resources/123", 404, "not_found"),
    Case("not a uuid: patch", "PATCH", "/api/v1/resources/x'--", 404, "not_found", json={}),
    Case("not a uuid: token", "DELETE", "/api/v1/auth/tokens/abc", 404, "not_found"),
    Case("unknown uuid", "GET", f"/api/v1/resources/{uuid.uuid4()}", 404, "not_found"),
    Case("PUT on a list", "PUT", "/api/v1/regies", 405, "method_not_allowed", json=REGIE),
    Case("DELETE a régie", "DELETE", "/api/v1/regies/{regie}", 405, "method_not_allowed"),
    Case("POST on /me", "POST", "/api/v1/me", 405, "method_not_allowed", json={}),
    # Bodies that are not JSON objects
    Case(
        "malformed JSON",
        "POST",
        "/api/v1/regies",
        400,
        "malformed_json",
        data="{bad",
        content_type=JSON,
    ),
    Case(
        "truncated JSON",
        "POST",
        "/api/v1/resources",
        400,
        "malformed_json",
        data='{"name": ',
        content_type=JSON,
    ),
    Case(
        "single quotes",
        "POST",
        "/api/v1/users",
        400,
        "malformed_json",
        data="{'a': 1}",
        content_type=JSON,
    ),
    Case(
        "non-UTF-8 body",
        "POST",
        "/api/v1/regies",
        400,
        "malformed_json",
        data=b'{"name": "\xff\xfe"}',
        content_type=JSON,
    ),
    Case(
        "latin-1 body",
        "POST",
        "/api/v1/regies",
        400,
        "malformed_json",
        data='{"name": "Régie"}'.encode("latin-1"),
        content_type=JSON,
    ),
    Case(
        "JSON nested too deep",
        "POST",
        "/api/v1/regies",
        400,
        "malformed_json",
        data="[" * 100_000 + "]" * 100_000,
        content_type=JSON,
    ),
    Case(
        "integer of 5000 digits",
        "POST",
        "/api/v1/resources",
        400,
        "malformed_json",
        data='{"name": "Remorque", "category": "vehicules", "max_loan_days": ' + "9" * 5000 + "}",
        content_type=JSON,
    ),
    Case("JSON list", "POST", "/api/v1/regies", 422, "validation_failed", json=[REGIE]),
    Case("JSON string", "POST", "/api/v1/resources", 422, "validation_failed", json="Remorque"),
    Case("JSON number", "PATCH", "/api/v1/resources/{resource}", 422, "validation_failed", json=42),
    Case("JSON true", "POST", "/api/v1/users", 422, "validation_failed", json=True),
    Case(
        "JSON null",
        "POST",
        "/api/v1/regies",
        422,
        "validation_failed",
        json=None,
        data="null",
        content_type=JSON,
    ),
    Case(
        "empty body",
        "POST",
        "/api/v1/resources",
        422,
        "validation_failed",
        data="",
        content_type=JSON,
    ),
    Case(
        "text/plain body",
        "POST",
        "/api/v1/regies",
        None,
        data=json.dumps(REGIE),
        content_type="text/plain",
    ),
    Case(
        "form body",
        "POST",
        "/api/v1/resources",
        None,
        data="name=Remorque&category=vehicules",
        content_type="application/x-www-form-urlencoded",
    ),
    Case(
        "too large",
        "POST",
        "/api/v1/regies",
        413,
        "payload_too_large",
        data='{"name": "' + "x" * (26 * 1024 * 1024) + '"}',
        content_type=JSON,
    ),
    # Unknown fields
    invalid("/api/v1/regies", REGIE | {"is_admin": True}, "is_admin"),
    invalid("/api/v1/regies/{regie}", {"origin_instance_id": None}, "origin_instance_id", "PATCH"),
    invalid("/api/v1/resources", RESOURCE | {"regie_id": "{regie}"}, "regie_id"),
    invalid("/api/v1/resources/{resource}", {"version": 9}, "version", "PATCH"),
    invalid("/api/v1/users", USER | {"is_enabled": False}, "is_enabled"),
    invalid("/api/v1/auth/tokens", {"email": "a@b.fr", "password": "x", "expires": 1}, "expires"),
    # Wrong types and values
    invalid("/api/v1/resources", RESOURCE | {"max_loan_days": "sept"}, "max_loan_days"),
    invalid("/api/v1/resources", RESOURCE | {"max_loan_days": True}, "max_loan_days"),
    invalid("/api/v1/resources", RESOURCE | {"max_loan_days": 10**30}, "max_loan_days"),
    invalid("/api/v1/resources", RESOURCE | {"max_loan_days": 0}, "max_loan_days"),
    invalid("/api/v1/resources", RESOURCE | {"min_notice_hours": -1}, "min_notice_hours"),
    invalid("/api/v1/resources", RESOURCE | {"min_notice_hours": [1]}, "min_notice_hours"),
    invalid("/api/v1/resources", RESOURCE | {"deposit_eur": True}, "deposit_eur"),
    invalid("/api/v1/resources", RESOURCE | {"deposit_eur": False}, "deposit_eur"),
    invalid("/api/v1/resources", RESOURCE | {"deposit_eur": -1}, "deposit_eur"),
    invalid("/api/v1/resources", RESOURCE | {"deposit_eur": "-10,00 €"}, "deposit_eur"),
    invalid("/api/v1/resources", RESOURCE | {"deposit_eur": 1e308}, "deposit_eur"),
    invalid("/api/v1/resources", RESOURCE | {"deposit_eur": "1e400"}, "deposit_eur"),
    invalid("/api/v1/resources", RESOURCE | {"deposit_eur": "Infinity"}, "deposit_eur"),
    invalid("/api/v1/resources", RESOURCE | {"deposit_eur": "NaN"}, "deposit_eur"),
    invalid("/api/v1/resources", RESOURCE | {"deposit_eur": "douze euros"}, "deposit_eur"),
    invalid("/api/v1/resources", RESOURCE | {"deposit_eur": {"amount": 1}}, "deposit_eur"),
    invalid(
        "/api/v1/resources", RESOURCE | {"replacement_value_eur": 10**12}, "replacement_value_eur"
    ),
    invalid("/api/v1/resources", RESOURCE | {"category": "fusees"}, "category"),
    invalid("/api/v1/resources", RESOURCE | {"condition": "cassé"}, "condition"),
    invalid("/api/v1/resources", RESOURCE | {"status": "retired"}, "status"),
    invalid("/api/v1/resources", RESOURCE | {"name": None}, "name"),
    invalid("/api/v1/resources", RESOURCE | {"name": 12}, "name"),
    invalid("/api/v1/resources", RESOURCE | {"name": ["a"]}, "name"),
    invalid("/api/v1/resources", RESOURCE | {"name": "x" * 10_000}, "name"),
    invalid("/api/v1/resources", RESOURCE | {"description": "x" * 100_000}, "description"),
    invalid("/api/v1/resources", {"name": "Remorque"}, "category"),
    invalid("/api/v1/resources/{resource}", {"category": None}, "category", "PATCH"),
    invalid("/api/v1/resources/{resource}", {"deposit_eur": -0.01}, "deposit_eur", "PATCH"),
    invalid("/api/v1/regies", REGIE | {"slug": None}, "slug"),
    invalid("/api/v1/regies", REGIE | {"city": "x" * 121}, "city"),
    invalid("/api/v1/regies", REGIE | {"timezone": "Paris"}, "timezone"),
    invalid("/api/v1/regies", REGIE | {"contact_email": "x" * 300 + "@b.fr"}, "contact_email"),
    invalid("/api/v1/users", USER | {"email": "a" * 1000 + "@regies.test"}, "email"),
    invalid("/api/v1/users", USER | {"regie_id": 5}, "regie_id"),
    invalid("/api/v1/users", USER | {"role": None}, "role"),
    invalid("/api/v1/users", USER | {"password": 1234567890}, "password"),
    invalid("/api/v1/auth/tokens", {"email": None, "password": "x"}, "email"),
    invalid("/api/v1/auth/tokens", {"email": "a@b.fr", "password": "x" * 501}, "password"),
    # Text no database can store: NUL characters, lone UTF-16 surrogates
    invalid("/api/v1/regies", REGIE | {"name": "Régie\x00X"}, "name"),
    invalid("/api/v1/regies/{regie}", {"city": "\x00"}, "city", "PATCH"),
    invalid("/api/v1/resources", RESOURCE | {"description": "a\x00b"}, "description"),
    invalid("/api/v1/resources", RESOURCE | {"na\x00me": "x"}, "na\x00me"),
    invalid("/api/v1/users", USER | {"email": "a\x00@regies.test"}, "email"),
    invalid("/api/v1/auth/tokens", {"email": "a\x00@b.fr", "password": "x"}, "email"),
    Case(
        "lone surrogate in a name",
        "POST",
        "/api/v1/regies",
        422,
        "validation_failed",
        data='{"name": "R\\ud800gie", "slug": "regie-x", "city": "Bourges"}',
        content_type=JSON,
        field="name",
    ),
    Case(
        "lone surrogate in an e-mail",
        "POST",
        "/api/v1/auth/tokens",
        422,
        "validation_failed",
        data='{"email": "a\\udfff@b.fr", "password": "x"}',
        content_type=JSON,
        field="email",
    ),
    # Query strings
    bad_query("/api/v1/resources", "q=a%00b", "q"),
    bad_query("/api/v1/regies", "q=%00", "q"),
    bad_query("/api/v1/resources", "page=abc", "page"),
    bad_query("/api/v1/resources", "page=0", "page"),
    bad_query("/api/v1/resources", "page=-3", "page"),
    bad_query("/api/v1/resources", "page=1.5", "page"),
    bad_query("/api/v1/resources", "page=9223372036854775807", "page"),
    bad_query("/api/v1/regies", "page=" + "9" * 30, "page"),
    bad_query("/api/v1/users", "page=1000001", "page"),
    bad_query("/api/v1/resources", "per_page=1000", "per_page"),
    bad_query("/api/v1/resources", "per_page=-1", "per_page"),
    bad_query("/api/v1/resources", "per_page=", "per_page"),
    bad_query(
        "/api/v1/resources", "available_from=notadate&available_to=notadate", "available_from"
    ),
    bad_query("/api/v1/resources", "available_from=2030-01-01T10:00:00Z", "available_to"),
    bad_query("/api/v1/resources", "available_to=2030-01-01T10:00:00Z", "available_to"),
    bad_query(
        "/api/v1/resources",
        "available_from=2030-01-01T10:00:00&available_to=2030-01-02T10:00:00Z",
        "available_from",
    ),
    bad_query(
        "/api/v1/resources",
        "available_from=2030-01-02T10:00:00Z&available_to=2030-01-01T10:00:00Z",
        "available_to",
    ),
    bad_query(
        "/api/v1/resources",
        "available_from=0001-01-01T00:00:00%2B01:00&available_to=0001-01-02T00:00:00Z",
        "available_from",
    ),
    bad_query(
        "/api/v1/resources/{resource}/availability",
        "from=2030-01-01T00:00:00Z&to=9999-12-31T23:00:00-05:00",
        "to",
    ),
    invalid(
        "/api/v1/bookings",
        {
            "resource_id": "{resource}",
            "starts_at": "0001-01-01T00:30:00+01:00",
            "ends_at": "2030-01-01T00:00:00Z",
        },
        "starts_at",
    ),
    bad_query("/api/v1/resources", "regie=not-a-uuid", "regie"),
    bad_query("/api/v1/resources", "instance=garbage", "instance"),
    bad_query("/api/v1/resources", "category=unknown", "category"),
    bad_query("/api/v1/resources", "status=unknown", "status"),
    bad_query("/api/v1/resources", "q=" + "x" * 10_000, "q"),
    bad_query("/api/v1/regies", "q=" + "é" * 10_000, "q"),
    bad_query("/api/v1/regies", "instance=", "instance"),
    bad_query("/api/v1/regies", "per_page=201", "per_page"),
    bad_query("/api/v1/users", "page=zero", "page"),
    # Credentials
    Case(
        "bad bearer token",
        "GET",
        "/api/v1/me",
        401,
        "invalid_token",
        headers={"Authorization": "Bearer rqt_nope"},
    ),
    Case(
        "revoked bearer token",
        "GET",
        "/api/v1/regies",
        401,
        "invalid_token",
        headers={"Authorization": "Bearer {revoked}"},
    ),
    Case(
        "basic auth",
        "GET",
        "/api/v1/me",
        401,
        "unauthorized",
        headers={"Authorization": "Basic YWRtaW46YWRtaW4="},
    ),
    Case(
        "bearer without token",
        "GET",
        "/api/v1/me",
        401,
        "unauthorized",
        headers={"Authorization": "Bearer"},
    ),
    Case(
        "unknown scheme",
        "POST",
        "/api/v1/regies",
        401,
        "unauthorized",
        json=REGIE,
        headers={"Authorization": "Token abc"},
    ),
    Case(
        "bad token on a write",
        "PATCH",
        "/api/v1/regies/{regie}",
        401,
        "invalid_token",
        json={"name": "Pirate"},
        headers={"Authorization": "Bearer rqt_nope"},
    ),
    Case(
        "bad credentials",
        "POST",
        "/api/v1/auth/tokens",
        401,
        "invalid_credentials",
        json={"email": "a@b.fr", "password": "x"},
    ),
]


@pytest.fixture
def world(app: Flask, make) -> dict[str, Any]:
    """An administrator's token and objects of their régie for the ``{...}`` placeholders."""
    admin = add_admin(app, make.regie())
    resource = make.resource(admin)
    revoked = make.token(admin)
    with app.app_context():
        token = db.session.scalars(select(ApiToken).where(ApiToken.user_id == admin.id)).one()
        token.revoked_at = token.created_at
        db.session.commit()
    return {
        "headers": make.auth(admin),
        "regie": str(admin.regie_id),
        "resource": str(resource.id),
        "revoked": revoked,
    }


def add_admin(app: Flask, regie: Regie) -> User:
    """An administrator who signs in with tokens only: no password to hash, a faster setup."""
    with app.app_context():
        admin = User(
            email=f"admin-{uuid.uuid4().hex[:8]}@regies.test",
            name="Administratrice",
            role=Role.ADMIN,
            regie_id=regie.id,
            password_hash="!",  # matches no password
        )
        db.session.add(admin)
        db.session.commit()
        return admin


def fill(value: Any, world: dict[str, Any]) -> Any:
    """Replace ``{regie}``, ``{resource}`` and ``{revoked}`` in strings, lists and dicts."""
    if isinstance(value, str):
        for key in ("regie", "resource", "revoked"):
            value = value.replace("{" + key + "}", world[key])
        return value
    if isinstance(value, dict):
        return {k: fill(v, world) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, world) for v in value]
    return value


def row_counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {
            model.__tablename__: db.session.scalar(select(func.count()).select_from(model)) or 0
            for model in TABLES
        }


def assert_error_body(response: Any) -> dict[str, Any]:
    """The api.md error body, whatever the status."""
    assert response.mimetype == JSON, response.get_data(as_text=True)[:300]
    error = response.json["error"]
    assert set(error) == {"status", "code", "message", "details"}
    assert error["status"] == response.status_code
    assert isinstance(error["code"], str)
    assert error["code"]
    assert isinstance(error["message"], str)
    assert error["message"]
    assert isinstance(error["details"], dict)
    return dict(error)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_request_gets_the_error_body_and_changes_nothing(app, client, world, case):
    headers = {**world["headers"], **{k: fill(v, world) for k, v in case.headers.items()}}
    kwargs: dict[str, Any] = {"headers": headers}
    if case.data is not None:
        kwargs["data"] = case.data
        kwargs["content_type"] = case.content_type
    elif case.json is not None:
        kwargs["json"] = fill(case.json, world)
    before = row_counts(app)

    response = client.open(fill(case.path, world), method=case.method, **kwargs)

    assert 400 <= response.status_code < 500, response.get_data(as_text=True)[:500]
    error = assert_error_body(response)
    if case.status is not None:
        assert response.status_code == case.status, error
    if case.code is not None:
        assert error["code"] == case.code
    if case.field is not None:
        assert case.field in error["details"]["fields"], error
    assert row_counts(app) == before


def test_method_not_allowed_lists_the_allowed_methods(client, world):
    response = client.delete(f"/api/v1/regies/{world['regie']}", headers=world["headers"])

    assert response.status_code == 405
    assert_error_body(response)
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "PATCH"}
    assert "DELETE" not in response.headers["Allow"]


def test_anonymous_errors_have_the_same_body(client):
    for response in (
        client.get("/api/v1/me"),
        client.get("/api/v1/nope"),
        client.post("/api/v1/regies", json=REGIE),
        client.post("/api/v1/auth/tokens", data="{", content_type=JSON),
    ):
        assert 400 <= response.status_code < 500
        assert_error_body(response)


def test_a_refused_patch_leaves_the_record_as_it_was(app, client, world):
    url = f"/api/v1/resources/{world['resource']}"
    before = client.get(url, headers=world["headers"]).json

    refused = client.patch(
        url,
        json={"name": "Nouveau nom", "deposit_eur": -5, "location": "Ailleurs"},
        headers=world["headers"],
    )

    assert refused.status_code == 422
    assert list(refused.json["error"]["details"]["fields"]) == ["deposit_eur"]
    assert client.get(url, headers=world["headers"]).json == before


def test_a_write_refused_by_the_database_rules_changes_nothing(app, client, make, world):
    """A service refusal after some rows were flushed must roll them back."""
    make.regie(slug="prise")
    before = row_counts(app)

    refused = client.post(
        "/api/v1/regies",
        json={"name": "Régie", "slug": "prise", "city": "Bourges"},
        headers=world["headers"],
    )

    assert refused.status_code == 422
    assert row_counts(app) == before


def test_error_bodies_are_in_french(client, world):
    errors = [
        client.get("/api/v1/nope", headers=world["headers"]),
        client.post("/api/v1/regies", json={}, headers=world["headers"]),
        client.get("/api/v1/me"),
    ]

    messages = [r.json["error"]["message"] for r in errors]
    assert messages[0].startswith("Cette page n'existe pas")
    assert messages[1] == "Certaines valeurs ne sont pas valides."
    assert "Identifiez-vous" in messages[2]


@pytest.mark.parametrize("value", ["7", 3.5], ids=["string", "fraction"])
def test_integer_fields_take_only_json_integers(app, client, world, value):
    before = row_counts(app)

    response = client.post(
        "/api/v1/resources", json=RESOURCE | {"max_loan_days": value}, headers=world["headers"]
    )

    assert response.status_code == 422
    assert "max_loan_days" in response.json["error"]["details"]["fields"]
    assert row_counts(app) == before

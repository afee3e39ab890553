"""Who may call which API endpoint: every /api/v1 route × actor × target, from api.md.

Actors are anonymous, or a member, manager or admin of the "own" régie. Targets say what the
call is aimed at: something of the actor's own régie, of another régie of this instance, of a
régie hosted by another instance ("remote": a read-only replica, as sync leaves it), or, for
bookings, a booking the actor's régie lends, borrows, or has nothing to do with ("third").
Accounts are never replicated, so actors are always of this instance.

``test_matrix_covers_every_api_route`` reads ``app.url_map``: a new API route fails it until
its row is added here (or it is listed in ``EXCLUDED`` with the reason).
"""

import functools
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from federation import services as federation
from federation.models import Peer
from sharing.accounts import services as accounts
from sharing.accounts.models import Role, User
from sharing.catalogue import replicas as catalogue_replicas
from sharing.catalogue.models import Condition
from sharing.catalogue.schemas import ResourceArgs
from sharing.extensions import db
from sharing.library import replicas as library_replicas
from sharing.library import services as library
from sharing.library.schemas import DocumentArgs
from sharing.loans import services as loans
from sharing.regies import replicas as regie_replicas
from sharing.regies.models import Regie
from tests.factories import PASSWORD, Factories

EXCLUDED = {
    ("GET", "/api/v1/openapi.json"): "public description of the API (tests/test_openapi.py)",
    ("GET", "/api/v1/docs"): "public HTML page about the API (tests/test_openapi.py)",
    ("GET", "/api/v1/resources/export.csv"): "covered in tests/catalogue/test_spreadsheet.py",
    ("POST", "/api/v1/resources/import"): "covered in tests/catalogue/test_spreadsheet.py",
    ("POST", "/api/v1/documents/<uuid:document_id>/attachments"): (
        "a multipart upload: covered in tests/library/test_permissions.py"
    ),
    ("GET", "/api/v1/documents/<uuid:document_id>/attachments/<uuid:attachment_id>"): (
        "needs a stored file: covered in tests/library/test_permissions.py"
    ),
}

ROLES = ("member", "manager", "admin")
# The instance that hosts the "remote" régie: its records arrive by sync, read-only here.
REMOTE_INSTANCE = uuid.UUID("5f0c6e1a-3b8d-4e27-9a51-0c2d7e4b9f13")
SOON = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)


@functools.cache
def password_hash() -> str:
    return generate_password_hash(PASSWORD)


def rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Call:
    path: str
    json: Any = None
    query: dict[str, str] = field(default_factory=dict)


class World:
    """The data a cell needs, created on first use (most cells need little of it)."""

    def __init__(self, app: Flask, make: Factories):
        self.app = app
        self.make = make
        self._regies: dict[str, Regie] = {}
        self._users: dict[tuple[str, str], User] = {}
        self._resources: dict[str, uuid.UUID] = {}
        self._documents: dict[str, uuid.UUID] = {}

    def regie(self, where: str = "own") -> Regie:
        if where not in self._regies:
            self._regies[where] = self._replica_regie() if where == "remote" else self.make.regie()
        return self._regies[where]

    def _replica_regie(self) -> Regie:
        n = uuid.uuid4().hex[:8]
        data = {
            "id": uuid.uuid4(),
            "version": 1,
            "name": f"Régie distante {n}",
            "slug": f"d-{n}",
            "city": "Lyon",
            "postcode": "69008",
            "timezone": "Europe/Paris",
            "contact_email": None,
            "contact_phone": None,
        }
        with self.app.app_context():
            regie, _ = regie_replicas.apply_regie(REMOTE_INSTANCE, data)
            federation.init_instance("https://matrice.example.org", "Instance de la matrice")
            db.session.add(  # paired, but down: what is sent to it waits in the outbox
                Peer(
                    instance_id=REMOTE_INSTANCE,
                    url="http://127.0.0.1:9",
                    name="Distante",
                    key_id=f"{REMOTE_INSTANCE}#0",
                    public_key="-",
                    fingerprint="-",
                )
            )
            db.session.commit()
            return regie

    def user(self, role: str, where: str = "own") -> User:
        if (role, where) not in self._users:
            self._users[role, where] = self._add_user(role, self.regie(where))
        return self._users[role, where]

    def _add_user(self, role: str, regie: Regie) -> User:
        """Like ``make.user`` but with the password hashed once per run: hashing is what made
        this matrix slow, and no cell is about creating users (POST /users has its own row)."""
        with self.app.app_context():
            user = User(
                email=f"{role}-{uuid.uuid4().hex[:8]}@regies.test",
                name=f"{role.capitalize()} de {regie.name}",
                role=Role(role),
                regie_id=regie.id,
                password_hash=password_hash(),
            )
            db.session.add(user)
            db.session.commit()
            user.regie  # noqa: B018 - load the relationship before detaching
            return user

    def resource_id(self, where: str) -> uuid.UUID:
        if where == "remote" and where not in self._resources:
            data = ResourceArgs().load({"name": "Broyeur de végétaux", "category": "espaces-verts"})
            data |= {"id": uuid.uuid4(), "version": 1, "regie_id": self.regie("remote").id}
            with self.app.app_context():
                replica, _ = catalogue_replicas.apply_resource(REMOTE_INSTANCE, data)
                db.session.commit()
                self._resources[where] = replica.id
        if where not in self._resources:
            self._resources[where] = self.make.resource(self.user("manager", where)).id
        return self._resources[where]

    def document_id(self, where: str) -> uuid.UUID:
        """A document written by a member of the régie ``where``."""
        if where not in self._documents:
            data = {"title": "Check-list photo", "themes": ["mutualisation"], "type": "check-list"}
            if where == "remote":
                return self._replica_document(DocumentArgs().load(data))
            with self.app.app_context():
                author = db.session.get(User, self.user("member", where).id)
                document = library.create_document(author, DocumentArgs().load(data))
                db.session.commit()
                self._documents[where] = document.id
        return self._documents[where]

    def _replica_document(self, data: dict[str, Any]) -> uuid.UUID:
        data |= {
            "id": uuid.uuid4(),
            "version": 1,
            "regie_id": self.regie("remote").id,
            "attachments": [],
        }
        with self.app.app_context():
            replica, _ = library_replicas.apply_document(REMOTE_INSTANCE, data)
            db.session.commit()
            self._documents["remote"] = replica.id
            return replica.id

    def token_id(self, owner: User) -> uuid.UUID:
        with self.app.app_context():
            token, _ = accounts.create_token(db.session.get(User, owner.id), "matrix")
            db.session.commit()
            return token.id

    def calendar_token(self, where: str) -> str:
        with self.app.app_context():
            return str(db.session.get(Regie, self.regie(where).id).calendar_token)  # type: ignore[union-attr]

    def booking_id(self, relation: str, status: str) -> uuid.UUID:
        """A booking the own régie lends, borrows, or is a third party to, in ``status``."""
        lender, borrower = {
            "lender": ("own", "other"),
            "borrower": ("other", "own"),
            "third": ("other", "third"),
        }[relation]
        resource_id = self.resource_id(lender)
        with self.app.app_context():
            by = db.session.get(User, self.user("member", borrower).id)
            lender_manager = db.session.get(User, self.user("manager", lender).id)
            booking = loans.request_booking(
                by,
                {
                    "resource_id": resource_id,
                    "starts_at": SOON,
                    "ends_at": SOON + timedelta(days=1),
                },
            )
            if status in ("approved", "picked_up"):
                loans.approve_booking(lender_manager, booking)
            if status == "picked_up":
                loans.pickup_booking(lender_manager, booking, Condition.GOOD)
            db.session.commit()
            return booking.id


@pytest.fixture(autouse=True)
def _federation_keys(app: Flask, tmp_path: Path) -> Iterator[None]:
    """Replicas exist only where sync ran: the instance then has an identity and a key."""
    saved = app.config.get("FEDERATION_KEY_DIR")
    app.config["FEDERATION_KEY_DIR"] = str(tmp_path / "keys")
    yield
    app.config["FEDERATION_KEY_DIR"] = saved
    app.config["INSTANCE_ID"] = None


Builder = Callable[[World, User | None, str], Call]


@dataclass
class Endpoint:
    method: str
    rule: str
    build: Builder
    # target -> (member, manager, admin)
    expect: dict[str, tuple[int, int, int]]
    anonymous: int = 401

    @property
    def name(self) -> str:
        short = re.sub(r"<(?:[^:<>]+:)?[^<>]+>", "<id>", self.rule.removeprefix("/api/v1"))
        return f"{self.method} {short}"


def own_or_other(target: str) -> str:
    if target == "remote":
        return target
    return "own" if target.startswith("own") else "other"


def period() -> dict[str, str]:
    return {"starts_at": rfc3339(SOON), "ends_at": rfc3339(SOON + timedelta(days=1))}


def sign_in_as(w: World, actor: User | None, _: str) -> Call:
    who = actor or w.user("member", "other")
    return Call("/api/v1/auth/tokens", {"email": who.email, "password": PASSWORD})


def revoke_token(w: World, actor: User | None, target: str) -> Call:
    owner = actor if target == "own" and actor else w.user("manager", "other")
    return Call(f"/api/v1/auth/tokens/{w.token_id(owner)}")


def new_user(w: World, actor: User | None, target: str) -> Call:
    where, role = target.split("-")
    n = uuid.uuid4().hex[:8]
    return Call(
        "/api/v1/users",
        {
            "email": f"nouveau-{n}@regies.test",
            "name": "Nouveau compte",
            "password": "un-mot-de-passe-solide",
            "regie_id": str(w.regie(where).id),
            "role": role,
        },
    )


def new_regie(w: World, actor: User | None, target: str) -> Call:
    n = uuid.uuid4().hex[:8]
    return Call("/api/v1/regies", {"name": f"Régie {n}", "slug": f"r-{n}", "city": "Vierzon"})


def regie(suffix: str = "", body: Any = None) -> Builder:
    return lambda w, actor, target: Call(f"/api/v1/regies/{w.regie(target).id}{suffix}", body)


def calendar_feed(w: World, actor: User | None, target: str) -> Call:
    url = f"/api/v1/regies/{w.regie(target).id}/calendar.ics"
    return Call(url, query={"token": w.calendar_token(target)})


def resource(suffix: str = "", body: Any = None, query: Any = None) -> Builder:
    def build(w: World, actor: User | None, target: str) -> Call:
        url = f"/api/v1/resources/{w.resource_id(own_or_other(target))}{suffix}"
        return Call(url, body() if callable(body) else body, query or {})

    return build


def new_booking(w: World, actor: User | None, target: str) -> Call:
    return Call("/api/v1/bookings", {"resource_id": str(w.resource_id(target))} | period())


def booking(status: str, suffix: str = "", body: Any = None) -> Builder:
    def build(w: World, actor: User | None, target: str) -> Call:
        return Call(f"/api/v1/bookings/{w.booking_id(target, status)}{suffix}", body)

    return build


def document(suffix: str = "", body: Any = None) -> Builder:
    def build(w: World, actor: User | None, target: str) -> Call:
        return Call(f"/api/v1/documents/{w.document_id(own_or_other(target))}{suffix}", body)

    return build


def fixed(path: str, query: dict[str, str] | None = None) -> Builder:
    return lambda w, actor, target: Call(path, query=query or {})


OK = (200, 200, 200)
MANAGERS = (403, 200, 200)  # members may not
ADMIN = (403, 403, 200)  # only the instance administrator
NOBODY = (403, 403, 403)
HIDDEN = (404, 404, 404)
READ_ONLY = (409, 409, 409)  # a replica: changed at its origin only
NEW_BY_MANAGERS = (403, 201, 201)
WINDOW = {"from": rfc3339(SOON), "to": rfc3339(SOON + timedelta(days=7))}

ENDPOINTS = [
    # Accounts and tokens
    Endpoint("POST", "/api/v1/auth/tokens", sign_in_as, {"-": (201, 201, 201)}, anonymous=201),
    Endpoint(
        "DELETE",
        "/api/v1/auth/tokens/<uuid:token_id>",
        revoke_token,
        {"own": (204, 204, 204), "other": HIDDEN},
    ),
    Endpoint("GET", "/api/v1/me", fixed("/api/v1/me"), {"-": OK}),
    Endpoint("GET", "/api/v1/users", fixed("/api/v1/users"), {"-": MANAGERS}),
    Endpoint(
        "POST",
        "/api/v1/users",
        new_user,
        {
            "own-member": NEW_BY_MANAGERS,
            "own-manager": NEW_BY_MANAGERS,
            "own-admin": (403, 403, 201),
            "other-member": (403, 403, 201),
            "other-admin": (403, 403, 201),
        },
    ),
    # Audit log: the instance's administrators only
    Endpoint("GET", "/api/v1/audit", fixed("/api/v1/audit"), {"-": ADMIN}),
    # Régies
    Endpoint("GET", "/api/v1/regies", fixed("/api/v1/regies"), {"-": OK}),
    Endpoint("POST", "/api/v1/regies", new_regie, {"-": (403, 403, 201)}),
    Endpoint(
        "GET", "/api/v1/regies/<uuid:regie_id>", regie(), {"own": OK, "other": OK, "remote": OK}
    ),
    Endpoint(
        "PATCH",
        "/api/v1/regies/<uuid:regie_id>",
        regie(body={"city": "Vierzon-Forges"}),
        {"own": MANAGERS, "other": ADMIN, "remote": READ_ONLY},
    ),
    Endpoint(
        "POST",
        "/api/v1/regies/<uuid:regie_id>/calendar-token",
        regie("/calendar-token"),
        {"own": MANAGERS, "other": NOBODY, "remote": NOBODY},
    ),
    Endpoint(
        "GET",
        "/api/v1/regies/<uuid:regie_id>/calendar.ics",
        calendar_feed,
        {"own": OK, "other": OK},
        anonymous=200,  # the secret token in the URL is the credential (calendar apps)
    ),
    # Catalogue
    Endpoint("GET", "/api/v1/categories", fixed("/api/v1/categories"), {"-": OK}),
    Endpoint("GET", "/api/v1/resources", fixed("/api/v1/resources"), {"-": OK}),
    Endpoint(
        "POST",
        "/api/v1/resources",
        lambda w, actor, target: Call(
            "/api/v1/resources", {"name": "Remorque 750 kg", "category": "vehicules"}
        ),
        {"-": NEW_BY_MANAGERS},
    ),
    Endpoint(
        "GET",
        "/api/v1/resources/<uuid:resource_id>",
        resource(),
        {"own": OK, "other": OK, "remote": OK},
    ),
    Endpoint(
        "PATCH",
        "/api/v1/resources/<uuid:resource_id>",
        resource(body={"location": "Atelier"}),
        {"own": MANAGERS, "other": NOBODY, "remote": READ_ONLY},
    ),
    Endpoint(
        "DELETE",
        "/api/v1/resources/<uuid:resource_id>",
        resource(),
        {"own": (403, 204, 204), "other": NOBODY, "remote": READ_ONLY},
    ),
    Endpoint(
        "GET",
        "/api/v1/resources/<uuid:resource_id>/availability",
        resource("/availability", query=WINDOW),
        {"own": OK, "other": OK, "remote": OK},
    ),
    Endpoint(
        "POST",
        "/api/v1/resources/<uuid:resource_id>/blocks",
        resource("/blocks", body=lambda: period() | {"reason": "Entretien"}),
        {"own": NEW_BY_MANAGERS, "other": NOBODY, "remote": READ_ONLY},
    ),
    # Bookings
    Endpoint(
        "POST",
        "/api/v1/bookings",
        new_booking,
        {"own": (201, 201, 201), "other": (201, 201, 201), "remote": (202, 202, 202)},
    ),
    Endpoint("GET", "/api/v1/bookings", fixed("/api/v1/bookings"), {"-": OK}),
    Endpoint(
        "GET",
        "/api/v1/bookings/<uuid:booking_id>",
        booking("requested"),
        {"lender": OK, "borrower": OK, "third": HIDDEN},
    ),
    Endpoint(
        "POST",
        "/api/v1/bookings/<uuid:booking_id>/approve",
        booking("requested", "/approve"),
        {"lender": MANAGERS, "borrower": NOBODY, "third": HIDDEN},
    ),
    Endpoint(
        "POST",
        "/api/v1/bookings/<uuid:booking_id>/decline",
        booking("requested", "/decline", {"reason": "Déjà prêtée"}),
        {"lender": MANAGERS, "borrower": NOBODY, "third": HIDDEN},
    ),
    Endpoint(
        "POST",
        "/api/v1/bookings/<uuid:booking_id>/cancel",
        booking("requested", "/cancel", {"reason": "Plus besoin"}),
        {"lender": MANAGERS, "borrower": OK, "third": HIDDEN},
    ),
    Endpoint(
        "POST",
        "/api/v1/bookings/<uuid:booking_id>/pickup",
        booking("approved", "/pickup", {"condition": "good"}),
        {"lender": OK, "borrower": NOBODY, "third": HIDDEN},
    ),
    Endpoint(
        "POST",
        "/api/v1/bookings/<uuid:booking_id>/return",
        booking("picked_up", "/return", {"condition": "worn", "notes": "Lame émoussée"}),
        {"lender": OK, "borrower": NOBODY, "third": HIDDEN},
    ),
    # Library
    Endpoint("GET", "/api/v1/themes", fixed("/api/v1/themes"), {"-": OK}),
    Endpoint("GET", "/api/v1/documents", fixed("/api/v1/documents"), {"-": OK}),
    Endpoint(
        "POST",
        "/api/v1/documents",
        lambda w, actor, target: Call(
            "/api/v1/documents",
            {"title": "Fiche sécurité", "themes": ["securite-prevention"], "type": "guide"},
        ),
        {"-": (201, 201, 201)},
    ),
    Endpoint(
        "GET",
        "/api/v1/documents/<uuid:document_id>",
        document(),
        {"own": OK, "other": OK, "remote": OK},
    ),
    Endpoint(
        "PATCH",
        "/api/v1/documents/<uuid:document_id>",
        document(body={"summary": "Relue et complétée."}),
        {"own": OK, "other": NOBODY, "remote": READ_ONLY},
    ),
    Endpoint(
        "DELETE",
        "/api/v1/documents/<uuid:document_id>",
        document(),
        {"own": (403, 204, 204), "other": NOBODY, "remote": READ_ONLY},
    ),
    Endpoint(
        "GET",
        "/api/v1/documents/<uuid:document_id>/versions",
        document("/versions"),
        {"own": OK, "other": OK, "remote": OK},
    ),
    Endpoint(
        "GET",
        "/api/v1/documents/<uuid:document_id>/versions/<int:number>",
        document("/versions/1"),
        {"own": OK, "other": OK},
    ),
    Endpoint(
        "GET",
        "/api/v1/documents/<uuid:document_id>/versions/<int:a>/diff/<int:b>",
        document("/versions/1/diff/1"),
        {"own": OK, "other": OK},
    ),
]


def cells() -> list[Any]:
    params = []
    for endpoint in ENDPOINTS:
        targets = list(endpoint.expect)
        params.append(
            pytest.param(
                endpoint, None, targets[0], endpoint.anonymous, id=f"{endpoint.name}-anonymous"
            )
        )
        for target, statuses in endpoint.expect.items():
            for role, status in zip(ROLES, statuses, strict=True):
                suffix = "" if target == "-" else f"-{target}"
                params.append(
                    pytest.param(
                        endpoint, role, target, status, id=f"{endpoint.name}-{role}{suffix}"
                    )
                )
    return params


ERROR_CODES = {401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "read_only_replica"}


@pytest.mark.parametrize(("endpoint", "role", "target", "expected"), cells())
def test_permission(
    app: Flask,
    client: FlaskClient,
    make: Factories,
    endpoint: Endpoint,
    role: str | None,
    target: str,
    expected: int,
) -> None:
    world = World(app, make)
    actor = world.user(role) if role else None
    call = endpoint.build(world, actor, target)
    headers = make.auth(actor) if actor else {}

    response = client.open(
        call.path,
        method=endpoint.method,
        json=call.json,
        query_string=call.query,
        headers=headers,
    )

    assert response.status_code == expected, response.get_data(as_text=True)[:500]
    if expected >= 400:
        error = response.json["error"]
        assert error["status"] == expected
        assert error["code"] == ERROR_CODES[expected]
        assert isinstance(error["message"], str)
        assert isinstance(error["details"], dict)


def api_routes(app: Flask) -> set[tuple[str, str]]:
    return {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }


def test_matrix_covers_every_api_route(app: Flask) -> None:
    in_matrix = {(e.method, e.rule) for e in ENDPOINTS}

    missing = api_routes(app) - in_matrix - set(EXCLUDED)
    unknown = in_matrix - api_routes(app)

    assert not missing, f"API routes without a row in the permission matrix: {sorted(missing)}"
    assert not unknown, f"rows for routes that do not exist: {sorted(unknown)}"
    assert len(in_matrix) == len(ENDPOINTS), "an endpoint has two rows"


def test_every_row_names_every_actor() -> None:
    for endpoint in ENDPOINTS:
        assert endpoint.expect, endpoint.name
        for statuses in endpoint.expect.values():
            assert len(statuses) == len(ROLES), endpoint.name


@pytest.mark.parametrize(
    ("query", "expected"),
    [({"token": "pas-le-bon"}, 404), ({}, 400), ({"token": ""}, 404)],
    ids=["wrong-token", "no-token", "empty-token"],
)
def test_calendar_feed_without_its_secret_is_refused(app, client, make, query, expected):
    """The one public endpoint besides sign-in: its URL secret is the credential."""
    world = World(app, make)

    response = client.get(f"/api/v1/regies/{world.regie().id}/calendar.ics", query_string=query)

    assert response.status_code == expected
    assert response.json["error"]["status"] == expected

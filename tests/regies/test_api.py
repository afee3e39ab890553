"""The régies API through HTTP and a real database."""

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from sharing.extensions import db
from sharing.regies.models import Regie

NEW_REGIE = {
    "name": "Régie de Vierzon",
    "slug": "vierzon",
    "city": "Vierzon",
    "postcode": "18100",
    "timezone": "Europe/Paris",
    "contact_email": "contact@regie-vierzon.fr",
    "contact_phone": "02 48 00 00 00",
}


@pytest.fixture
def admin(make):
    return make.user(
        "admin", regie=make.regie(name="Instance", slug="instance", city="Paris", postcode="75001")
    )


@pytest.fixture
def as_admin(make, admin) -> dict[str, str]:
    return make.auth(admin)


def regie_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Regie)) or 0


def add_replica(app, **fields: Any) -> Regie:
    """A régie replicated from another instance (as the federation sync will write it)."""
    n = uuid.uuid4().hex[:8]
    data = {
        "name": f"Régie répliquée {n}",
        "slug": f"replique-{n}",
        "city": "Lille",
        "timezone": "Europe/Paris",
        "search_text": f"regie repliquee {n} lille",
        "origin_instance_id": uuid.uuid4(),
    } | fields
    with app.app_context():
        regie = Regie(**data)
        db.session.add(regie)
        db.session.commit()
        return regie


def names(response) -> list[str]:
    assert response.status_code == 200, response.json
    return [item["name"] for item in response.json["items"]]


# Create


def test_admin_creates_a_regie(client, app, as_admin):
    response = client.post("/api/v1/regies", json=NEW_REGIE, headers=as_admin)

    assert response.status_code == 201, response.json
    body = response.json
    uuid.UUID(body["id"])
    assert {k: body[k] for k in NEW_REGIE} == NEW_REGIE
    assert body["version"] == 1
    assert body["origin"] == {
        "instance_id": app.config.get("INSTANCE_ID"),
        "instance_url": "http://sharing.test",
        "is_local": True,
    }
    fetched = client.get(f"/api/v1/regies/{body['id']}", headers=as_admin)
    assert fetched.status_code == 200
    assert fetched.json == body


def test_create_fills_defaults_and_trims_text(client, as_admin):
    response = client.post(
        "/api/v1/regies",
        json={"name": "  Régie du Blanc-Mesnil  ", "slug": "blanc-mesnil", "city": " Le Blanc "},
        headers=as_admin,
    )

    assert response.status_code == 201, response.json
    body = response.json
    assert (body["name"], body["city"]) == ("Régie du Blanc-Mesnil", "Le Blanc")
    assert body["timezone"] == "Europe/Paris"
    assert body["postcode"] is None
    assert body["contact_email"] is None


def test_slug_must_be_unique(client, app, make, as_admin):
    make.regie(slug="vierzon")
    before = regie_count(app)

    response = client.post("/api/v1/regies", json=NEW_REGIE, headers=as_admin)

    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "validation_failed"
    assert list(error["details"]["fields"]) == ["slug"]
    assert regie_count(app) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("timezone", "Europe/Vierzon"),
        ("timezone", "CET+1"),
        ("timezone", ""),
        ("slug", "Vierzon"),
        ("slug", "vierzon--centre"),
        ("slug", "-vierzon"),
        ("slug", "v"),
        ("postcode", "1810"),
        ("contact_email", "pas-une-adresse"),
        ("name", "   "),
        ("name", "x" * 201),
        ("city", None),
    ],
)
def test_create_validates_fields(client, app, as_admin, field, value):
    before = regie_count(app)

    response = client.post("/api/v1/regies", json=NEW_REGIE | {field: value}, headers=as_admin)

    assert response.status_code == 422, response.json
    assert field in response.json["error"]["details"]["fields"]
    assert regie_count(app) == before


@pytest.mark.parametrize("timezone", ["America/Cayenne", "Indian/Reunion", "Pacific/Noumea"])
def test_overseas_timezones_are_accepted(client, as_admin, timezone):
    response = client.post(
        "/api/v1/regies", json=NEW_REGIE | {"timezone": timezone}, headers=as_admin
    )

    assert response.status_code == 201, response.json
    assert response.json["timezone"] == timezone


# Read


def test_get_unknown_regie_is_404(client, as_admin):
    response = client.get(f"/api/v1/regies/{uuid.uuid4()}", headers=as_admin)

    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_every_signed_in_user_sees_another_regies_card(client, make):
    other = make.regie(name="Régie de Bourges", slug="bourges", city="Bourges")
    member = make.user("member")

    response = client.get(f"/api/v1/regies/{other.id}", headers=make.auth(member))

    assert response.status_code == 200
    assert response.json["slug"] == "bourges"
    assert response.json["origin"]["is_local"] is True


def test_list_is_paginated_and_sorted_by_name(client, make, as_admin):
    for name in ["Régie D", "Régie B", "Régie C", "Régie A"]:
        make.regie(name=name, city="Bourges")

    first = client.get("/api/v1/regies?per_page=2", headers=as_admin)
    second = client.get("/api/v1/regies?per_page=2&page=2", headers=as_admin)
    beyond = client.get("/api/v1/regies?per_page=2&page=9", headers=as_admin)

    assert set(first.json) == {"items", "total", "page", "per_page"}
    assert (first.json["total"], first.json["page"], first.json["per_page"]) == (5, 1, 2)
    # The admin's own régie is called "Instance".
    assert names(first) == ["Instance", "Régie A"]
    assert names(second) == ["Régie B", "Régie C"]
    assert second.json["page"] == 2
    assert names(beyond) == []
    assert beyond.json["total"] == 5


def test_list_defaults_to_page_one_of_fifty(client, as_admin):
    body = client.get("/api/v1/regies", headers=as_admin).json

    assert (body["page"], body["per_page"], body["total"]) == (1, 50, 1)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("vierzon", ["Régie de Vierzon"]),
        ("VIERZON", ["Régie de Vierzon"]),
        ("regie", ["Régie de Bourges", "Régie de Vierzon"]),
        ("Régie", ["Régie de Bourges", "Régie de Vierzon"]),
        ("RÉGIE bourges", ["Régie de Bourges"]),
        ("regie lyon", []),
        ("18100", ["Régie de Vierzon"]),  # postcode
        ("rouge", ["Régie de Vierzon"]),  # city
        ("%", []),  # LIKE wildcards are taken literally
        ("_", []),
        ("   ", ["Instance", "Régie de Bourges", "Régie de Vierzon"]),
    ],
)
def test_text_search_is_accent_and_case_insensitive(client, make, as_admin, q, expected):
    make.regie(name="Régie de Vierzon", slug="vierzon", city="Vierzon-Rouge", postcode="18100")
    make.regie(name="Régie de Bourges", slug="bourges", city="Bourges", postcode="18000")

    response = client.get("/api/v1/regies", query_string={"q": q}, headers=as_admin)

    assert names(response) == expected
    assert response.json["total"] == len(expected)


def test_instance_filter_separates_local_regies_from_replicas(client, app, make, as_admin):
    make.regie(name="Régie locale", city="Bourges")
    peer = uuid.uuid4()
    add_replica(app, name="Régie de Lille", origin_instance_id=peer)
    add_replica(app, name="Régie de Roubaix")

    everything = client.get("/api/v1/regies", headers=as_admin)
    local = client.get("/api/v1/regies?instance=local", headers=as_admin)
    from_peer = client.get(f"/api/v1/regies?instance={peer}", headers=as_admin)
    from_nowhere = client.get(f"/api/v1/regies?instance={uuid.uuid4()}", headers=as_admin)

    assert names(everything) == ["Instance", "Régie de Lille", "Régie de Roubaix", "Régie locale"]
    assert names(local) == ["Instance", "Régie locale"]
    assert names(from_peer) == ["Régie de Lille"]
    assert names(from_nowhere) == []


def test_a_replica_shows_its_origin(client, app, as_admin):
    peer = uuid.uuid4()
    replica = add_replica(app, origin_instance_id=peer)

    response = client.get(f"/api/v1/regies/{replica.id}", headers=as_admin)

    assert response.status_code == 200
    origin = response.json["origin"]
    assert origin["instance_id"] == str(peer)
    assert origin["is_local"] is False
    assert set(origin) == {"instance_id", "instance_url", "is_local"}


@pytest.mark.parametrize(
    "query",
    ["page=0", "page=abc", "per_page=0", "per_page=201", "instance=garbage", "q=" + "x" * 201],
)
def test_bad_list_parameters_are_400(client, as_admin, query):
    response = client.get(f"/api/v1/regies?{query}", headers=as_admin)

    assert response.status_code == 400
    error = response.json["error"]
    assert error["code"] == "invalid_query"
    assert query.split("=")[0] in error["details"]["fields"]


# Update


def test_manager_updates_own_regie_and_version_increases(client, make):
    manager = make.user("manager", regie=make.regie(**NEW_REGIE))
    url = f"/api/v1/regies/{manager.regie_id}"

    response = client.patch(
        url, json={"city": "Vierzon-Village", "contact_phone": None}, headers=make.auth(manager)
    )

    assert response.status_code == 200, response.json
    body = response.json
    assert body["city"] == "Vierzon-Village"
    assert body["contact_phone"] is None
    assert body["version"] == 2
    # Fields left out keep their values (no defaults applied on PATCH).
    assert body["postcode"] == "18100"
    assert body["timezone"] == "Europe/Paris"
    assert body["contact_email"] == NEW_REGIE["contact_email"]
    assert client.get(url, headers=make.auth(manager)).json == body


def test_each_change_bumps_the_version_once(client, make, as_admin):
    regie = make.regie(**NEW_REGIE)
    url = f"/api/v1/regies/{regie.id}"

    versions = [
        client.patch(url, json=change, headers=as_admin).json["version"]
        for change in ({"name": "Régie A"}, {"name": "Régie B", "city": "X"}, {"postcode": None})
    ]

    assert versions == [2, 3, 4]


@pytest.mark.parametrize(
    "no_op",
    [
        {},
        {"name": "Régie de Vierzon"},
        {"slug": "vierzon", "city": "Vierzon"},
        {"city": " Vierzon "},
    ],
    ids=["empty", "same-name", "same-slug-and-city", "same-city-with-spaces"],
)
def test_a_patch_that_changes_nothing_keeps_the_version(client, make, as_admin, no_op):
    regie = make.regie(**NEW_REGIE)

    response = client.patch(f"/api/v1/regies/{regie.id}", json=no_op, headers=as_admin)

    assert response.status_code == 200, response.json
    assert response.json["version"] == 1


def test_renamed_regie_is_found_under_its_new_name(client, make, as_admin):
    regie = make.regie(**NEW_REGIE)

    client.patch(
        f"/api/v1/regies/{regie.id}", json={"name": "Régie Cœur de Berry"}, headers=as_admin
    )

    assert names(client.get("/api/v1/regies?q=coeur berry", headers=as_admin)) == [
        "Régie Cœur de Berry"
    ]
    assert names(client.get("/api/v1/regies?q=Vierzon de Régie", headers=as_admin)) == [
        "Régie Cœur de Berry"  # still in Vierzon
    ]


def test_patch_to_a_taken_slug_is_422_and_changes_nothing(client, make, as_admin):
    make.regie(slug="bourges", city="Bourges")
    regie = make.regie(**NEW_REGIE)

    response = client.patch(
        f"/api/v1/regies/{regie.id}", json={"slug": "bourges", "name": "X"}, headers=as_admin
    )

    assert response.status_code == 422
    assert "slug" in response.json["error"]["details"]["fields"]
    unchanged = client.get(f"/api/v1/regies/{regie.id}", headers=as_admin).json
    assert (unchanged["slug"], unchanged["name"], unchanged["version"]) == (
        "vierzon",
        "Régie de Vierzon",
        1,
    )


@pytest.mark.parametrize(
    "change",
    [
        {"timezone": "Mars/Olympus"},
        {"timezone": None},
        {"slug": "Avec Espaces"},
        {"name": None},
        {"name": ""},
        {"version": 7},
        {"origin_instance_id": str(uuid.uuid4())},
        {"search_text": "pirate"},
    ],
    ids=lambda change: next(iter(change)) + "=" + repr(next(iter(change.values())))[:12],
)
def test_patch_validates_and_refuses_unknown_fields(client, make, as_admin, change):
    regie = make.regie(**NEW_REGIE)

    response = client.patch(f"/api/v1/regies/{regie.id}", json=change, headers=as_admin)

    assert response.status_code == 422, response.json
    assert next(iter(change)) in response.json["error"]["details"]["fields"]
    assert client.get(f"/api/v1/regies/{regie.id}", headers=as_admin).json["version"] == 1


def test_patch_of_unknown_regie_is_404(client, as_admin):
    response = client.patch(f"/api/v1/regies/{uuid.uuid4()}", json={"name": "X"}, headers=as_admin)

    assert response.status_code == 404


def test_a_replica_is_read_only_here(client, app, as_admin):
    replica = add_replica(app)

    response = client.patch(f"/api/v1/regies/{replica.id}", json={"name": "X"}, headers=as_admin)

    assert response.status_code == 409
    assert response.json["error"]["code"] == "read_only_replica"
    with app.app_context():
        assert db.session.get(Regie, replica.id).name == replica.name

"""``flask demo seed``: realistic French demo data, idempotent, and accounts that sign in."""

import re
from collections import Counter

from flask import Flask
from sqlalchemy import select

from sharing import demo
from sharing.accounts.models import Role, User
from sharing.catalogue.models import CATEGORIES, Resource, ResourceStatus
from sharing.demo_data import REGIES
from sharing.extensions import db
from sharing.regies.models import Regie


def seed(app: Flask) -> str:
    """Seed the way the CLI does: one commit at the end."""
    with app.app_context():
        summary = demo.seed()
        db.session.commit()
        return summary


def snapshot(app: Flask) -> dict[str, object]:
    with app.app_context():
        return {
            "regies": sorted(db.session.execute(select(Regie.slug, Regie.version)).all()),
            "users": sorted(db.session.execute(select(User.email, User.password_hash)).all()),
            "resources": sorted(
                (str(regie_id), name, version)
                for regie_id, name, version in db.session.execute(
                    select(Resource.regie_id, Resource.name, Resource.version)
                )
            ),
        }


def test_seeding_twice_changes_nothing(app):
    runner = app.test_cli_runner()

    first = runner.invoke(args=["demo", "seed"])
    before = snapshot(app)
    second = runner.invoke(args=["demo", "seed"])

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert snapshot(app) == before
    assert first.output.startswith("Démo : 13 régie(s), 27 compte(s) et 150 matériel(s) créés")
    assert second.output.startswith("Démo : 0 régie(s), 0 compte(s) et 0 matériel(s) créés")
    assert first.output.count("\n") == 1, "a one-line summary"
    assert len(before["resources"]) == 150


def test_demo_data_is_realistic(app):
    seed(app)

    with app.app_context():
        regies = list(db.session.scalars(select(Regie)))
        users = list(db.session.scalars(select(User)))
        resources = list(db.session.scalars(select(Resource)))

    assert len(regies) >= 12
    assert {r.timezone for r in regies} - {"Europe/Paris"}, "an overseas régie"
    assert all(r.contact_email and r.contact_phone and r.postcode for r in regies)
    assert {"Vierzon", "Agen", "Paris", "Roubaix"} <= {r.city for r in regies}

    roles = Counter(u.role for u in users)
    assert roles[Role.ADMIN] == 1
    assert roles[Role.MANAGER] == roles[Role.MEMBER] == len(regies)
    managed = {u.regie_id for u in users if u.role is Role.MANAGER}
    assert managed == {r.id for r in regies}, "every régie has its responsable"

    assert 140 <= len(resources) <= 160
    assert {r.category for r in resources} <= set(CATEGORIES)
    assert len({r.category for r in resources}) >= 8
    assert len({r.condition for r in resources}) == 4
    in_maintenance = [r for r in resources if r.status is ResourceStatus.MAINTENANCE]
    assert 1 <= len(in_maintenance) <= 20
    assert all(r.deposit_eur and r.replacement_value_eur for r in resources)
    assert all(r.replacement_value_eur > r.deposit_eur for r in resources)
    assert all(r.max_loan_days and r.location for r in resources)
    for resource in resources:
        sentences = re.findall(r"[.!?](?:\s|$)", resource.description)
        assert 1 <= len(sentences) <= 3, resource.description
    per_regie = Counter(r.regie_id for r in resources)
    assert min(per_regie.values()) >= 8
    assert any("Permis B" in r.requirements for r in resources)
    assert any(r.requirements.startswith("EPI obligatoires") for r in resources)


def test_every_regie_of_the_data_module_has_a_valid_slug_and_a_unique_phone():
    assert len({spec.slug for spec in REGIES}) == len(REGIES)
    assert len({spec.phone for spec in REGIES}) == len(REGIES)
    assert sum(spec.size for spec in REGIES) == 150


def test_documented_demo_accounts_sign_in(app, client):
    seed(app)
    accounts = [
        (demo.ADMIN_EMAIL, demo.ADMIN_PASSWORD, "admin"),
        (demo.manager_email("vierzon"), demo.MANAGER_PASSWORD, "manager"),
        (demo.member_email("cayenne"), demo.MEMBER_PASSWORD, "member"),
    ]

    for email, password, role in accounts:
        response = client.post("/api/v1/auth/tokens", json={"email": email, "password": password})

        assert response.status_code == 201, (email, response.json)
        token = response.json["token"]
        me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json
        assert (me["email"], me["role"]) == (email, role)


def test_passwords_are_long_enough():
    for password in (demo.ADMIN_PASSWORD, demo.MANAGER_PASSWORD, demo.MEMBER_PASSWORD):
        assert len(password) >= 10

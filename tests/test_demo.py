"""``flask demo seed``: realistic French demo data, idempotent, and accounts that sign in."""

import re
from collections import Counter

from flask import Flask
from sqlalchemy import func, select

from sharing import demo
from sharing.accounts.models import Role, User
from sharing.catalogue.models import CATEGORIES, Resource, ResourceStatus
from sharing.demo_data import REGIES
from sharing.extensions import db
from sharing.library.models import THEMES, Document, DocumentType, DocumentVersion
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
            "documents": sorted(
                (str(regie_id), title, version)
                for regie_id, title, version in db.session.execute(
                    select(Document.regie_id, Document.title, Document.version)
                )
            ),
            "versions": db.session.scalar(select(func.count()).select_from(DocumentVersion)),
        }


def test_seeding_twice_changes_nothing(app):
    runner = app.test_cli_runner()

    first = runner.invoke(args=["demo", "seed"])
    before = snapshot(app)
    second = runner.invoke(args=["demo", "seed"])

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert snapshot(app) == before
    assert first.output.startswith(
        "Démo : 13 régie(s), 27 compte(s), 150 matériel(s) et 26 document(s) créés"
    )
    assert second.output.startswith(
        "Démo : 0 régie(s), 0 compte(s), 0 matériel(s) et 0 document(s) créés"
    )
    assert first.output.count("\n") == 1, "a one-line summary"
    assert len(before["resources"]) == 150
    assert len(before["documents"]) == 26
    assert before["versions"] == 28, "two documents have a second version"


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


def test_demo_library_is_realistic(app, client):
    seed(app)

    with app.app_context():
        documents = list(db.session.scalars(select(Document)))
        regies = {r.id: r.slug for r in db.session.scalars(select(Regie))}
        by_regie = Counter(regies[d.regie_id] for d in documents)
        themes = {t for d in documents for t in d.themes}
        types = {d.type for d in documents}
        word_counts = [len(re.findall(r"\w+", d.body)) for d in documents]
        revised = [d for d in documents if d.version == 2]
        tagged = all(d.tags and d.summary for d in documents)

    assert len(documents) == 26
    assert len(by_regie) >= 12, "spread over the demo régies"
    assert max(by_regie.values()) <= 3
    assert themes == set(THEMES), "every theme has documents"
    assert types == set(DocumentType)
    assert min(word_counts) >= 150
    assert max(word_counts) <= 400
    assert len(revised) == 2
    assert tagged

    token = client.post(
        "/api/v1/auth/tokens",
        json={"email": demo.member_email("vierzon"), "password": demo.MEMBER_PASSWORD},
    ).json["token"]
    headers = {"Authorization": f"Bearer {token}"}
    found = client.get("/api/v1/documents?q=tondeuses", headers=headers).json
    assert found["total"] >= 2
    assert "<mark>" in found["items"][0]["snippet"]
    assert client.get("/api/v1/documents?q=l'entretien", headers=headers).json["total"] >= 3
    assert client.get("/api/v1/documents?q=ecologique", headers=headers).json["total"] >= 2
    revision = next(d for d in revised if d.title.startswith("Zéro phyto"))
    diff = client.get(f"/api/v1/documents/{revision.id}/versions/1/diff/2", headers=headers).json
    assert any(line["kind"] == "added" for line in diff["body"])

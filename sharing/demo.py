"""French demonstration data: ``flask demo seed``.

Everything goes through the services, validated by the API's schemas, exactly as an
administrator and the régies' managers would enter it. Seeding is idempotent: régies are
recognised by slug, accounts by e-mail, resources by (régie, name) and documents by (régie,
title), deleted ones included; what exists is left as it is, so running the command again
changes nothing. Choices that look random (which equipment, in which condition) come from a
``random.Random`` seeded by the régie's slug.

The demo accounts below are documented in the README; never seed a production instance.
"""

import random
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from sharing.accounts import services as accounts
from sharing.accounts.models import Role, User
from sharing.accounts.schemas import UserArgs
from sharing.catalogue import services as catalogue
from sharing.catalogue.models import Condition, Resource, ResourceStatus
from sharing.catalogue.schemas import ResourceArgs
from sharing.demo_data import EQUIPMENT, REGIES, DemoItem, DemoRegie
from sharing.demo_documents import DOCUMENTS
from sharing.extensions import db
from sharing.library import services as library
from sharing.library.models import Document
from sharing.library.schemas import DocumentArgs, DocumentPatchArgs
from sharing.regies import services as regies
from sharing.regies.models import Regie
from sharing.regies.schemas import RegieArgs

DEMO_DOMAIN = "demo.regies.example"
ADMIN_EMAIL = f"admin@{DEMO_DOMAIN}"  # the instance's administrator, in the first régie
ADMIN_PASSWORD = "admin-demo-2026"
MANAGER_PASSWORD = "responsable-demo-2026"  # responsable@<slug>.demo.regies.example
MEMBER_PASSWORD = "equipe-demo-2026"  # equipe@<slug>.demo.regies.example


def manager_email(slug: str) -> str:
    return f"responsable@{slug}.{DEMO_DOMAIN}"


def member_email(slug: str) -> str:
    return f"equipe@{slug}.{DEMO_DOMAIN}"


def seed() -> str:
    """Create what is missing of the demo; the caller commits. Returns a one-line summary."""
    created = {"regies": 0, "users": 0, "resources": 0, "documents": 0}
    staff: dict[str, dict[Role, User]] = {}
    for index, spec in enumerate(REGIES):
        regie = db.session.scalar(select(Regie).where(Regie.slug == spec.slug))
        if regie is None:
            regie = regies.create_regie(None, _load(RegieArgs(), _regie_data(spec)))
            created["regies"] += 1
        if not regie.is_local:
            continue  # a replica of another instance's régie: its accounts live there
        people = [(manager_email(spec.slug), spec.manager, Role.MANAGER, MANAGER_PASSWORD)]
        people.append((member_email(spec.slug), spec.member, Role.MEMBER, MEMBER_PASSWORD))
        if index == 0:
            people.append((ADMIN_EMAIL, "Camille Roussel", Role.ADMIN, ADMIN_PASSWORD))
        users = {}
        for email, name, role, password in people:
            users[role], is_new = _user(regie, email, name, role, password)
            created["users"] += is_new
        created["resources"] += _equip(users[Role.MANAGER], regie, spec)
        staff[spec.slug] = users
    created["documents"] = _publish(staff)
    return (
        f"Démo : {created['regies']} régie(s), {created['users']} compte(s), "
        f"{created['resources']} matériel(s) et {created['documents']} document(s) créés "
        f"({len(REGIES)} régies au total). "
        f"Comptes : {ADMIN_EMAIL}, responsable@<régie>.{DEMO_DOMAIN}, "
        f"equipe@<régie>.{DEMO_DOMAIN} (mots de passe dans sharing/demo.py)."
    )


def _regie_data(spec: DemoRegie) -> dict[str, Any]:
    return {
        "name": spec.name,
        "slug": spec.slug,
        "city": spec.city,
        "postcode": spec.postcode,
        "timezone": spec.timezone,
        "contact_email": f"contact@{spec.slug}.{DEMO_DOMAIN}",
        "contact_phone": spec.phone,
    }


def _user(regie: Regie, email: str, name: str, role: Role, password: str) -> tuple[User, bool]:
    user = db.session.scalar(select(User).where(User.email == email))
    if user is not None:
        return user, False
    data = {
        "email": email,
        "name": name,
        "password": password,
        "regie_id": str(regie.id),
        "role": role.value,
    }
    return accounts.create_user(None, _load(UserArgs(), data)), True


def _equip(manager: User, regie: Regie, spec: DemoRegie) -> int:
    """List the régie's share of the demo equipment; returns how many were new."""
    existing = set(db.session.scalars(select(Resource.name).where(Resource.regie_id == regie.id)))
    new = 0
    for data in inventory(spec):
        if data["name"] not in existing:
            catalogue.create_resource(manager, _load(ResourceArgs(), data))
            new += 1
    return new


def inventory(spec: DemoRegie) -> list[dict[str, Any]]:
    """The régie's equipment as API input: some of each of its activities, then a few other
    items, so that every régie lends a varied kit."""
    rng = random.Random(f"demo-{spec.slug}")
    groups = [[item for item in EQUIPMENT if item.category == slug] for slug in spec.focus]
    others = [item for item in EQUIPMENT if item.category not in spec.focus]
    for group in (*groups, others):
        rng.shuffle(group)
    # Round robin over the activities: one mower, one floor scrubber, one tiller, and so on.
    focused = [g[i] for i in range(max(map(len, groups))) for g in groups if i < len(g)]
    chosen = (focused + others)[: spec.size]
    return [_resource_data(item, spec, rng) for item in sorted(chosen, key=EQUIPMENT.index)]


def _resource_data(item: DemoItem, spec: DemoRegie, rng: random.Random) -> dict[str, Any]:
    condition = rng.choices(list(Condition), weights=[15, 55, 27, 3])[0]
    in_repair = condition is Condition.DAMAGED or rng.random() < 0.02
    # Each régie bought its own at a slightly different price, rounded to ten euros.
    factor = Decimal(rng.choice(["0.9", "1", "1", "1.1"]))
    value = int((item.replacement_value * factor / 10).to_integral_value()) * 10
    return {
        "name": item.name,
        "description": item.description,
        "category": item.category,
        "condition": condition.value,
        "location": rng.choice(spec.locations),
        "status": (ResourceStatus.MAINTENANCE if in_repair else ResourceStatus.AVAILABLE).value,
        "deposit_eur": str(item.deposit),
        "replacement_value_eur": str(value),
        "max_loan_days": item.max_loan_days,
        "min_notice_hours": item.min_notice_hours,
        "requirements": item.requirements,
    }


def _publish(staff: dict[str, dict[Role, User]]) -> int:
    """Write the demo library, each document by its régie's manager or member; returns how
    many were new. A document with a revision gets it from the other person of its régie."""
    new = 0
    for spec in DOCUMENTS:
        people = staff.get(spec.regie)
        if people is None:
            continue  # a replica of another instance's régie
        author, editor = people[Role.MANAGER], people[Role.MEMBER]
        if spec.author == "member":
            author, editor = editor, author
        known = select(Document.id).where(
            Document.regie_id == author.regie_id, Document.title == spec.title
        )
        if db.session.scalar(known) is not None:
            continue
        data = {
            "title": spec.title,
            "summary": spec.summary,
            "body": spec.body,
            "themes": list(spec.themes),
            "tags": list(spec.tags),
            "type": spec.type,
        }
        document = library.create_document(author, _load(DocumentArgs(), data))
        if spec.revision:
            changes = _load(DocumentPatchArgs(partial=True), spec.revision)
            library.update_document(editor, document, changes)
        new += 1
    return new


def _load(schema: Any, data: dict[str, Any]) -> dict[str, Any]:
    """Demo data passes the same validation as what people type in."""
    return dict(schema.load(data))

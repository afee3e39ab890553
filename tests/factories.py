"""Test data made through the same services as production, committed like a request would.

Each factory runs in its own application context and returns detached objects whose columns
stay readable (the session does not expire on commit).
"""

import itertools
from typing import Any

from flask import Flask

from sharing.accounts import services as accounts
from sharing.accounts.models import Role, User
from sharing.catalogue import services as catalogue
from sharing.catalogue.models import Resource
from sharing.catalogue.schemas import ResourceArgs
from sharing.extensions import db
from sharing.regies import services as regies
from sharing.regies.models import Regie

PASSWORD = "mot-de-passe-de-test"
_counter = itertools.count(1)


class Factories:
    def __init__(self, app: Flask):
        self.app = app

    def regie(self, **fields: Any) -> Regie:
        n = next(_counter)
        data = {
            "name": f"Régie de test {n}",
            "slug": f"regie-{n}",
            "city": "Vierzon",
            "postcode": "18100",
            "timezone": "Europe/Paris",
            "contact_email": None,
            "contact_phone": None,
        } | fields
        with self.app.app_context():
            regie = regies.create_regie(None, data)
            db.session.commit()
            return regie

    def user(self, role: str = "manager", regie: Regie | None = None, **fields: Any) -> User:
        regie = regie or self.regie()
        n = next(_counter)
        data = {
            "email": f"user{n}@regies.test",
            "name": f"Utilisateur {n}",
            "password": PASSWORD,
            "regie_id": regie.id,
            "role": Role(role),
        } | fields
        with self.app.app_context():
            user = accounts.create_user(None, data)
            db.session.commit()
            user.regie  # noqa: B018 - load the relationship before detaching
            return user

    def token(self, user: User, label: str = "tests") -> str:
        with self.app.app_context():
            _, secret = accounts.create_token(db.session.get(User, user.id), label)
            db.session.commit()
            return secret

    def auth(self, user: User) -> dict[str, str]:
        """Headers that authenticate as ``user`` with a fresh API token."""
        return {"Authorization": f"Bearer {self.token(user)}"}

    def resource(self, owner: User | None = None, **fields: Any) -> Resource:
        """A resource of ``owner``'s régie (a new manager's by default)."""
        owner = owner or self.user("manager")
        data = {
            "name": "Tondeuse autotractée thermique 53 cm",
            "category": "espaces-verts",
        } | fields
        data = ResourceArgs().load({k: _plain(v) for k, v in data.items()})
        with self.app.app_context():
            resource = catalogue.create_resource(db.session.get(User, owner.id), data)
            db.session.commit()
            resource.regie  # noqa: B018
            return resource

    def get(self, model: type, key: Any) -> Any:
        with self.app.app_context():
            return db.session.get(model, key)


def _plain(value: Any) -> Any:
    return value.value if hasattr(value, "value") else value

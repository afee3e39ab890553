"""Use cases for accounts: sign-in, personal API tokens, creating users."""

import uuid
from typing import Any

from flask import current_app
from sqlalchemy import Select, func, select
from werkzeug.security import generate_password_hash

from sharing.accounts import queries
from sharing.accounts.models import ApiToken, User, hash_token
from sharing.accounts.permissions import can_create_user, can_list_users, can_revoke_token
from sharing.db import utcnow
from sharing.errors import Forbidden, Invalid, NotFound, Unauthorized
from sharing.extensions import db
from sharing.regies.models import Regie

# Checked against when the e-mail is unknown, so both failures take the same time.
_DUMMY_HASH = generate_password_hash("not a real password")

BAD_CREDENTIALS = "Adresse e-mail ou mot de passe incorrect."


def normalise_email(email: str) -> str:
    return email.strip().lower()


def authenticate(email: str, password: str) -> User:
    """The enabled user with these credentials; one message for every failure."""
    email = normalise_email(email)
    # The sign-in form is not loaded through a schema; PostgreSQL would refuse a NUL with a 500.
    user = None if "\x00" in email else db.session.scalar(select(User).where(User.email == email))
    if user is None:
        User(password_hash=_DUMMY_HASH).check_password(password)
        raise Unauthorized(BAD_CREDENTIALS, code="invalid_credentials")
    if not user.check_password(password) or not user.is_enabled:
        raise Unauthorized(BAD_CREDENTIALS, code="invalid_credentials")
    return user


def create_token(user: User, label: str = "") -> tuple[ApiToken, str]:
    """A new personal token for ``user``; the secret is returned once and never stored."""
    secret = ApiToken.new_secret()
    token = ApiToken(user=user, label=label, token_hash=hash_token(secret))
    db.session.add(token)
    db.session.flush()
    return token, secret


def revoke_token(actor: User, token_id: uuid.UUID) -> None:
    """Revoke one of the actor's own tokens; someone else's token is not found."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.revoked_at is not None or not can_revoke_token(actor, token):
        raise NotFound("Ce jeton n'existe pas.")
    token.revoked_at = utcnow()
    db.session.flush()


def user_for_token(secret: str) -> User | None:
    """The enabled user behind a live token, or None."""
    token = db.session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == hash_token(secret), ApiToken.revoked_at.is_(None)
        )
    )
    if token is None or not token.user.is_enabled:
        return None
    return token.user


def create_user(actor: User | None, data: dict[str, Any]) -> User:
    """Create an account in a régie. ``actor`` None means the instance's shell (CLI)."""
    regie = db.session.get(Regie, data["regie_id"])
    if regie is None:
        raise Invalid("Régie inconnue.", fields={"regie_id": ["Régie inconnue."]})
    role = data["role"]
    if actor is not None and not can_create_user(actor, regie, role):
        raise Forbidden("Vous ne pouvez pas créer ce compte dans cette régie.")
    if not regie.is_local:
        raise Invalid(
            "Les comptes se créent sur l'instance de la régie.",
            fields={"regie_id": ["Cette régie est hébergée par une autre instance."]},
        )
    email = normalise_email(data["email"])
    if db.session.scalar(select(func.count()).where(User.email == email)):
        raise Invalid(
            "Cette adresse est déjà utilisée.",
            fields={"email": ["Cette adresse est déjà utilisée."]},
        )
    user = User(email=email, name=data["name"], role=role, regie=regie)
    user.set_password(data["password"], current_app.config["PASSWORD_HASH_METHOD"])
    db.session.add(user)
    db.session.flush()
    return user


def get_user_by_email(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise NotFound("Aucun compte n'a cette adresse.")
    return user


def visible_users(actor: User) -> Select[Any]:
    """Accounts the actor may list: every one for an admin, their régie's for a manager."""
    if actor.is_admin:
        return queries.users()
    if can_list_users(actor, actor.regie):
        return queries.users(actor.regie_id)
    raise Forbidden("Seuls les responsables voient la liste des comptes.")

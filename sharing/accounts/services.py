"""Use cases for accounts: sign-in, personal API tokens, creating users, roles and disabling.

Each of them leaves a row in the audit log, in the same transaction (a failed sign-in too:
its caller commits that row although the sign-in fails)."""

import functools
import uuid
from typing import Any

from flask import current_app, has_request_context
from sqlalchemy import Select, func, select
from werkzeug.security import generate_password_hash

from sharing.accounts import queries
from sharing.accounts.models import ApiToken, Role, User, hash_token
from sharing.accounts.permissions import can_create_user, can_list_users, can_revoke_token
from sharing.audit import services as audit
from sharing.db import utcnow
from sharing.errors import Forbidden, Invalid, NotFound, Unauthorized
from sharing.extensions import db
from sharing.regies.models import Regie

BAD_CREDENTIALS = "Adresse e-mail ou mot de passe incorrect."


def normalise_email(email: str) -> str:
    return email.strip().lower()


@functools.cache
def _dummy_hash(method: str) -> str:
    """Checked against when the e-mail is unknown, so that every failure costs one hash check
    of the configured method, like a known account's."""
    return generate_password_hash("not a real password", method)


def authenticate(email: str, password: str, *, via: str = "web") -> User:
    """The enabled user with these credentials; one message for every failure (unknown
    address, wrong password, disabled account), each recorded in the audit log."""
    email = normalise_email(email)
    # The sign-in form is not loaded through a schema; PostgreSQL would refuse a NUL with a 500.
    user = None if "\x00" in email else db.session.scalar(select(User).where(User.email == email))
    if user is None:
        User(password_hash=_dummy_hash(current_app.config["PASSWORD_HASH_METHOD"])).check_password(
            password
        )
        audit.record_login_failure(email, None, "unknown_email", via=via)
        raise Unauthorized(BAD_CREDENTIALS, code="invalid_credentials")
    password_ok = user.check_password(password)
    if not password_ok or not user.is_enabled:
        reason = "wrong_password" if not password_ok else "disabled"
        audit.record_login_failure(email, user, reason, via=via)
        raise Unauthorized(BAD_CREDENTIALS, code="invalid_credentials")
    return user


def record_login(user: User) -> None:
    """Audit a browser sign-in (the session itself is Flask-Login's)."""
    audit.record("login.success", actor=user, target=user.email, details={"via": "web"})


def record_logout(user: User) -> None:
    """Audit a browser sign-out."""
    audit.record("logout", actor=user, target=user.email)


def create_token(user: User, label: str = "") -> tuple[ApiToken, str]:
    """A new personal token for ``user``; the secret is returned once and never stored."""
    secret = ApiToken.new_secret()
    token = ApiToken(user=user, label=label, token_hash=hash_token(secret))
    db.session.add(token)
    db.session.flush()
    audit.record(
        "token.create",
        actor=user,
        target=str(token.id),
        details={"label": label, "via": "api" if has_request_context() else "cli"},
    )
    return token, secret


def revoke_token(actor: User, token_id: uuid.UUID) -> None:
    """Revoke one of the actor's own tokens; someone else's token is not found."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.revoked_at is not None or not can_revoke_token(actor, token):
        raise NotFound("Ce jeton n'existe pas.")
    token.revoked_at = utcnow()
    db.session.flush()
    audit.record("token.revoke", actor=actor, target=str(token.id), details={"label": token.label})


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
    audit.record(
        "user.create",
        actor=actor,
        regie_id=regie.id,
        target=user.email,
        details={"role": Role(role).value, "account_id": str(user.id)},
    )
    return user


def _managed_user(actor: User | None, user_id: uuid.UUID) -> User:
    user = db.session.get(User, user_id)
    if user is None or (actor is not None and not can_list_users(actor, user.regie)):
        raise NotFound("Ce compte n'existe pas.")
    return user


def change_role(actor: User | None, user_id: uuid.UUID, role: Role) -> User:
    """Give an account another role: allowed to whoever could create it with both the old
    and the new role (``actor`` None: the instance's shell)."""
    user = _managed_user(actor, user_id)
    if actor is not None and not (
        can_create_user(actor, user.regie, user.role) and can_create_user(actor, user.regie, role)
    ):
        raise Forbidden("Vous ne pouvez pas donner ce rôle à ce compte.")
    if user.role is role:
        return user
    previous, user.role = user.role, role
    db.session.flush()
    audit.record(
        "user.role_change",
        actor=actor,
        regie_id=user.regie_id,
        target=user.email,
        details={"from": previous.value, "to": role.value, "account_id": str(user.id)},
    )
    return user


def set_user_enabled(actor: User | None, user_id: uuid.UUID, enabled: bool) -> User:
    """Disable an account (its sessions and tokens stop working at once) or enable it again;
    nobody disables their own account."""
    user = _managed_user(actor, user_id)
    if actor is not None and (
        not can_create_user(actor, user.regie, user.role) or actor.id == user.id
    ):
        raise Forbidden("Vous ne pouvez pas activer ou désactiver ce compte.")
    if user.is_enabled is enabled:
        return user
    user.is_enabled = enabled
    db.session.flush()
    audit.record(
        "user.enable" if enabled else "user.disable",
        actor=actor,
        regie_id=user.regie_id,
        target=user.email,
        details={"account_id": str(user.id)},
    )
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

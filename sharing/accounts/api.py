"""Accounts API: personal tokens, the current user, creating and listing users."""

import uuid
from typing import Any

from flask import current_app
from flask_login import current_user
from flask_smorest import Blueprint

from sharing.accounts import services
from sharing.accounts.schemas import MeSchema, NewTokenSchema, TokenArgs, UserArgs, UserPageSchema
from sharing.errors import Unauthorized
from sharing.extensions import db, limiter
from sharing.http import PageArgs, paginate
from sharing.security import protect_api, public

bp = Blueprint("accounts_api", __name__, url_prefix="/api/v1", description="Comptes et jetons")
bp.before_request(protect_api)


def login_rate_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


@bp.post("/auth/tokens")
@bp.doc(security=[])
@public
@limiter.limit(login_rate_limit)
@bp.arguments(TokenArgs)
@bp.response(201, NewTokenSchema)
def create_token(args: dict[str, Any]) -> dict[str, Any]:
    """Exchange an e-mail and password for a personal API token (shown once)."""
    try:
        user = services.authenticate(args["email"], args["password"], via="api")
    except Unauthorized:
        db.session.commit()  # the audit row of the failure, although the request fails
        raise
    token, secret = services.create_token(user, args["label"])
    db.session.commit()
    return {"id": token.id, "token": secret, "label": token.label, "created_at": token.created_at}


@bp.delete("/auth/tokens/<uuid:token_id>")
@bp.response(204)
def revoke_token(token_id: uuid.UUID) -> None:
    """Revoke one of your tokens."""
    services.revoke_token(current_user, token_id)
    db.session.commit()


@bp.get("/me")
@bp.response(200, MeSchema)
def me() -> Any:
    """The signed-in user and their régie."""
    return current_user


class UserListArgs(PageArgs):
    pass


@bp.get("/users")
@bp.arguments(UserListArgs, location="query")
@bp.response(200, UserPageSchema)
def list_users(args: dict[str, Any]) -> Any:
    """Accounts: all of them for an admin, the own régie's for a manager."""
    return paginate(services.visible_users(current_user), args["page"], args["per_page"])


@bp.post("/users")
@bp.arguments(UserArgs)
@bp.response(201, MeSchema)
def create_user(args: dict[str, Any]) -> Any:
    """Create an account (admin: any régie; manager: own régie, manager or member)."""
    user = services.create_user(current_user, args)
    db.session.commit()
    return user

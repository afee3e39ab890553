"""Authentication: browser sessions and personal API tokens, and the API's default deny.

Views authenticate with ``@login_required``; API blueprints call ``protect_api`` so that every
endpoint needs a user unless it opts out with ``@public``. Authorisation is not decided here:
services check the permission predicates.
"""

import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Request, current_app, g, redirect, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from sharing.accounts.models import User
from sharing.accounts.services import user_for_token
from sharing.errors import Forbidden, Unauthorized, UnsupportedMediaType, wants_json
from sharing.extensions import csrf, db, login_manager

F = TypeVar("F", bound=Callable[..., Any])
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    if bearer_token(request) is not None:
        return None  # a request that presents a token is judged by the token alone
    try:
        user = db.session.get(User, uuid.UUID(user_id))
    except ValueError:
        return None
    return user if user is not None and user.is_enabled else None


@login_manager.request_loader
def load_user_from_token(req: Request) -> User | None:
    secret = bearer_token(req)
    if secret is None:
        return None
    user = user_for_token(secret)
    if user is not None:
        g.auth_method = "token"
    return user


@login_manager.unauthorized_handler
def unauthorized() -> Any:
    if wants_json():
        raise Unauthorized("Identifiez-vous (jeton d'API ou session).")
    return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))


def bearer_token(req: Request) -> str | None:
    header = req.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return secret.strip()


def public(view: F) -> F:
    """Mark an API endpoint as reachable without signing in."""
    view.is_public = True  # type: ignore[attr-defined]
    return view


def takes_uploads(view: F) -> F:
    """Mark an API endpoint whose body is a file (CSV, multipart) rather than JSON."""
    view.takes_uploads = True  # type: ignore[attr-defined]
    return view


def protect_api() -> None:
    """``before_request`` of every API blueprint: a user is required, and so is CSRF for
    cookie-authenticated writes (a token in a header cannot be forged by another site)."""
    view = current_app_view()
    _require_json_body(view)
    if getattr(view, "is_public", False):
        return
    authenticated = current_user.is_authenticated  # runs the session or token loader
    if request.headers.get("Authorization"):
        if bearer_token(request) is None:
            raise Unauthorized("En-tête Authorization invalide : « Bearer <jeton> ».")
        if g.get("auth_method") != "token":  # a session does not excuse a bad token
            raise Unauthorized("Jeton d'API inconnu ou révoqué.", code="invalid_token")
    if not authenticated:
        raise Unauthorized("Identifiez-vous (jeton d'API ou session).")
    if request.method not in SAFE_METHODS and g.get("auth_method") != "token":
        try:
            csrf.protect()
        except CSRFError:
            raise Forbidden(
                "Requête de navigateur sans jeton CSRF (en-tête X-CSRFToken).",
                code="csrf_failed",
            ) from None


def _require_json_body(view: Callable[..., Any] | None) -> None:
    """A body that is not JSON would be read as an empty one and give a puzzling 422."""
    if request.method in SAFE_METHODS or getattr(view, "takes_uploads", False):
        return
    if request.content_length and not request.is_json:
        raise UnsupportedMediaType("Envoyez le corps de la requête en JSON (application/json).")


def current_app_view() -> Callable[..., Any] | None:
    return current_app.view_functions.get(request.endpoint or "")


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Connectez-vous pour accéder à cette page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

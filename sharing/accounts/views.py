"""Sign-in pages and the administration of accounts."""

from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from sharing.accounts import services
from sharing.accounts.models import Role, User
from sharing.accounts.permissions import can_create_user
from sharing.accounts.schemas import UserArgs
from sharing.errors import Invalid, Unauthorized
from sharing.extensions import db, limiter
from sharing.http import PageArgs, load_form, paginate
from sharing.regies import queries as regie_queries
from sharing.regies.models import Regie
from sharing.web import form_errors, query_args, require, safe_next

bp = Blueprint("accounts", __name__, template_folder="templates")


def login_rate_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


@bp.route("/connexion", methods=["GET", "POST"])
@limiter.limit(login_rate_limit, methods=["POST"])
def login() -> Any:
    """The sign-in form; the session is renewed on success."""
    if current_user.is_authenticated:
        return redirect(url_for("catalogue.dashboard"))
    error = None
    email = request.form.get("email", "")
    if request.method == "POST":
        try:
            user = services.authenticate(email, request.form.get("password", ""))
        except Unauthorized as exc:
            db.session.commit()  # the audit row of the failure, although the sign-in fails
            error = exc.message
        else:
            services.record_login(user)
            db.session.commit()
            # A fresh session: nothing set before the sign-in (a planted value, the anonymous
            # CSRF token) survives it. The cookie session is signed, not stored, so clearing
            # it is what renews it.
            session.clear()
            login_user(user, remember=bool(request.form.get("remember")))
            flash(f"Bienvenue, {user.name}.", "success")
            return redirect(safe_next(request.args.get("next")))
    status = 401 if error else 200
    return render_template("accounts/login.html", error=error, email=email), status


@bp.post("/deconnexion")
@login_required
def logout() -> Any:
    """Sign out and forget the session."""
    services.record_logout(current_user)
    db.session.commit()
    # Empty the session first: logout_user leaves a "_remember": "clear" mark in it, which is
    # what makes Flask-Login delete the remember-me cookie (clearing after it kept the cookie,
    # and the next request signed the user in again).
    session.clear()
    logout_user()
    flash("Vous êtes déconnecté.", "info")
    return redirect(url_for("accounts.login"))


@bp.get("/admin/utilisateurs")
@login_required
def users() -> Any:
    """The accounts the user may manage: every one for an admin, their régie's for a manager."""
    args = query_args(PageArgs())
    accounts = paginate(services.visible_users(current_user), args["page"], args["per_page"])
    return render_template("accounts/users.html", users=accounts)


@bp.route("/admin/utilisateurs/nouveau", methods=["GET", "POST"])
@login_required
def new_user() -> Any:
    """The form that creates an account, offering only the régies and roles the user may give."""
    regies, roles = _grantable(current_user)
    require(bool(roles), "Vous ne pouvez pas créer de compte.")
    if request.method == "POST":
        try:
            user = services.create_user(current_user, load_form(UserArgs()))
        except Invalid as error:
            db.session.rollback()
            errors = form_errors(error)
            return _user_form(regies, roles, request.form, errors), 422
        db.session.commit()
        flash(f"Le compte de {user.name} est créé.", "success")
        return redirect(url_for(".users"))
    values = {"regie_id": str(current_user.regie_id), "role": Role.MEMBER.value}
    return _user_form(regies, roles, values, {})


def _grantable(actor: User) -> tuple[list[Regie], list[Role]]:
    """The régies and roles ``can_create_user`` lets the actor choose in the form."""
    regies = [
        regie
        for regie in db.session.scalars(regie_queries.regies(instance="local"))
        if any(can_create_user(actor, regie, role) for role in Role)
    ]
    roles = [role for role in Role if any(can_create_user(actor, r, role) for r in regies)]
    return regies, roles


def _user_form(regies: list[Regie], roles: list[Role], values: Any, errors: Any) -> str:
    return render_template(
        "accounts/user_form.html", regies=regies, roles=roles, values=values, errors=errors
    )

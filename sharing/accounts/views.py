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
from sharing.errors import Unauthorized
from sharing.extensions import limiter
from sharing.web import safe_next

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
            error = exc.message
        else:
            session.clear()  # a fresh session: no fixation across the sign-in
            login_user(user, remember=bool(request.form.get("remember")))
            flash(f"Bienvenue, {user.name}.", "success")
            return redirect(safe_next(request.args.get("next")))
    status = 401 if error else 200
    return render_template("accounts/login.html", error=error, email=email), status


@bp.post("/deconnexion")
@login_required
def logout() -> Any:
    """Sign out and forget the session."""
    logout_user()
    session.clear()
    flash("Vous êtes déconnecté.", "info")
    return redirect(url_for("accounts.login"))

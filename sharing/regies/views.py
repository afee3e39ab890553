"""Administration pages for régies: the directory, creating a régie, editing its card."""

import uuid
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from sharing.errors import Invalid
from sharing.extensions import db
from sharing.http import load_form, paginate
from sharing.regies import queries, services
from sharing.regies.models import Regie
from sharing.regies.permissions import can_create_regie, can_edit_regie
from sharing.regies.schemas import RegieArgs, RegieListArgs
from sharing.web import (
    form_errors,
    instance_options,
    may_administer_regies,
    query_args,
    require,
    require_local,
)

bp = Blueprint("regies", __name__, template_folder="templates")

FIELDS = ("name", "slug", "city", "postcode", "timezone", "contact_email", "contact_phone")


@bp.get("/admin/regies")
@login_required
def index() -> Any:
    """The régies known here, searchable, with the actions the user may take on each."""
    require(may_administer_regies(current_user), "Cette page est réservée aux responsables.")
    args = query_args(RegieListArgs())
    stmt = queries.regies(q=args.get("q"), instance=args.get("instance"))
    return render_template(
        "regies/list.html",
        regies=paginate(stmt, args["page"], args["per_page"]),
        instances=instance_options(),
    )


@bp.route("/admin/regies/nouvelle", methods=["GET", "POST"])
@login_required
def new() -> Any:
    """The form that creates a local régie (instance administrator)."""
    require(can_create_regie(current_user), "Seul l'administrateur de l'instance crée une régie.")
    if request.method == "POST":
        try:
            regie = services.create_regie(current_user, load_form(RegieArgs()))
        except Invalid as error:
            db.session.rollback()
            return _form(None, request.form, form_errors(error)), 422
        db.session.commit()
        flash(f"La régie « {regie.name} » est créée.", "success")
        return redirect(url_for(".index"))
    return _form(None, {"timezone": "Europe/Paris"}, {})


@bp.route("/admin/regies/<uuid:regie_id>/modifier", methods=["GET", "POST"])
@login_required
def edit(regie_id: uuid.UUID) -> Any:
    """The form that rewrites a régie's card (administrator, or that régie's manager)."""
    regie = services.get_regie(regie_id)
    require_local(regie, "Cette régie ne se modifie que sur son instance d'origine")
    require(can_edit_regie(current_user, regie), "Vous ne pouvez pas modifier cette régie.")
    if request.method == "POST":
        try:
            services.update_regie(current_user, regie, load_form(RegieArgs()))
        except Invalid as error:
            db.session.rollback()
            return _form(regie, request.form, form_errors(error)), 422
        db.session.commit()
        flash(f"La fiche de « {regie.name} » est enregistrée.", "success")
        return redirect(url_for(".index"))
    values = {name: getattr(regie, name) or "" for name in FIELDS}
    return _form(regie, values, {})


def _form(regie: Regie | None, values: Any, errors: dict[str, list[str]]) -> str:
    return render_template("regies/form.html", regie=regie, values=values, errors=errors)

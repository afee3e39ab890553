"""Catalogue pages: dashboard, search, resource pages and labels, a régie's inventory."""

import uuid
from typing import Any

import segno
from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup

from sharing.catalogue import queries, services, spreadsheet
from sharing.catalogue.models import Condition, Resource, ResourceStatus
from sharing.catalogue.permissions import (
    can_create_resource,
    can_edit_resource,
    can_import_resources,
)
from sharing.catalogue.schemas import EDITABLE_STATUSES, ResourceArgs, ResourceListArgs
from sharing.errors import Conflict, Invalid
from sharing.extensions import db
from sharing.http import PageArgs, load_form, paginate
from sharing.library import queries as library_queries
from sharing.loans import views as loans_views
from sharing.regies import queries as regie_queries
from sharing.web import (
    absolute_url,
    decimal_input,
    form_errors,
    instance_options,
    query_args,
    require,
    require_local,
)

bp = Blueprint("catalogue", __name__, template_folder="templates")

MANAGERS_ONLY = "Seuls les responsables de régie gèrent le matériel."
REPLICA = "Ce matériel ne se modifie que sur son instance d'origine"
# How many of the régie's latest library documents the dashboard lists.
DASHBOARD_DOCUMENTS = 5


@bp.get("/")
@login_required
def dashboard() -> Any:
    """The signed-in user's home page: their régie, what its loans need today, its
    equipment at a glance and its latest library documents."""
    rows = db.session.execute(queries.status_counts(current_user.regie_id))
    counts = {status: count for status, count in rows}
    loans = loans_views.dashboard_panels(current_user)
    latest = library_queries.documents(regie=current_user.regie_id).limit(DASHBOARD_DOCUMENTS)
    return render_template(
        "catalogue/dashboard.html",
        counts=counts,
        loans=loans,
        documents=db.session.scalars(latest).all(),
    )


@bp.get("/catalogue")
@login_required
def catalogue() -> Any:
    """Search the network's catalogue by text, category, régie, status and free dates."""
    args = query_args(ResourceListArgs(), days={"available_from": 0, "available_to": 1})
    page, per_page = args.pop("page"), args.pop("per_page")
    return render_template(
        "catalogue/catalogue.html",
        results=paginate(queries.resources(**args), page, per_page),
        regies=db.session.scalars(regie_queries.regies()).all(),
        instances=instance_options(),
    )


@bp.get("/materiel/<uuid:resource_id>")
@login_required
def resource(resource_id: uuid.UUID) -> Any:
    """One piece of equipment with everything a borrower needs to know, its month of
    availability (``?mois=YYYY-MM``) and the booking form."""
    resource = services.get_resource(resource_id)
    panel = loans_views.resource_panel(resource, request.args.get("mois"))
    return render_template("catalogue/resource.html", resource=resource, **panel)


@bp.get("/materiel/<uuid:resource_id>/etiquette")
@login_required
def label(resource_id: uuid.UUID) -> Any:
    """A printable label whose QR code opens the resource page."""
    resource = services.get_resource(resource_id)
    url = absolute_url("catalogue.resource", resource_id=resource.id)
    qr_code = Markup(
        segno.make(url, error="m").svg_inline(scale=4, title="QR code de la fiche du matériel")
    )
    return render_template("catalogue/label.html", resource=resource, url=url, qr_code=qr_code)


@bp.get("/ma-regie/materiel")
@login_required
def inventory() -> Any:
    """The user's régie's equipment, retired included, with the actions a manager may take."""
    args = query_args(PageArgs())
    items = paginate(queries.regie_inventory(current_user.regie_id), args["page"], args["per_page"])
    return render_template("catalogue/inventory.html", items=items)


@bp.route("/materiel/nouveau", methods=["GET", "POST"])
@login_required
def new_resource() -> Any:
    """The form that lists a new piece of equipment for the user's régie."""
    require(can_create_resource(current_user), MANAGERS_ONLY)
    if request.method == "POST":
        try:
            resource = services.create_resource(current_user, load_form(ResourceArgs()))
        except Invalid as error:
            return _resource_form(None, request.form, form_errors(error)), 422
        db.session.commit()
        flash(f"« {resource.name} » est ajouté au catalogue.", "success")
        return redirect(url_for(".resource", resource_id=resource.id))
    defaults = {"condition": Condition.GOOD.value, "status": ResourceStatus.AVAILABLE.value}
    return _resource_form(None, defaults | {"min_notice_hours": "0"}, {})


@bp.route("/materiel/<uuid:resource_id>/modifier", methods=["GET", "POST"])
@login_required
def edit_resource(resource_id: uuid.UUID) -> Any:
    """The form that rewrites every field of a resource (blank optional fields are cleared)."""
    resource = services.get_resource(resource_id)
    require_local(resource, REPLICA)
    require(can_edit_resource(current_user, resource), MANAGERS_ONLY)
    if resource.status is ResourceStatus.RETIRED:
        raise Conflict("Ce matériel est retiré du catalogue.", code="resource_retired")
    if request.method == "POST":
        try:
            services.update_resource(current_user, resource, load_form(ResourceArgs()))
        except Invalid as error:
            db.session.rollback()
            return _resource_form(resource, request.form, form_errors(error)), 422
        db.session.commit()
        flash(f"« {resource.name} » est enregistré.", "success")
        return redirect(url_for(".resource", resource_id=resource.id))
    return _resource_form(resource, _form_values(resource), {})


@bp.post("/materiel/<uuid:resource_id>/retirer")
@login_required
def retire_resource(resource_id: uuid.UUID) -> Any:
    """Take a resource out of the catalogue for good; it stays for the loan history."""
    resource = services.get_resource(resource_id)
    require_local(resource, REPLICA)
    services.retire_resource(current_user, resource)
    db.session.commit()
    flash(f"« {resource.name} » est retiré du catalogue.", "success")
    return redirect(url_for(".inventory"))


@bp.get("/ma-regie/materiel/export.csv")
@login_required
def export_csv() -> Any:
    """The régie's inventory as a spreadsheet file (CSV, as French spreadsheets write it)."""
    text = spreadsheet.export_inventory(current_user)
    response = Response(text, content_type="text/csv; charset=utf-8")
    filename = spreadsheet.export_filename(current_user.regie)
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    return response


@bp.route("/ma-regie/materiel/import", methods=["GET", "POST"])
@login_required
def import_csv() -> Any:
    """Upload a spreadsheet to check it (simulation) or create and update resources from it."""
    require(can_import_resources(current_user), MANAGERS_ONLY)
    options = {"dry_run": True, "skip_invalid": False}
    if request.method == "GET":
        return _import_page(options, {})
    options = {key: request.form.get(key) == "1" for key in options}
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        errors = {"file": ["Choisissez un fichier CSV."]}
        return _import_page(options, errors), 422
    try:
        report = spreadsheet.import_inventory(
            current_user,
            upload.read(),
            dry_run=options["dry_run"],
            skip_invalid=options["skip_invalid"],
        )
    except Invalid as error:
        db.session.rollback()
        errors = form_errors(error)
        return _import_page(options, errors), 422
    if report.applied:
        db.session.commit()
        return _import_page(options, {}, report)
    db.session.rollback()  # a simulation, or a file with bad lines, changes nothing
    refused = bool(report.errors) and not report.dry_run
    return _import_page(options, {}, report), 422 if refused else 200


def _import_page(options: dict[str, bool], errors: dict[str, list[str]], report: Any = None) -> str:
    return render_template("catalogue/import.html", options=options, errors=errors, report=report)


def _resource_form(resource: Resource | None, values: Any, errors: dict[str, list[str]]) -> str:
    return render_template(
        "catalogue/resource_form.html",
        resource=resource,
        values=values,
        errors=errors,
        statuses=EDITABLE_STATUSES,
    )


def _form_values(resource: Resource) -> dict[str, str]:
    """A resource as the edit form shows it: strings, French decimals."""
    return {
        "name": resource.name,
        "description": resource.description,
        "category": resource.category,
        "condition": resource.condition.value,
        "location": resource.location,
        "status": resource.status.value,
        "deposit_eur": decimal_input(resource.deposit_eur),
        "replacement_value_eur": decimal_input(resource.replacement_value_eur),
        "max_loan_days": "" if resource.max_loan_days is None else str(resource.max_loan_days),
        "min_notice_hours": str(resource.min_notice_hours),
        "requirements": resource.requirements,
    }

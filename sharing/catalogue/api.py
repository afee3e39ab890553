"""Catalogue API: categories and resources."""

import uuid
from typing import Any

from flask import Response, request
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import RAISE
from werkzeug.exceptions import UnsupportedMediaType

from sharing.catalogue import queries, services, spreadsheet
from sharing.catalogue.models import CATEGORIES
from sharing.catalogue.schemas import (
    CategorySchema,
    ResourceArgs,
    ResourceListArgs,
    ResourcePageSchema,
    ResourcePatchArgs,
    ResourceSchema,
)
from sharing.catalogue.spreadsheet import ImportArgs, ImportReportSchema
from sharing.errors import ErrorSchema, Invalid
from sharing.extensions import db
from sharing.http import paginate
from sharing.security import protect_api, takes_uploads

bp = Blueprint("catalogue_api", __name__, url_prefix="/api/v1", description="Catalogue")
bp.before_request(protect_api)


@bp.get("/categories")
@bp.response(200, CategorySchema(many=True))
def list_categories() -> Any:
    """The shared equipment taxonomy."""
    return [{"slug": slug, "label": label} for slug, label in CATEGORIES.items()]


@bp.get("/resources")
@bp.arguments(ResourceListArgs, location="query")
@bp.response(200, ResourcePageSchema)
def list_resources(args: dict[str, Any]) -> Any:
    """Search the catalogue of the whole network."""
    page, per_page = args.pop("page"), args.pop("per_page")
    return paginate(queries.resources(**args), page, per_page)


@bp.post("/resources")
@bp.arguments(ResourceArgs)
@bp.response(201, ResourceSchema)
def create_resource(args: dict[str, Any]) -> Any:
    """List a new piece of equipment for your régie (manager)."""
    resource = services.create_resource(current_user, args)
    db.session.commit()
    return resource


@bp.get("/resources/export.csv")
@bp.response(
    200,
    {"type": "string"},
    content_type="text/csv",
    description="UTF-8 with a BOM, `;` separators, decimal commas, French headers and labels",
    headers={
        "Content-Disposition": {
            "description": "attachment; filename=inventaire-<régie slug>-<date>.csv",
            "schema": {"type": "string"},
        }
    },
)
def export_resources() -> Response:
    """Download your régie's inventory, retired resources included (manager)."""
    text = spreadsheet.export_inventory(current_user)
    response = Response(text, content_type="text/csv; charset=utf-8")
    filename = spreadsheet.export_filename(current_user.regie)
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    return response


# Browsers send .csv files as any of these; curl sends no type with --data-binary @file.
CSV_MEDIA_TYPES = {
    "",
    "text/csv",
    "text/plain",
    "application/csv",
    "application/vnd.ms-excel",
    "application/octet-stream",
}
IMPORT_BODY = {
    "required": True,
    "description": "The CSV file, as exported or as French spreadsheets write it.",
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        },
        "text/csv": {"schema": {"type": "string", "format": "binary"}},
    },
}


@bp.post("/resources/import")
@takes_uploads
# A mistyped ``dry_run`` must not turn a check into a real import: unknown arguments are refused.
@bp.arguments(ImportArgs, location="query", unknown=RAISE)
@bp.doc(requestBody=IMPORT_BODY)
@bp.response(200, ImportReportSchema)
@bp.alt_response(
    422,
    schema=ErrorSchema,
    description="`import_invalid`: bad lines (`details.lines`), nothing written; "
    "`validation_failed`: unreadable file or header (`details.fields.file`)",
)
def import_resources(args: dict[str, Any]) -> Any:
    """Create and update your régie's resources from a CSV file (manager).

    A line whose `id` is one of your régie's resources updates it; any other line creates a
    resource. With bad lines nothing is written, unless `skip_invalid=1`.
    """
    report = spreadsheet.import_inventory(current_user, _uploaded_csv(), **args)
    if report.applied:
        db.session.commit()
    elif report.errors and not report.dry_run:
        count = len(report.errors)
        raise Invalid(
            f"{count} ligne(s) contiennent des erreurs : rien n'a été importé. Corrigez-les, "
            "ou relancez l'import en ignorant les lignes invalides (skip_invalid=1).",
            code="import_invalid",
            details={"lines": ImportReportSchema().dump(report)["errors"]},
        )
    return report


def _uploaded_csv() -> bytes:
    """The bytes of the multipart field ``file``, or the raw body."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            message = "Joignez le fichier CSV dans le champ « file »."
            raise Invalid(message, fields={"file": [message]})
        return upload.read()
    if request.mimetype not in CSV_MEDIA_TYPES:
        raise UnsupportedMediaType()
    return request.get_data()


@bp.get("/resources/<uuid:resource_id>")
@bp.response(200, ResourceSchema)
def get_resource(resource_id: uuid.UUID) -> Any:
    """One resource."""
    return services.get_resource(resource_id)


@bp.patch("/resources/<uuid:resource_id>")
@bp.arguments(ResourcePatchArgs(partial=True))
@bp.response(200, ResourceSchema)
def update_resource(args: dict[str, Any], resource_id: uuid.UUID) -> Any:
    """Change a resource (manager of the owning régie)."""
    resource = services.update_resource(current_user, services.get_resource(resource_id), args)
    db.session.commit()
    return resource


@bp.delete("/resources/<uuid:resource_id>")
@bp.response(204)
def retire_resource(resource_id: uuid.UUID) -> None:
    """Retire a resource: kept for history, gone from the catalogue."""
    services.retire_resource(current_user, services.get_resource(resource_id))
    db.session.commit()

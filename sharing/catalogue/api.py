"""Catalogue API: categories and resources."""

import uuid
from typing import Any

from flask_login import current_user
from flask_smorest import Blueprint

from sharing.catalogue import queries, services
from sharing.catalogue.models import CATEGORIES
from sharing.catalogue.schemas import (
    CategorySchema,
    ResourceArgs,
    ResourceListArgs,
    ResourcePageSchema,
    ResourcePatchArgs,
    ResourceSchema,
)
from sharing.extensions import db
from sharing.http import paginate
from sharing.security import protect_api

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

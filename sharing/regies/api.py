"""Régies API."""

import uuid
from typing import Any

from flask_login import current_user
from flask_smorest import Blueprint

from sharing.extensions import db
from sharing.http import paginate
from sharing.regies import queries, services
from sharing.regies.schemas import (
    RegieArgs,
    RegieListArgs,
    RegiePageSchema,
    RegiePatchArgs,
    RegieSchema,
)
from sharing.security import protect_api

bp = Blueprint("regies_api", __name__, url_prefix="/api/v1", description="Régies")
bp.before_request(protect_api)


@bp.get("/regies")
@bp.arguments(RegieListArgs, location="query")
@bp.response(200, RegiePageSchema)
def list_regies(args: dict[str, Any]) -> Any:
    """All régies known here, local and replicated."""
    stmt = queries.regies(q=args.get("q"), instance=args.get("instance"))
    return paginate(stmt, args["page"], args["per_page"])


@bp.get("/regies/<uuid:regie_id>")
@bp.response(200, RegieSchema)
def get_regie(regie_id: uuid.UUID) -> Any:
    """One régie's card."""
    return services.get_regie(regie_id)


@bp.post("/regies")
@bp.arguments(RegieArgs)
@bp.response(201, RegieSchema)
def create_regie(args: dict[str, Any]) -> Any:
    """Create a local régie (administrator)."""
    regie = services.create_regie(current_user, args)
    db.session.commit()
    return regie


@bp.patch("/regies/<uuid:regie_id>")
@bp.arguments(RegiePatchArgs(partial=True))
@bp.response(200, RegieSchema)
def update_regie(args: dict[str, Any], regie_id: uuid.UUID) -> Any:
    """Change a régie's card (administrator, or that régie's manager)."""
    regie = services.update_regie(current_user, services.get_regie(regie_id), args)
    db.session.commit()
    return regie

"""Audit log API: the log for the instance's administrators."""

from typing import Any

from flask_login import current_user
from flask_smorest import Blueprint

from sharing.audit import services
from sharing.audit.schemas import AuditEventPageSchema, AuditListArgs
from sharing.http import paginate
from sharing.security import protect_api

bp = Blueprint("audit_api", __name__, url_prefix="/api/v1", description="Journal d'audit")
bp.before_request(protect_api)


@bp.get("/audit")
@bp.arguments(AuditListArgs, location="query")
@bp.response(200, AuditEventPageSchema)
def list_events(args: dict[str, Any]) -> Any:
    """The audit log, newest first (administrators of the instance only)."""
    stmt = services.list_events(current_user, args.get("action"))
    return paginate(stmt, args["page"], args["per_page"])

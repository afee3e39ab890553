"""The audit log page of the administration."""

from typing import Any

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from sharing.audit import services
from sharing.audit.models import ACTION_LABELS
from sharing.audit.schemas import AuditListArgs
from sharing.http import paginate
from sharing.web import query_args

bp = Blueprint("audit", __name__, template_folder="templates")


@bp.get("/admin/journal")
@login_required
def events() -> Any:
    """« Journal d'audit »: the log, newest first, filtered by action."""
    args = query_args(AuditListArgs())
    action = args.get("action")
    page = paginate(services.list_events(current_user, action), args["page"], args["per_page"])
    return render_template(
        "audit/events.html", events=page, action=action, actions=list(ACTION_LABELS.items())
    )

"""What every HTML page shares: template helpers, the user's timezone, safe redirects."""

from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, request, url_for
from flask_babel import format_currency
from flask_login import current_user

from sharing.accounts.permissions import can_create_user, can_list_users
from sharing.catalogue.models import CATEGORIES, CONDITION_LABELS, STATUS_LABELS
from sharing.catalogue.permissions import (
    can_create_resource,
    can_edit_resource,
    can_import_resources,
)
from sharing.regies.permissions import can_create_regie, can_edit_regie


def user_timezone() -> str | None:
    """Times are shown in the timezone of the signed-in user's régie."""
    if current_user and current_user.is_authenticated:
        return str(current_user.regie.timezone)
    return None


def euros(value: Decimal | None) -> str:
    return "—" if value is None else format_currency(value, "EUR", locale="fr_FR")


def safe_next(target: str | None, default: str = "catalogue.dashboard") -> str:
    """Only redirect to a path on this site (no ``//evil.example``)."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/"):
            return target
    return url_for(default)


def page_url(page: int) -> str:
    """The current URL with another ``page`` parameter (for pagination links)."""
    values: dict[str, Any] = {**request.args.to_dict(), **(request.view_args or {}), "page": page}
    return url_for(request.endpoint or "catalogue.dashboard", **values)


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        CATEGORIES=CATEGORIES,
        CONDITION_LABELS=CONDITION_LABELS,
        STATUS_LABELS=STATUS_LABELS,
        can_create_regie=can_create_regie,
        can_edit_regie=can_edit_regie,
        can_create_user=can_create_user,
        can_list_users=can_list_users,
        can_create_resource=can_create_resource,
        can_edit_resource=can_edit_resource,
        can_import_resources=can_import_resources,
        page_url=page_url,
    )
    app.jinja_env.filters["euros"] = euros

    @app.context_processor
    def _role_labels() -> dict[str, Any]:
        return {
            "ROLE_LABELS": {
                "admin": "Administrateur",
                "manager": "Responsable",
                "member": "Membre",
            }
        }

"""Catalogue pages: dashboard, search, resource pages and labels, a régie's inventory."""

from typing import Any

from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("catalogue", __name__, template_folder="templates")


@bp.get("/")
@login_required
def dashboard() -> Any:
    """The signed-in user's home page."""
    return render_template("catalogue/dashboard.html")

"""Endpoints about the service itself: health check and the browsable API reference."""

from typing import Any

from flask import Blueprint, jsonify, render_template
from sqlalchemy import text

from sharing.extensions import api, db

bp = Blueprint("meta", __name__)


@bp.get("/healthz")
def healthz() -> Any:
    """200 when the database answers, 503 otherwise."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:
        db.session.rollback()
        return jsonify(status="unavailable", database="down"), 503
    return jsonify(status="ok")


@bp.get("/api/v1/docs")
def api_docs() -> str:
    """A server-rendered page listing every operation of the OpenAPI document."""
    spec = api.spec.to_dict()
    return render_template("api_docs.html", spec=spec)

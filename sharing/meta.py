"""Endpoints about the service itself: health check and the browsable API reference."""

import time
from typing import Any

from flask import Blueprint, current_app, jsonify, render_template
from sqlalchemy import text

from sharing.db import utcnow
from sharing.extensions import api, db
from sharing.observability import peer_sync_states

bp = Blueprint("meta", __name__)


@bp.get("/healthz")
def healthz() -> Any:
    """200 when the database answers ("degraded" when a peer has not synced for
    FEDERATION_SYNC_STALE_SECONDS), 503 when it does not."""
    started = time.perf_counter()
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:
        db.session.rollback()
        return jsonify(status="unavailable", database="down"), 503
    database_ms = round((time.perf_counter() - started) * 1000, 2)
    peers = peer_sync_states()
    now = utcnow()
    stale_after = float(current_app.config["FEDERATION_SYNC_STALE_SECONDS"])
    ages = [age for age in (peer.age_seconds(now) for peer in peers) if age is not None]
    lags = [peer.lag for peer in peers if peer.lag is not None]
    stale = sum(1 for age in ages if age > stale_after)
    return jsonify(
        status="degraded" if stale else "ok",
        database="up",
        database_ms=database_ms,
        federation={
            "peers": len(peers),
            "stale_peers": stale,
            "worst_lag": max(lags, default=None),
            "oldest_sync_age_seconds": round(max(ages)) if ages else None,
        },
    )


@bp.get("/api/v1/docs")
def api_docs() -> str:
    """A server-rendered page listing every operation of the OpenAPI document."""
    spec = api.spec.to_dict()
    return render_template("api_docs.html", spec=spec)

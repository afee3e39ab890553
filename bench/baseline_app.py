"""The benchmark servers' WSGI module: the real application (configured from ``FLASK_``
variables, like wsgi.py), plus bare routes that answer the same requests the plain way, so
that every figure has a baseline measured by the same gunicorn, on the same database, in the
same run:

- ``GET /bench/catalogue``: the catalogue page of ``GET /api/v1/resources`` (same filters, same
  50 rows, same JSON fields and total) from one SQL query on Core rows, no authentication, no
  schemas;
- ``POST /bench/writes``: one INSERT of a booking-shaped row into ``bench_writes``, committed;
- ``GET /bench/documents``: the raw full-text query of the library search (the page's ids and
  ranks), as JSON;
- ``GET /bench/page``: a fixed HTML page, the floor of serving any page.

Every response carries ``Server-Timing: app;dur=<ms>``, the time the application took (from
the WSGI call to its ``start_response``), which the page figures read.

    gunicorn --workers 2 bench.baseline_app:app
"""

import time
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, request
from sqlalchemy import func, select

from bench.dataset import bench_writes
from sharing import create_app, search
from sharing.catalogue.models import CATEGORIES, Resource, ResourceStatus
from sharing.db import rfc3339, utcnow
from sharing.extensions import csrf, db
from sharing.library.models import SEARCH_KIND
from sharing.loans.queries import is_free_between
from sharing.regies.models import Regie

bp = Blueprint("bench", __name__, url_prefix="/bench")

_resources = Resource.__table__
_regies = Regie.__table__


@bp.get("/catalogue")
def catalogue() -> Any:
    """One page of the catalogue searched by words, category and free window, and the total,
    in one query: the filtered rows once for the page and once, in a scalar subquery, for the
    count (the database work of the API's two statements, one round trip; a count(*) OVER ()
    window instead would make SQLite keep and sort every matching row, not the first 50)."""
    args = request.args
    per_page = int(args.get("per_page", 50))
    page = int(args.get("page", 1))
    found = search.matches("resource", args.get("q", "")).subquery()
    conditions = []
    if category := args.get("category"):
        conditions.append(_resources.c.category == category)
    if "available_from" in args:
        start = datetime.fromisoformat(args["available_from"])
        end = datetime.fromisoformat(args["available_to"])
        conditions += [
            _resources.c.status == ResourceStatus.AVAILABLE,
            is_free_between(_resources.c.id, start, end, utcnow()),
        ]
    else:
        conditions.append(_resources.c.status != ResourceStatus.RETIRED)
    matching = (
        select(func.count())
        .select_from(_resources)
        .join(found, found.c.record_id == _resources.c.id)
        .where(*conditions)
        .scalar_subquery()
    )
    stmt = (
        select(
            _resources,
            _regies.c.name.label("regie_name"),
            _regies.c.slug.label("regie_slug"),
            _regies.c.origin_instance_id,
            matching.label("total"),
        )
        .join(_regies, _regies.c.id == _resources.c.regie_id)
        .join(found, found.c.record_id == _resources.c.id)
        .where(*conditions)
        .order_by(found.c.rank.desc(), _resources.c.name, _resources.c.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    rows = db.session.execute(stmt).mappings().all()
    origin = {"instance_id": current_app.config.get("INSTANCE_ID"), "is_local": True}
    origin["instance_url"] = current_app.config["INSTANCE_URL"]
    items = [
        {
            "id": str(row["id"]),
            "regie_id": str(row["regie_id"]),
            "regie": {
                "id": str(row["regie_id"]),
                "name": row["regie_name"],
                "slug": row["regie_slug"],
            },
            "name": row["name"],
            "description": row["description"],
            "category": row["category"],
            "category_label": CATEGORIES.get(row["category"], row["category"]),
            "condition": row["condition"].value,
            "location": row["location"],
            "status": row["status"].value,
            "deposit_eur": _euros(row["deposit_eur"]),
            "replacement_value_eur": _euros(row["replacement_value_eur"]),
            "max_loan_days": row["max_loan_days"],
            "min_notice_hours": row["min_notice_hours"],
            "requirements": row["requirements"],
            "version": row["version"],
            "created_at": rfc3339(row["created_at"]),
            "updated_at": rfc3339(row["updated_at"]),
            "origin": origin
            if row["origin_instance_id"] is None
            else {"instance_id": str(row["origin_instance_id"]), "is_local": False},
        }
        for row in rows
    ]
    total = rows[0]["total"] if rows else 0
    return jsonify(items=items, total=total, page=page, per_page=per_page)


@bp.post("/writes")
def write() -> Any:
    """One INSERT, committed: the floor of any request that writes."""
    data = request.get_json()
    row_id = uuid.uuid4()
    db.session.execute(
        bench_writes.insert().values(
            id=row_id,
            resource_id=uuid.UUID(data["resource_id"]),
            starts_at=datetime.fromisoformat(data["starts_at"]),
            ends_at=datetime.fromisoformat(data["ends_at"]),
            status="requested",
            created_at=utcnow(),
        )
    )
    db.session.commit()
    return jsonify(id=str(row_id)), 201


@bp.get("/documents")
def documents() -> Any:
    """The library search's full-text query alone: the best page of ids and ranks."""
    per_page = int(request.args.get("per_page", 20))
    matches = search.matches(SEARCH_KIND, request.args.get("q", "")).subquery()
    stmt = select(matches.c.record_id, matches.c.rank).order_by(matches.c.rank.desc())
    rows = db.session.execute(stmt.limit(per_page)).all()
    return jsonify(items=[{"id": str(r[0]), "rank": r[1]} for r in rows])


_PAGE = (
    "<!doctype html><html lang=fr><head><meta charset=utf-8><title>Page</title></head>"
    "<body><main><h1>Catalogue</h1>" + "<p>Matériel disponible au prêt.</p>" * 200 + "</main>"
    "</body></html>"
)


@bp.get("/page")
def page() -> Any:
    """A fixed HTML page: what any page costs before the application does anything."""
    return _PAGE


def _euros(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


class ServerTiming:
    """WSGI middleware adding ``Server-Timing: app;dur=<ms>`` to every response."""

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]]):
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        started = time.perf_counter()

        def timed_start_response(status: str, headers: list[Any], *args: Any) -> Any:
            ms = (time.perf_counter() - started) * 1000
            headers.append(("Server-Timing", f"app;dur={ms:.3f}"))
            return start_response(status, headers, *args)

        return self.wsgi_app(environ, timed_start_response)


def build() -> Flask:
    """The application with the bench routes and the timing middleware."""
    application = create_app()
    csrf.exempt(bp)
    application.register_blueprint(bp)
    application.wsgi_app = ServerTiming(application.wsgi_app)  # type: ignore[method-assign]
    return application


app = build()

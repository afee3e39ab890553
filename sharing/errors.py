"""Domain exceptions and the one place that turns any error into a response.

Under ``/api/`` every error is the JSON body of api.md; in the web interface it is a French
page. Services raise the domain exceptions below and never build responses themselves.
"""

import json
from typing import Any

from flask import Flask, Response, current_app, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from marshmallow import Schema, fields
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException


class ErrorBodySchema(Schema):
    status = fields.Integer(required=True)
    code = fields.String(required=True, metadata={"description": "Machine-readable reason"})
    message = fields.String(required=True, metadata={"description": "French, for people"})
    details = fields.Dict(
        metadata={"description": "`fields` for 422, `conflicts` for booking_conflict, …"}
    )


class ErrorSchema(Schema):
    """The body of every API error."""

    error = fields.Nested(ErrorBodySchema, required=True)


class DomainError(Exception):
    """An error a user can understand and act on."""

    status = 400
    code = "bad_request"

    def __init__(
        self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None
    ):
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.details = details or {}


class Unauthorized(DomainError):
    status, code = 401, "unauthorized"


class Forbidden(DomainError):
    status, code = 403, "forbidden"


class NotFound(DomainError):
    status, code = 404, "not_found"


class Conflict(DomainError):
    status, code = 409, "conflict"


class Invalid(DomainError):
    """Validation failed; ``fields`` maps field names to lists of messages."""

    status, code = 422, "validation_failed"

    def __init__(self, message: str, *, fields: dict[str, Any] | None = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        if fields is not None:
            self.details.setdefault("fields", fields)

    @property
    def fields(self) -> dict[str, Any]:
        return self.details.get("fields", {})


class UnsupportedMediaType(DomainError):
    status, code = 415, "unsupported_media_type"


class RateLimited(DomainError):
    status, code = 429, "rate_limited"


HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
}

FRENCH_MESSAGES = {
    400: "La requête est mal formée.",
    401: "Vous devez vous identifier.",
    403: "Vous n'avez pas le droit de faire cela.",
    404: "Cette page n'existe pas, ou vous n'y avez pas accès.",
    405: "Cette méthode n'est pas permise ici.",
    409: "Conflit avec l'état actuel.",
    413: "Le fichier envoyé est trop volumineux.",
    415: "Ce type de fichier n'est pas accepté.",
    422: "Certaines valeurs ne sont pas valides.",
    429: "Trop de tentatives : réessayez dans une minute.",
    500: "Une erreur inattendue s'est produite. Elle a été enregistrée.",
}


def wants_json() -> bool:
    """API and federation paths always answer JSON; the web interface answers HTML."""
    return request.path.startswith(("/api/", "/federation/"))


def error_response(
    status: int, code: str, message: str, details: dict[str, Any] | None = None
) -> Response:
    """Build the JSON error body or the French error page for the current request."""
    if wants_json():
        body = {"status": status, "code": code, "message": message, "details": details or {}}
        response = jsonify(error=body)
    else:
        response = make_response(render_template("error.html", status=status, message=message))
    response.status_code = status
    return response


def _webargs_details(error: HTTPException) -> tuple[str, dict[str, Any]]:
    """Flatten webargs' ``{"json": {...}}`` messages into ``details.fields``."""
    messages = (getattr(error, "data", None) or {}).get("messages") or {}
    location = next(iter(messages), "json")  # webargs parses one location per schema
    errors = messages.get(location, {})
    fields = dict(errors) if isinstance(errors, dict) else {"_schema": errors}
    return location, fields


def handle_domain_error(error: DomainError) -> Response:
    return error_response(error.status, error.code, error.message, error.details)


def handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    if status == 422 or (status == 400 and getattr(error, "data", None)):
        location, fields = _webargs_details(error)
        if location in ("query", "querystring"):
            return error_response(
                400, "invalid_query", _("Paramètre de requête invalide."), {"fields": fields}
            )
        if status == 400:
            return error_response(400, "malformed_json", _("Le corps JSON est illisible."))
        return error_response(422, "validation_failed", FRENCH_MESSAGES[422], {"fields": fields})
    if status == 400 and error.description and "CSRF" in error.description:
        return error_response(
            400,
            "csrf_failed",
            _("Le formulaire a expiré ou n'est pas valide (jeton CSRF). Rechargez la page."),
        )
    response = error_response(
        status,
        HTTP_CODES.get(status, "error"),
        FRENCH_MESSAGES.get(status, error.description or ""),
    )
    for name, value in error.get_headers():  # Allow on 405, Retry-After on 429
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def handle_integrity_error(error: IntegrityError) -> Response:
    """A unique constraint lost to a concurrent request: the services checked, but another
    request committed the same value in between. It is a conflict, not a crash."""
    from sharing.extensions import db

    db.session.rollback()
    current_app.logger.warning("integrity error on %s %s: %s", request.method, request.path, error)
    return error_response(
        409,
        "conflict",
        "Une autre demande vient d'enregistrer la même chose. Rechargez et réessayez.",
    )


def handle_unexpected(error: Exception) -> Response:
    if isinstance(error, RecursionError | ValueError) and _unreadable_json_body():
        return error_response(400, "malformed_json", _("Le corps JSON est illisible."))
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500, "internal_error", FRENCH_MESSAGES[500])


def _unreadable_json_body() -> bool:
    """Whether the request's JSON body is one the json module refuses with something else
    than a JSONDecodeError (which webargs answers with a 400 itself): RecursionError for very
    deep nesting, ValueError for integers of more than 4300 digits."""
    if not request.is_json:
        return False
    try:
        json.loads(request.get_data(cache=True))
    except (RecursionError, ValueError):
        return True
    return False


def register(app: Flask) -> None:
    """Install the handlers; called after flask-smorest so ours win."""
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(Exception, handle_unexpected)

"""What every HTML page shares: template helpers, the user's timezone, safe redirects,
query-string and form error handling, and the helpers of the browsable API reference."""

import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from flask import Flask, current_app, g, request, url_for
from flask_babel import format_datetime
from flask_login import current_user
from marshmallow import Schema, ValidationError

from sharing.accounts.permissions import can_create_user, can_list_users
from sharing.audit.permissions import can_read_audit_log
from sharing.catalogue.models import CATEGORIES, CONDITION_LABELS, STATUS_LABELS
from sharing.catalogue.permissions import (
    can_create_resource,
    can_edit_resource,
    can_import_resources,
)
from sharing.errors import Conflict, DomainError, Forbidden, Invalid
from sharing.extensions import db
from sharing.library.permissions import (
    can_attach_to_document,
    can_create_document,
    can_delete_document,
    can_edit_document,
)
from sharing.loans.models import STATUS_LABELS as BOOKING_STATUS_LABELS
from sharing.loans.permissions import (
    can_block_resource,
    can_manage_calendar,
    can_request_booking,
    can_view_calendar,
)
from sharing.loans.schemas import HANDOVER_CONDITIONS
from sharing.regies import queries as regie_queries
from sharing.regies.permissions import can_create_regie, can_edit_regie

# Timezones offered first in the régie form; any IANA name is accepted.
COMMON_TIMEZONES = [
    "Europe/Paris",
    "America/Cayenne",
    "America/Guadeloupe",
    "America/Martinique",
    "America/Miquelon",
    "Indian/Mayotte",
    "Indian/Reunion",
    "Pacific/Noumea",
    "Pacific/Tahiti",
    "Pacific/Wallis",
]


def user_timezone() -> str | None:
    """Times are shown in the timezone of the signed-in user's régie."""
    if current_user and current_user.is_authenticated:
        return str(current_user.regie.timezone)
    return None


def user_zone() -> ZoneInfo:
    """The timezone of the signed-in user's régie (the instance's default otherwise)."""
    return ZoneInfo(user_timezone() or current_app.config["BABEL_DEFAULT_TIMEZONE"])


class LocalTimeError(ValueError):
    """A date and time typed in a form that name no instant; ``part`` is ``date`` or ``time``,
    so that the message goes next to the right input."""

    def __init__(self, message: str, part: str):
        super().__init__(message)
        self.message, self.part = message, part


def local_datetime(day: str, clock: str, zone: ZoneInfo) -> datetime:
    """What ``<input type="date">`` and ``<input type="time">`` name in ``zone``, as an aware
    UTC datetime. A time the clocks skip (spring forward) is refused rather than shifted; a time
    they go through twice (autumn) means its first occurrence, as in most calendar apps."""
    try:
        local_day = date.fromisoformat(day.strip())
    except ValueError:
        raise LocalTimeError("Date invalide (format attendu : AAAA-MM-JJ).", "date") from None
    try:
        local_clock = time.fromisoformat(clock.strip())
    except ValueError:
        local_clock = None
    if local_clock is None or local_clock.tzinfo is not None:
        raise LocalTimeError("Heure invalide (format attendu : HH:MM).", "time")
    naive = datetime.combine(local_day, local_clock)
    try:
        instant = naive.replace(tzinfo=zone).astimezone(UTC)
    except OverflowError:
        raise LocalTimeError("Date hors des limites.", "date") from None
    if instant.astimezone(zone).replace(tzinfo=None) != naive:
        raise LocalTimeError(
            f"{local_clock:%H:%M} n'existe pas le {format_date(local_day, 'd MMMM y', locale='fr')}"
            f" ({zone.key}) : les horloges avancent d'une heure (heure d'été). "
            "Choisissez une autre heure.",
            "time",
        )
    return instant


def local_day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants a local day starts and ends (23 or 25 hours apart on DST days)."""
    start = datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone).astimezone(UTC)
    return start, end


def period(starts_at: datetime, ends_at: datetime) -> str:
    """A period in the user's timezone, in French: the day once if it starts and ends on it."""
    if format_datetime(starts_at, "yyyyMMdd") == format_datetime(ends_at, "yyyyMMdd"):
        return (
            f"{format_datetime(starts_at, 'EEE d MMMM y')}, "
            f"{format_datetime(starts_at, 'HH:mm')} – {format_datetime(ends_at, 'HH:mm')}"
        )
    return (
        f"du {format_datetime(starts_at, 'EEE d MMMM y, HH:mm')} "
        f"au {format_datetime(ends_at, 'EEE d MMMM y, HH:mm')}"
    )


def euros(value: Decimal | None) -> str:
    """An amount as the French write it: ``1 200,50 €`` (Babel's fr_FR currency format)."""
    return "—" if value is None else format_currency(value, "EUR", locale="fr_FR")


def file_size(size: int) -> str:
    """A file's size as the French write it: ``532 octets``, ``12 ko``, ``1,2 Mo`` (the number
    and its unit kept on one line)."""
    if size < 1024:
        return f"{size} octet{'s' if size > 1 else ''}"
    value, unit = size / 1024, "ko"
    for bigger in ("Mo", "Go"):
        if value < 1023.5:  # not "1 024 ko" once rounded
            break
        value, unit = value / 1024, bigger
    number = format_decimal(value, format="#,##0.#" if value < 10 else "#,##0", locale="fr_FR")
    return f"{number}\u00a0{unit}"


def decimal_input(value: Decimal | None) -> str:
    """An amount as a French user types it in a form: ``1200,50``."""
    return "" if value is None else f"{value:.2f}".replace(".", ",")


def safe_next(target: str | None, default: str = "catalogue.dashboard") -> str:
    """Only redirect to a path on this site: not ``//evil.example``, nor ``/\\evil.example``
    which browsers read the same way, nor anything with control characters."""
    if target and target.startswith("/") and target.isprintable() and "\\" not in target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for(default)


def page_url(page: int) -> str:
    """The current URL with another ``page`` parameter (for pagination links)."""
    values: dict[str, Any] = {**request.args.to_dict(), **(request.view_args or {}), "page": page}
    return url_for(request.endpoint or "catalogue.dashboard", **values)


def absolute_url(endpoint: str, **values: Any) -> str:
    """A link to this instance that works from outside (QR labels, calendar feeds)."""
    return str(current_app.config["INSTANCE_URL"]).rstrip("/") + url_for(endpoint, **values)


def require(allowed: bool, message: str) -> None:
    """Refuse to show a form whose submission the service would refuse anyway."""
    if not allowed:
        raise Forbidden(message)


def may_administer_regies(user: Any) -> bool:
    """The régie administration pages are for whoever may create or edit a régie."""
    return bool(can_create_regie(user) or can_edit_regie(user, user.regie))


# --- Records of other instances (replicas) --------------------------------------------------

# Where ``federation`` puts the function that names the other instances of the network (its
# peers): ``sharing`` does not import ``federation``, it only reads what was registered here.
INSTANCE_NAMES = "sharing.instance_names"
UNKNOWN_INSTANCE = "autre instance"


def instance_names() -> dict[str, str]:
    """The names of the other instances by instance id (a string), read once per request."""
    names: dict[str, str] | None = g.get("_instance_names")
    if names is None:
        lookup = current_app.extensions.get(INSTANCE_NAMES)
        names = g._instance_names = dict(lookup()) if lookup else {}
    return names


def instance_name(instance_id: Any, default: str = UNKNOWN_INSTANCE) -> str:
    """Another instance's name, « autre instance » when it is not (or not yet) a peer."""
    return instance_names().get(str(instance_id), default)


def origin_label(regie: Any) -> str:
    """Where a replicated régie and its records come from, as the pages say it after the
    régie's name: « instance Auvergne-Rhône-Alpes » (« autre instance » when unknown); empty
    for a régie of this instance."""
    if regie.origin_instance_id is None:
        return ""
    name = instance_name(regie.origin_instance_id, "")
    return f"instance {name}" if name else UNKNOWN_INSTANCE


def instance_options() -> list[tuple[str, str]]:
    """The other instances whose régies are replicated here, as ``(id, name)`` choices of the
    « Instance » filters, by name."""
    ids = db.session.scalars(regie_queries.origin_instances())
    return sorted(((str(i), instance_name(i)) for i in ids), key=lambda c: (c[1].lower(), c[0]))


def require_local(record: Any, message: str) -> None:
    """A replica is changed at its origin only: its forms answer the services' 409 (a French
    page) before anything is read or checked. ``record`` is a régie or has one."""
    regie = getattr(record, "regie", record)
    if regie.origin_instance_id is not None:
        raise Conflict(f"{message} ({origin_label(regie)}).", code="read_only_replica")


def _flatten(messages: Any) -> list[str]:
    if isinstance(messages, str):
        return [messages]
    if isinstance(messages, dict):
        return [m for value in messages.values() for m in _flatten(value)]
    return [m for value in messages or [] for m in _flatten(value)]


def form_errors(error: Invalid) -> dict[str, list[str]]:
    """Per-field French messages of a refused form (``_schema`` holds form-wide ones)."""
    fields = error.fields or {"_schema": [error.message]}
    return {name: _flatten(messages) for name, messages in fields.items()}


# How the query parameters of the search forms are called on the page.
QUERY_LABELS = {
    "q": "recherche",
    "category": "catégorie",
    "regie": "régie",
    "status": "statut",
    "instance": "instance",
    "available_from": "du",
    "available_to": "au",
    "page": "page",
    "per_page": "nombre par page",
    "as": "emprunts ou prêts",
    "theme": "thème",
    "type": "type",
    "tag": "étiquette",
}
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def day_start(text: str, *, later: int = 0) -> str:
    """A day picked in a date input, as the instant it starts in the user's timezone
    (``later=1``: the day after, so that an end date counts as a whole day)."""
    try:
        day = date.fromisoformat(text) + timedelta(days=later)
    except ValueError:
        return text  # the schema says what is wrong with it
    zone = ZoneInfo(user_timezone() or current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return datetime.combine(day, time(), tzinfo=zone).isoformat()


def query_args(schema: Schema, *, days: dict[str, int] | None = None) -> dict[str, Any]:
    """Load the query string with the API's schema; a bad parameter is a French 400 page.

    ``days`` names the timestamp parameters that a form may send as a bare date (from
    ``<input type="date">``), with the number of days to add: 0 for a start, 1 for an end.
    """
    data = {key: value for key, value in request.args.items() if value.strip() != ""}
    for name, later in (days or {}).items():
        if DAY.match(data.get(name, "")):
            data[name] = day_start(data[name], later=later)
    try:
        return schema.load(data)
    except ValidationError as error:
        messages = error.normalized_messages()
        detail = " ; ".join(
            f"« {QUERY_LABELS.get(name, name)} » : {' '.join(_flatten(msgs))}"
            for name, msgs in messages.items()
        )
        raise DomainError(
            f"Paramètre de recherche invalide ({detail}).",
            code="invalid_query",
            details={"fields": messages},
        ) from None


# --- The browsable API reference (templates/api_docs.html) -----------------------------------

HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def openapi_ref_name(node: dict[str, Any] | None) -> str | None:
    """``{"$ref": "#/components/schemas/Resource"}`` → ``Resource``."""
    if node and "$ref" in node:
        return str(node["$ref"]).rsplit("/", 1)[-1]
    return None


def openapi_resolve(spec: dict[str, Any], node: dict[str, Any] | None) -> dict[str, Any]:
    """Follow a local ``$ref`` (one level is enough for the documents flask-smorest writes)."""
    if not node or "$ref" not in node:
        return node or {}
    target: Any = spec
    for part in str(node["$ref"]).lstrip("#/").split("/"):
        target = target.get(part, {})
    return target if isinstance(target, dict) else {}


def openapi_type(node: dict[str, Any] | None) -> str:
    """A short, readable type: ``string (uuid)``, ``[Resource]``, ``new | good``."""
    if not node:
        return "—"
    name = openapi_ref_name(node)
    if name:
        return name
    if "enum" in node:
        return " | ".join(str(v) for v in node["enum"])
    kind = node.get("type")
    if kind == "array":
        return f"[{openapi_type(node.get('items'))}]"
    if kind is None:
        return "objet" if "properties" in node else "libre"
    return f"{kind} ({node['format']})" if "format" in node else str(kind)


_CONSTRAINTS = [
    ("minimum", "≥ {}"),
    ("maximum", "≤ {}"),
    ("minLength", "longueur ≥ {}"),
    ("maxLength", "longueur ≤ {}"),
    ("pattern", "motif {}"),
    ("default", "défaut : {}"),
]


def openapi_notes(node: dict[str, Any]) -> list[str]:
    """Constraints and flags of a field or parameter, in French."""
    notes = [template.format(node[key]) for key, template in _CONSTRAINTS if key in node]
    if node.get("nullable"):
        notes.append("peut être null")
    if node.get("readOnly"):
        notes.append("lecture seule")
    if node.get("writeOnly"):
        notes.append("écriture seule")
    return notes


def openapi_fields(spec: dict[str, Any], node: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The properties of a (referenced) object schema, ready for a table."""
    schema = openapi_resolve(spec, node)
    required = set(schema.get("required", []))
    rows = []
    for name, prop in schema.get("properties", {}).items():
        target = openapi_resolve(spec, prop) if "$ref" in prop else prop
        rows.append(
            {
                "name": name,
                "type": openapi_type(prop),
                "ref": openapi_ref_name(prop) or openapi_ref_name(prop.get("items")),
                "required": name in required,
                "description": prop.get("description") or target.get("description", ""),
                "notes": openapi_notes(prop),
            }
        )
    return rows


def _first_schema(content: dict[str, Any]) -> dict[str, Any] | None:
    """The schema of the first media type of a ``content`` map (JSON, for this API)."""
    for media in content.values():
        return dict(media.get("schema") or {}) or None
    return None


def openapi_operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Every operation of the document, grouped later by tag in the template."""
    operations = []
    for path, item in spec.get("paths", {}).items():
        shared = item.get("parameters", [])  # path-level parameters apply to every method
        for method in HTTP_METHODS:
            if method not in item:
                continue
            op = item[method]
            body = op.get("requestBody", {}).get("content", {})
            responses = []
            for status, response in op.get("responses", {}).items():
                resolved = openapi_resolve(spec, response)
                content = resolved.get("content", {})
                schema = _first_schema(content)
                responses.append(
                    {
                        "status": status,
                        "description": resolved.get("description", ""),
                        "schema": schema,
                    }
                )
            operations.append(
                {
                    "id": f"{method}-{re.sub(r'[^a-z0-9]+', '-', path.lower()).strip('-')}",
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "tag": (op.get("tags") or ["autres"])[0],
                    "parameters": [
                        openapi_resolve(spec, p) for p in [*shared, *op.get("parameters", [])]
                    ],
                    "body_types": list(body),
                    "body": _first_schema(body),
                    "public": op.get("security") == [],
                    "responses": responses,
                }
            )
    return operations


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        CATEGORIES=CATEGORIES,
        CONDITION_LABELS=CONDITION_LABELS,
        STATUS_LABELS=STATUS_LABELS,
        BOOKING_STATUS_LABELS=BOOKING_STATUS_LABELS,
        HANDOVER_CONDITIONS=HANDOVER_CONDITIONS,
        COMMON_TIMEZONES=COMMON_TIMEZONES,
        can_create_regie=can_create_regie,
        can_edit_regie=can_edit_regie,
        can_create_user=can_create_user,
        can_list_users=can_list_users,
        can_create_resource=can_create_resource,
        can_edit_resource=can_edit_resource,
        can_import_resources=can_import_resources,
        may_administer_regies=may_administer_regies,
        can_request_booking=can_request_booking,
        can_block_resource=can_block_resource,
        can_view_calendar=can_view_calendar,
        can_manage_calendar=can_manage_calendar,
        can_create_document=can_create_document,
        can_edit_document=can_edit_document,
        can_attach_to_document=can_attach_to_document,
        can_delete_document=can_delete_document,
        can_read_audit_log=can_read_audit_log,
        page_url=page_url,
        period=period,
        instance_names=instance_names,
        instance_name=instance_name,
        origin_label=origin_label,
        openapi_fields=openapi_fields,
        openapi_operations=openapi_operations,
        openapi_ref_name=openapi_ref_name,
        openapi_type=openapi_type,
        openapi_notes=openapi_notes,
    )
    app.jinja_env.filters["euros"] = euros
    app.jinja_env.filters["decimal_input"] = decimal_input
    app.jinja_env.filters["file_size"] = file_size

    @app.context_processor
    def _role_labels() -> dict[str, Any]:
        return {
            "ROLE_LABELS": {
                "admin": "Administrateur",
                "manager": "Responsable",
                "member": "Membre",
            }
        }

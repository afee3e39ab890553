"""Loans pages: the booking and blocking forms of a resource page, "Mes réservations" with the
lifecycle's actions, a booking's page with its history, the régie's calendar feed, and the
loans panels that the catalogue's resource page and dashboard show.

Times are typed and shown in the user's régie's timezone. Every action calls the same service
as the API and commits once. A refused action (a page left open while someone else decided, a
missing condition) comes back as a French flash message on the page it came from.
"""

import re
import uuid
from calendar import Calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from marshmallow import Schema, ValidationError
from sqlalchemy import Select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict

from sharing.accounts.models import User
from sharing.catalogue.models import CONDITION_LABELS, Condition, Resource
from sharing.catalogue.services import get_resource
from sharing.db import utcnow
from sharing.errors import Conflict, DomainError, Invalid
from sharing.extensions import db
from sharing.http import load_form, paginate
from sharing.loans import queries, services
from sharing.loans.models import Booking, BookingStatus
from sharing.loans.permissions import (
    can_block_resource,
    can_cancel_booking,
    can_decide_booking,
    can_hand_over_booking,
    can_request_booking,
)
from sharing.loans.schemas import (
    BlockArgs,
    BookingArgs,
    BookingListArgs,
    HandoverArgs,
    NoteArgs,
    ReasonArgs,
)
from sharing.web import (
    LocalTimeError,
    absolute_url,
    form_errors,
    local_datetime,
    local_day_bounds,
    period,
    query_args,
    require,
    require_local,
    safe_next,
    user_zone,
)

bp = Blueprint("loans", __name__, template_folder="templates")

# How the form inputs are called on the page (for the error summaries and flash messages).
FORM_LABELS = {
    "start_date": "Date de début",
    "start_time": "Heure de début",
    "end_date": "Date de fin",
    "end_time": "Heure de fin",
    "note": "Note",
    "block_start_date": "Début du blocage (date)",
    "block_start_time": "Début du blocage (heure)",
    "block_end_date": "Fin du blocage (date)",
    "block_end_time": "Fin du blocage (heure)",
    "block_reason": "Motif",
    "reason": "Motif",
    "condition": "État du matériel",
    "notes": "Remarques",
}
# A period is typed as two date inputs and two time inputs.
PERIOD_INPUTS = {"starts_at": ("start_date", "start_time"), "ends_at": ("end_date", "end_time")}
KIND_LABELS = {"booking": "réservé", "block": "bloqué"}
WEEKDAYS = [
    ("lun.", "lundi"),
    ("mar.", "mardi"),
    ("mer.", "mercredi"),
    ("jeu.", "jeudi"),
    ("ven.", "vendredi"),
    ("sam.", "samedi"),
    ("dim.", "dimanche"),
]
MONTH = re.compile(r"^(\d{4})-(\d{2})$")
DASHBOARD_LIMIT = 20


# --- Which actions a user may take on a booking now -------------------------------------------

ACTIONS: dict[str, tuple[BookingStatus, Callable[[User, Booking], bool]]] = {
    "approve": (BookingStatus.APPROVED, can_decide_booking),
    "decline": (BookingStatus.DECLINED, can_decide_booking),
    "cancel": (BookingStatus.CANCELLED, can_cancel_booking),
    "pickup": (BookingStatus.PICKED_UP, can_hand_over_booking),
    "return": (BookingStatus.RETURNED, can_hand_over_booking),
}


@bp.app_template_global()
def booking_actions(user: User, booking: Booking) -> list[str]:
    """The buttons to show: the role allows the action and so does the lifecycle. A request
    past its expiry is expired for everyone, even before the expiry job has run."""
    if booking.status == BookingStatus.REQUESTED and not booking.holds_slot:
        return []
    return [
        name
        for name, (status, allowed) in ACTIONS.items()
        if allowed(user, booking) and booking.can_become(status)
    ]


@bp.app_template_global()
def booking_counterpart(user: User, booking: Booking) -> str:
    """The other side of a booking, as the user's régie sees it."""
    if booking.borrower_regie_id == booking.lender_regie_id:
        return "Matériel de votre régie, pour votre régie"
    if booking.borrower_regie_id == user.regie_id:
        return f"Emprunt à {booking.lender_regie.name}"
    return f"Prêt à {booking.borrower_regie.name}"


# --- The resource page: month calendar, booking form, block form ------------------------------


@dataclass
class CalendarDay:
    day: date
    kind: str | None  # "booking" or "block" when something holds the resource that day
    whole: bool  # held all day long
    today: bool
    past: bool

    @property
    def label(self) -> str:
        return "occupé" if self.kind == "booking" else "bloqué"


def parse_month(text: str | None, zone: ZoneInfo) -> date:
    """The first day of the ``?mois=YYYY-MM`` month (this month when absent)."""
    if not text or not text.strip():
        return datetime.now(zone).date().replace(day=1)
    match = MONTH.match(text.strip())
    if not match or not 1 <= int(match[2]) <= 12 or not 2000 <= int(match[1]) <= 2200:
        raise DomainError(
            "Paramètre de recherche invalide (« mois » : indiquez l'année et le mois, "
            "par exemple 2027-03).",
            code="invalid_query",
        )
    return date(int(match[1]), int(match[2]), 1)


def month_calendar(resource: Resource, first: date, zone: ZoneInfo) -> dict[str, Any]:
    """A month of ``resource``'s availability, day by day in ``zone``, from one query."""
    now = utcnow()
    following = (first + timedelta(days=32)).replace(day=1)
    previous = (first - timedelta(days=1)).replace(day=1)
    start, _ = local_day_bounds(first, zone)
    end, _ = local_day_bounds(following, zone)
    busy = services.availability(resource, start, end, now)
    today = now.astimezone(zone).date()
    weeks: list[list[CalendarDay | None]] = []
    for week in Calendar().monthdatescalendar(first.year, first.month):
        row: list[CalendarDay | None] = []
        for day in week:
            if day.month != first.month:
                row.append(None)
                continue
            day_start, day_end = local_day_bounds(day, zone)
            periods = [p for p in busy if p["starts_at"] < day_end and p["ends_at"] > day_start]
            kinds = {p["kind"] for p in periods}
            kind = "booking" if "booking" in kinds else ("block" if kinds else None)
            row.append(
                CalendarDay(
                    day=day,
                    kind=kind,
                    whole=_covers(periods, day_start, day_end),
                    today=day == today,
                    past=day < today,
                )
            )
        weeks.append(row)
    return {
        "title": format_date(first, "LLLL y", locale="fr"),
        "month": f"{first:%Y-%m}",
        "previous": f"{previous:%Y-%m}",
        "previous_title": format_date(previous, "LLLL y", locale="fr"),
        "next": f"{following:%Y-%m}",
        "next_title": format_date(following, "LLLL y", locale="fr"),
        "weeks": weeks,
        "busy": busy,
    }


def _covers(periods: list[dict[str, Any]], start: datetime, end: datetime) -> bool:
    reached = start
    for busy in sorted(periods, key=lambda p: p["starts_at"]):
        if busy["starts_at"] > reached:
            break
        reached = max(reached, busy["ends_at"])
    return reached >= end


def resource_panel(
    resource: Resource,
    month: str | None,
    *,
    booking: dict[str, Any] | None = None,
    block: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What the resource page shows about loans: the month calendar, the booking form and,
    for the owner's managers, the block form (with the values and errors of a refused one)."""
    zone = user_zone()
    blank = {"values": {"start_time": "09:00", "end_time": "17:00"}, "errors": {}}
    return {
        "calendar": month_calendar(resource, parse_month(month, zone), zone),
        "zone_name": zone.key,
        "weekdays": WEEKDAYS,
        "kind_labels": KIND_LABELS,
        "form_labels": FORM_LABELS,
        "booking": booking or blank,
        "block": block or {"values": {}, "errors": {}},
    }


def _load_period_form(
    schema: Schema,
    form: MultiDict[str, str],
    prefix: str,
    fields: dict[str, str],
    fixed: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Load a form whose period is typed as local dates and times, with the API's schema.

    ``fields`` maps the schema's other fields to their inputs, ``fixed`` gives the values that
    come from the page, not the form. Error messages are keyed by the inputs' names, so that
    each one goes next to its input."""
    zone = user_zone()
    errors: dict[str, list[str]] = {}
    data: dict[str, Any] = dict(fixed or {})
    for name, (day_input, clock_input) in PERIOD_INPUTS.items():
        day, clock = form.get(prefix + day_input, ""), form.get(prefix + clock_input, "")
        if not day.strip():
            errors[prefix + day_input] = ["Indiquez la date."]
        if not clock.strip():
            errors[prefix + clock_input] = ["Indiquez l'heure."]
        if not day.strip() or not clock.strip():
            continue
        try:
            data[name] = local_datetime(day, clock, zone).isoformat()
        except LocalTimeError as error:
            part = day_input if error.part == "date" else clock_input
            errors[prefix + part] = [error.message]
    for name, input_name in fields.items():
        value = form.get(input_name, "")
        if value.strip():
            data[name] = value
    if errors:
        raise Invalid("Certaines valeurs ne sont pas valides.", fields=errors)
    try:
        return dict(schema.load(data))
    except ValidationError as error:
        messages = dict(error.normalized_messages())
        raise Invalid(
            "Certaines valeurs ne sont pas valides.",
            fields=_input_errors(messages, prefix, fields),
        ) from None


def _input_errors(
    messages: dict[str, Any], prefix: str, fields: dict[str, str] | None = None
) -> dict[str, Any]:
    """Rename the schema's and the service's field names to the form's input names (names
    that are input names already stay)."""
    names = {
        "starts_at": prefix + "start_date",
        "ends_at": prefix + "end_date",
        "resource_id": "_schema",
    } | (fields or {})
    renamed: dict[str, Any] = {}
    for name, value in messages.items():
        key = names.get(name, name)
        renamed[key] = [*renamed.get(key, []), *(value if isinstance(value, list) else [value])]
    return renamed


def _month_of(form: MultiDict[str, str], name: str) -> str | None:
    value = form.get(name, "").strip()
    return value[:7] if re.match(r"^\d{4}-\d{2}-\d{2}$", value) else None


def _resource_page(resource: Resource, status: int, **forms: dict[str, Any]) -> Any:
    """The resource page again, with a refused form's values and messages."""
    prefix = "block_" if "block" in forms else ""
    month = _month_of(request.form, prefix + "start_date")
    try:
        panel = resource_panel(resource, month, **forms)
    except DomainError:  # a typed year the calendar does not show
        panel = resource_panel(resource, None, **forms)
    return render_template("catalogue/resource.html", resource=resource, **panel), status


def _refused(resource: Any, error: Conflict, conflicts: Any) -> Any:
    """The resource page again, 409, with the refusal and the busy periods."""
    refused = {
        "values": request.form,
        "errors": {},
        "conflict": error.message,
        "conflicts": conflicts,
    }
    return _resource_page(resource, 409, booking=refused)


def _conflicts(error: Conflict) -> list[dict[str, Any]]:
    """The busy periods of a ``booking_conflict``, as datetimes to show in local time."""
    return [
        {
            "starts_at": datetime.fromisoformat(c["starts_at"]),
            "ends_at": datetime.fromisoformat(c["ends_at"]),
            "kind": c.get("kind", "booking"),
        }
        for c in error.details.get("conflicts", [])
    ]


@bp.post("/materiel/<uuid:resource_id>/reserver")
@login_required
def request_booking(resource_id: uuid.UUID) -> Any:
    """The resource page's booking form: a request over a period typed in local time."""
    resource = get_resource(resource_id)
    require(can_request_booking(current_user, resource), "Votre régie ne peut pas réserver.")
    data: dict[str, Any] = {}
    try:
        fixed = {"resource_id": str(resource.id)}
        data = _load_period_form(BookingArgs(), request.form, "", {"note": "note"}, fixed)
        booking = services.request_booking(current_user, data)
    except Invalid as error:
        db.session.rollback()
        errors = _input_errors(form_errors(error), "")
        return _resource_page(resource, 422, booking={"values": request.form, "errors": errors})
    except Conflict as error:
        db.session.rollback()
        conflicts = _conflicts(error)
        if not conflicts and data:  # the database's own guard answered: look the periods up
            conflicts = services.availability(resource, data["starts_at"], data["ends_at"])
        return _refused(resource, error, conflicts)
    db.session.commit()
    if booking.status == BookingStatus.FORWARDING:
        try:
            services.send_waiting_messages(booking)  # the owner's instance decides
        except Conflict as error:
            return _refused(resource, error, _conflicts(error))
        except Invalid as error:
            flash(_error_text(error), "error")
            return _resource_page(resource, 422, booking={"values": request.form, "errors": {}})
    if booking.status == BookingStatus.FORWARDING:
        flash(
            f"Votre demande pour « {resource.name} » est en cours de transmission à l'instance "
            f"de {resource.regie.name} : elle partira dès qu'elle répondra.",
            "success",
        )
        return redirect(url_for(".booking", booking_id=booking.id))
    flash(
        f"Votre demande pour « {resource.name} » est envoyée à {resource.regie.name}, "
        "qui va l'accepter ou la refuser.",
        "success",
    )
    return redirect(url_for(".booking", booking_id=booking.id))


@bp.post("/materiel/<uuid:resource_id>/bloquer")
@login_required
def add_block(resource_id: uuid.UUID) -> Any:
    """The owner's form that keeps a period for maintenance or the régie's own use."""
    resource = get_resource(resource_id)
    require_local(resource, "Ce matériel ne se modifie que sur son instance d'origine")
    require(
        can_block_resource(current_user, resource),
        "Seuls les responsables de la régie propriétaire bloquent des périodes.",
    )
    try:
        data = _load_period_form(BlockArgs(), request.form, "block_", {"reason": "block_reason"})
        services.add_block(current_user, resource, data)
    except Invalid as error:
        db.session.rollback()
        errors = _input_errors(form_errors(error), "block_", {"reason": "block_reason"})
        return _resource_page(resource, 422, block={"values": request.form, "errors": errors})
    except Conflict as error:
        db.session.rollback()
        busy = "; ".join(
            f"{period(c['starts_at'], c['ends_at'])} ({KIND_LABELS.get(c['kind'], c['kind'])})"
            for c in _conflicts(error)
        )
        message = f"{error.message} Périodes prises : {busy}." if busy else error.message
        refused = {"values": request.form, "errors": {"_schema": [message]}}
        return _resource_page(resource, 409, block=refused)
    db.session.commit()
    flash("La période est bloquée : personne ne peut plus la réserver.", "success")
    return redirect(url_for("catalogue.resource", resource_id=resource.id) + "#disponibilites")


# --- Mes réservations and a booking's page -----------------------------------------------------


def _with_regies(stmt: Select[Any]) -> Select[Any]:
    """Load both régies of every listed booking in two queries, not two per booking."""
    return stmt.options(selectinload(Booking.borrower_regie), selectinload(Booking.lender_regie))


@bp.get("/reservations")
@login_required
def bookings() -> Any:
    """The régie's bookings as borrower and as lender, latest first, with their actions."""
    args = query_args(BookingListArgs())
    stmt = services.list_bookings(current_user, args.get("as_"), args.get("status"))
    stmt = _with_regies(stmt.order_by(None).order_by(Booking.starts_at.desc(), Booking.id))
    regie = current_user.regie
    return render_template(
        "loans/bookings.html",
        results=paginate(stmt, args["page"], args["per_page"]),
        role=args.get("as_"),
        status=args.get("status"),
        calendar_url=absolute_url(
            "loans_api.calendar_feed", regie_id=regie.id, token=regie.calendar_token
        ),
    )


@bp.get("/reservations/<uuid:booking_id>")
@login_required
def booking(booking_id: uuid.UUID) -> Any:
    """One booking for its two régies: period, handovers, history and the allowed actions."""
    return render_template(
        "loans/booking.html", booking=services.get_booking(current_user, booking_id)
    )


def _back(booking_id: uuid.UUID) -> str:
    """Where the action's button was: ``?next=`` if it is a path here, else the booking."""
    target = request.args.get("next", "")
    if target.startswith("/") and "\\" not in target:
        return safe_next(target)
    return url_for(".booking", booking_id=booking_id)


def _act(booking_id: uuid.UUID, schema: Schema, run: Callable[..., Any], done: str) -> Any:
    """Run one lifecycle action from its form, commit once, and go back with a message."""
    back = _back(booking_id)
    booking = services.get_booking(current_user, booking_id)
    try:
        result = run(booking, load_form(schema))
    except (Invalid, Conflict) as error:
        db.session.rollback()
        flash(_error_text(error), "error")
        return redirect(back)
    db.session.commit()
    services.send_waiting_messages(booking)  # another instance's part in it, if any
    if booking.cancel_requested_at is not None:
        done = "Annulation de « {resource} » demandée à l'instance propriétaire du matériel."
    flash(done.format(resource=booking.resource.name, result=result or ""), "success")
    return redirect(back)


def _error_text(error: DomainError) -> str:
    if isinstance(error, Invalid) and error.fields:
        details = " ".join(
            f"{FORM_LABELS.get(name, '')} : {' '.join(messages)}".lstrip(" :")
            for name, messages in form_errors(error).items()
        )
        return f"{error.message} {details}"
    return error.message


@bp.post("/reservations/<uuid:booking_id>/accepter")
@login_required
def approve_booking(booking_id: uuid.UUID) -> Any:
    """The lender's manager accepts a request."""
    return _act(
        booking_id,
        NoteArgs(),
        lambda b, args: services.approve_booking(current_user, b, args["note"]),
        "Demande acceptée : « {resource} » est réservé pour l'emprunteur.",
    )


@bp.post("/reservations/<uuid:booking_id>/refuser")
@login_required
def decline_booking(booking_id: uuid.UUID) -> Any:
    """The lender's manager refuses a request, with an optional reason."""
    return _act(
        booking_id,
        ReasonArgs(),
        lambda b, args: services.decline_booking(current_user, b, args["reason"]),
        "Demande refusée pour « {resource} ».",
    )


@bp.post("/reservations/<uuid:booking_id>/annuler")
@login_required
def cancel_booking(booking_id: uuid.UUID) -> Any:
    """The borrower (before pickup) or the lender's manager cancels, with an optional reason."""
    return _act(
        booking_id,
        ReasonArgs(),
        lambda b, args: services.cancel_booking(current_user, b, args["reason"]),
        "Réservation de « {resource} » annulée.",
    )


@bp.post("/reservations/<uuid:booking_id>/depart")
@login_required
def pickup_booking(booking_id: uuid.UUID) -> Any:
    """The lender records the pickup: the equipment's condition and notes."""

    def run(booking: Booking, args: dict[str, Any]) -> str:
        services.pickup_booking(current_user, booking, args["condition"], args["notes"])
        return CONDITION_LABELS[args["condition"]].lower()

    return _act(
        booking_id, HandoverArgs(), run, "Départ de « {resource} » enregistré (état : {result})."
    )


@bp.post("/reservations/<uuid:booking_id>/retour")
@login_required
def return_booking(booking_id: uuid.UUID) -> Any:
    """The lender records the return; a damaged return puts the equipment in maintenance."""

    def run(booking: Booking, args: dict[str, Any]) -> str:
        services.return_booking(current_user, booking, args["condition"], args["notes"])
        label = CONDITION_LABELS[args["condition"]].lower()
        if args["condition"] == Condition.DAMAGED:
            return f"{label} ; le matériel passe en maintenance"
        return label

    return _act(
        booking_id, HandoverArgs(), run, "Retour de « {resource} » enregistré (état : {result})."
    )


@bp.post("/reservations/calendrier")
@login_required
def regenerate_calendar() -> Any:
    """A manager replaces the régie's feed address; subscriptions to the old one stop."""
    services.regenerate_calendar_token(current_user, current_user.regie)
    db.session.commit()
    flash(
        "Nouvelle adresse de calendrier créée. L'ancienne ne fonctionne plus : "
        "mettez à jour vos abonnements.",
        "success",
    )
    return redirect(url_for(".bookings") + "#calendrier")


# --- The dashboard's loans panels --------------------------------------------------------------


def dashboard_panels(user: User, now: datetime | None = None) -> dict[str, Any]:
    """Requests to decide (managers), today's pickups and returns in the régie's timezone, and
    overdue loans, each list cut at ``DASHBOARD_LIMIT``."""
    now = now or utcnow()
    zone = ZoneInfo(user.regie.timezone)
    start, end = local_day_bounds(now.astimezone(zone).date(), zone)

    def first(stmt: Select[Any]) -> list[Booking]:
        return list(db.session.scalars(_with_regies(stmt).limit(DASHBOARD_LIMIT)))

    return {
        "to_decide": (
            first(queries.requests_to_decide(user.regie_id, now)) if user.is_manager else None
        ),
        "pickups": first(queries.pickups_between(user.regie_id, start, end)),
        "returns": first(queries.returns_between(user.regie_id, start, end)),
        "overdue": first(queries.overdue_loans(user.regie_id, now)),
        "limit": DASHBOARD_LIMIT,
    }

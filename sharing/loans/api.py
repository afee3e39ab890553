"""Loans API: bookings and their lifecycle, availability, blocks, iCalendar feeds."""

import uuid
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, url_for
from flask_login import current_user
from flask_smorest import Blueprint

from sharing.catalogue.services import get_resource
from sharing.extensions import db
from sharing.http import paginate
from sharing.loans import calendar, queries, services
from sharing.loans.models import Booking, BookingStatus
from sharing.loans.schemas import (
    AvailabilityArgs,
    AvailabilitySchema,
    BlockArgs,
    BlockSchema,
    BookingArgs,
    BookingListArgs,
    BookingPageSchema,
    BookingSchema,
    CalendarArgs,
    CalendarUrlSchema,
    HandoverArgs,
    NoteArgs,
    ReasonArgs,
)
from sharing.regies.services import get_regie
from sharing.security import protect_api, public

bp = Blueprint("loans_api", __name__, url_prefix="/api/v1", description="Réservations")
bp.before_request(protect_api)


@bp.post("/bookings")
@bp.arguments(BookingArgs)
@bp.response(201, BookingSchema)
@bp.alt_response(409, description="booking_conflict: `details.conflicts` lists busy periods")
@bp.alt_response(
    202,
    schema=BookingSchema,
    description="`forwarding`: the resource's own instance could not be reached; queued",
)
def request_booking(args: dict[str, Any]) -> Any:
    """Ask for a resource over a half-open period; the answer is `requested`. A resource of
    another instance is asked of it: its answer, or 202 `forwarding` while it is unreachable."""
    booking = services.request_booking(current_user, args)
    db.session.commit()
    if booking.status == BookingStatus.FORWARDING:
        services.send_waiting_messages(booking)  # raises the origin's refusal
        if booking.status == BookingStatus.FORWARDING:
            return booking, 202
    return booking


@bp.get("/bookings")
@bp.arguments(BookingListArgs, location="query")
@bp.response(200, BookingPageSchema)
def list_bookings(args: dict[str, Any]) -> Any:
    """Your régie's bookings, as borrower and as lender."""
    stmt = services.list_bookings(current_user, args.get("as_"), args.get("status"))
    return paginate(stmt, args["page"], args["per_page"])


@bp.get("/bookings/<uuid:booking_id>")
@bp.response(200, BookingSchema)
def get_booking(booking_id: uuid.UUID) -> Booking:
    """One booking, for the borrowing and lending régies only."""
    return services.get_booking(current_user, booking_id)


def _transition(booking_id: uuid.UUID, action: Callable[..., Booking], *args: Any) -> Booking:
    booking = action(current_user, services.get_booking(current_user, booking_id), *args)
    db.session.commit()
    services.send_waiting_messages(booking)  # another instance's part in it, if any
    return booking


@bp.post("/bookings/<uuid:booking_id>/approve")
@bp.arguments(NoteArgs, required=False)
@bp.response(200, BookingSchema)
def approve_booking(args: dict[str, Any], booking_id: uuid.UUID) -> Booking:
    """The lender's manager accepts the request."""
    return _transition(booking_id, services.approve_booking, args.get("note", ""))


@bp.post("/bookings/<uuid:booking_id>/decline")
@bp.arguments(ReasonArgs, required=False)
@bp.response(200, BookingSchema)
def decline_booking(args: dict[str, Any], booking_id: uuid.UUID) -> Booking:
    """The lender's manager refuses the request."""
    return _transition(booking_id, services.decline_booking, args.get("reason", ""))


@bp.post("/bookings/<uuid:booking_id>/cancel")
@bp.arguments(ReasonArgs, required=False)
@bp.response(200, BookingSchema)
@bp.alt_response(
    202,
    schema=BookingSchema,
    description="A booking another instance decides: the cancellation is asked of it, "
    "and the status changes when it answers",
)
def cancel_booking(args: dict[str, Any], booking_id: uuid.UUID) -> Any:
    """The borrower (before pickup) or the lender's manager cancels."""
    booking = _transition(booking_id, services.cancel_booking, args.get("reason", ""))
    if booking.cancel_requested_at is not None:
        return booking, 202
    return booking


@bp.post("/bookings/<uuid:booking_id>/pickup")
@bp.arguments(HandoverArgs)
@bp.response(200, BookingSchema)
def pickup_booking(args: dict[str, Any], booking_id: uuid.UUID) -> Booking:
    """The lender records the pickup and the condition of the equipment."""
    return _transition(booking_id, services.pickup_booking, args["condition"], args["notes"])


@bp.post("/bookings/<uuid:booking_id>/return")
@bp.arguments(HandoverArgs)
@bp.response(200, BookingSchema)
def return_booking(args: dict[str, Any], booking_id: uuid.UUID) -> Booking:
    """The lender records the return; `damaged` puts the resource in maintenance."""
    return _transition(booking_id, services.return_booking, args["condition"], args["notes"])


@bp.get("/resources/<uuid:resource_id>/availability")
@bp.arguments(AvailabilityArgs, location="query")
@bp.response(200, AvailabilitySchema)
def availability(args: dict[str, Any], resource_id: uuid.UUID) -> dict[str, Any]:
    """Busy periods of a resource (bookings and blocks), without who borrowed it."""
    resource = get_resource(resource_id)
    return {"busy": services.availability(resource, args["from_"], args["to"])}


@bp.post("/resources/<uuid:resource_id>/blocks")
@bp.arguments(BlockArgs)
@bp.response(201, BlockSchema)
def add_block(args: dict[str, Any], resource_id: uuid.UUID) -> Any:
    """The owner keeps a period for itself (maintenance, own use)."""
    block = services.add_block(current_user, get_resource(resource_id), args)
    db.session.commit()
    return block


@bp.post("/regies/<uuid:regie_id>/calendar-token")
@bp.response(200, CalendarUrlSchema)
def regenerate_calendar_token(regie_id: uuid.UUID) -> dict[str, str]:
    """A new secret for the régie's feed; the old URL stops working."""
    regie = get_regie(regie_id)
    token = services.regenerate_calendar_token(current_user, regie)
    db.session.commit()
    return {"calendar_url": calendar_url(regie_id, token)}


@bp.get("/regies/<uuid:regie_id>/calendar.ics")
@bp.doc(security=[])
@public
@bp.arguments(CalendarArgs, location="query")
@bp.doc(
    responses={
        "200": {
            "description": "The feed (RFC 5545)",
            "content": {"text/calendar": {"schema": {"type": "string"}}},
        }
    }
)
def calendar_feed(args: dict[str, Any], regie_id: uuid.UUID) -> Response:
    """The régie's bookings as lender and borrower, for calendar apps."""
    regie = services.regie_for_feed(regie_id, args["token"])
    bookings = db.session.scalars(queries.bookings_of_regie(regie.id))
    body = calendar.build_feed(regie, bookings, current_app.config["INSTANCE_URL"])
    return Response(body, mimetype="text/calendar", headers={"Cache-Control": "private"})


def calendar_url(regie_id: uuid.UUID, token: str) -> str:
    """The absolute URL of a régie's feed, as calendar apps subscribe to it."""
    path = url_for("loans_api.calendar_feed", regie_id=regie_id, token=token)
    return current_app.config["INSTANCE_URL"].rstrip("/") + path

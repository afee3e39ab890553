"""Loan schemas: ``BookingSchema`` dumps, ``BookingArgs`` and friends load."""

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from sharing.catalogue.models import Condition
from sharing.http import Args, PageArgs, Text, Timestamp, page_schema
from sharing.loans.models import BookingStatus

HANDOVER_CONDITIONS = [Condition.GOOD, Condition.WORN, Condition.DAMAGED]


class PeriodArgs(Args):
    """A half-open period ``[starts_at, ends_at)``."""

    starts_at = Timestamp(required=True)
    ends_at = Timestamp(required=True)

    @validates_schema
    def validate_order(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "starts_at" in data and "ends_at" in data and data["ends_at"] <= data["starts_at"]:
            raise ValidationError("La fin doit suivre le début.", "ends_at")


class BookingArgs(PeriodArgs):
    resource_id = fields.UUID(required=True)
    note = Text(load_default="", validate=validate.Length(max=2000))


class BlockArgs(PeriodArgs):
    reason = Text(load_default="", validate=validate.Length(max=200))


class ReasonArgs(Args):
    reason = Text(load_default="", validate=validate.Length(max=2000))


class NoteArgs(Args):
    note = Text(load_default="", validate=validate.Length(max=2000))


class HandoverArgs(Args):
    condition = fields.Enum(
        Condition,
        by_value=True,
        required=True,
        validate=validate.OneOf(HANDOVER_CONDITIONS, error="good, worn ou damaged."),
    )
    notes = Text(load_default="", validate=validate.Length(max=5000))


class BookingListArgs(PageArgs):
    as_ = fields.String(
        data_key="as",
        validate=validate.OneOf(["borrower", "lender"]),
        metadata={"description": "Only the bookings where your régie is the borrower or lender"},
    )
    status = fields.Enum(BookingStatus, by_value=True)


class AvailabilityArgs(Args):
    from_ = Timestamp(required=True, data_key="from")
    to = Timestamp(required=True)

    @validates_schema
    def validate_window(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "from_" in data and "to" in data:
            if data["to"] <= data["from_"]:
                raise ValidationError("« to » doit suivre « from ».", "to")
            if (data["to"] - data["from_"]).days > 366:
                raise ValidationError("Une année au plus.", "to")


class CalendarArgs(Args):
    token = fields.String(required=True, validate=validate.Length(max=100))


class HistorySchema(Schema):
    at = Timestamp()
    by = fields.Function(lambda e: e.by.name if e.by else "système")
    from_ = fields.Function(
        lambda e: e.from_status.value if e.from_status else None, data_key="from"
    )
    to = fields.Function(lambda e: e.to_status.value)
    note = fields.String()


class ResourceRefSchema(Schema):
    id = fields.UUID()
    name = fields.String()


class BookingSchema(Schema):
    id = fields.UUID()
    resource_id = fields.UUID()
    resource = fields.Nested(ResourceRefSchema)
    borrower_regie_id = fields.UUID()
    lender_regie_id = fields.UUID()
    starts_at = Timestamp()
    ends_at = Timestamp()
    status = fields.Enum(BookingStatus, by_value=True)
    is_overdue = fields.Boolean()
    expires_at = Timestamp(allow_none=True)
    note = fields.String()
    pickup_condition = fields.Enum(Condition, by_value=True, allow_none=True)
    pickup_notes = fields.String(allow_none=True)
    return_condition = fields.Enum(Condition, by_value=True, allow_none=True)
    return_notes = fields.String(allow_none=True)
    history = fields.List(fields.Nested(HistorySchema))
    created_at = Timestamp()
    updated_at = Timestamp()


BookingPageSchema = page_schema(BookingSchema, "BookingPage")


class BusySchema(Schema):
    starts_at = Timestamp()
    ends_at = Timestamp()
    kind = fields.String(metadata={"description": "`booking` or `block`"})


class AvailabilitySchema(Schema):
    busy = fields.List(fields.Nested(BusySchema))


class BlockSchema(Schema):
    id = fields.UUID()
    resource_id = fields.UUID()
    starts_at = Timestamp()
    ends_at = Timestamp()
    reason = fields.String()


class CalendarUrlSchema(Schema):
    calendar_url = fields.String()

"""Audit log schemas: the listing's filters and one event as the API shows it."""

from marshmallow import Schema, fields, validate

from sharing.audit.models import ACTION_LABELS
from sharing.http import PageArgs, Timestamp, page_schema


class AuditListArgs(PageArgs):
    action = fields.String(
        validate=validate.OneOf(list(ACTION_LABELS)),
        metadata={"description": "Only this action (e.g. login.failure)."},
    )


class AuditEventSchema(Schema):
    id = fields.UUID()
    at = Timestamp()
    actor_id = fields.UUID(allow_none=True)
    actor = fields.String()
    regie_id = fields.UUID(allow_none=True)
    action = fields.String()
    target = fields.String()
    ip = fields.String(allow_none=True)
    details = fields.Dict()


AuditEventPageSchema = page_schema(AuditEventSchema, "AuditEventPage")

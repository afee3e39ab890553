"""Records on the wire (docs/federation.md §7.3): how a régie, a resource and a document this
instance owns are written in the change feed, and how a peer's are read back and checked.

A record is its full state (not a delta). Resources and documents carry their régie's record
in ``regie``: a replica can always apply a record on its own, whatever order pages come in.
The load schemas are the API's own input schemas (the same rules as a local edit) plus the
identity fields; fields a newer peer adds are ignored.
"""

import json
import uuid
from collections.abc import Iterable
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from sqlalchemy import ColumnElement, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY

from sharing.catalogue.models import Resource, ResourceStatus
from sharing.catalogue.schemas import ResourceArgs
from sharing.db import Base, rfc3339
from sharing.extensions import db
from sharing.http import Int, Timestamp
from sharing.library import files
from sharing.library.models import Document
from sharing.library.schemas import DocumentArgs
from sharing.regies.models import Regie
from sharing.regies.schemas import RegieArgs

REGIE, RESOURCE, DOCUMENT = "regie", "resource", "document"
MODELS: dict[str, type[Base]] = {REGIE: Regie, RESOURCE: Resource, DOCUMENT: Document}
TYPES: dict[type[Base], str] = {model: name for name, model in MODELS.items()}


# Writing ----------------------------------------------------------------------------------


def dump_regie(regie: Regie) -> dict[str, Any]:
    return {
        "id": str(regie.id),
        "version": regie.version,
        "name": regie.name,
        "slug": regie.slug,
        "city": regie.city,
        "postcode": regie.postcode,
        "timezone": regie.timezone,
        "contact_email": regie.contact_email,
        "contact_phone": regie.contact_phone,
    }


def dump_resource(resource: Resource) -> dict[str, Any]:
    def euros(value: Any) -> float | None:
        return None if value is None else float(value)

    return {
        "id": str(resource.id),
        "version": resource.version,
        "regie_id": str(resource.regie_id),
        "regie": dump_regie(resource.regie),
        "name": resource.name,
        "description": resource.description,
        "category": resource.category,
        "condition": resource.condition.value,
        "location": resource.location,
        "status": resource.status.value,
        "deposit_eur": euros(resource.deposit_eur),
        "replacement_value_eur": euros(resource.replacement_value_eur),
        "max_loan_days": resource.max_loan_days,
        "min_notice_hours": resource.min_notice_hours,
        "requirements": resource.requirements,
        "created_at": rfc3339(resource.created_at),
    }


def dump_document(document: Document) -> dict[str, Any]:
    return {
        "id": str(document.id),
        "version": document.version,
        "regie_id": str(document.regie_id),
        "regie": dump_regie(document.regie),
        "title": document.title,
        "summary": document.summary,
        "body": document.body,
        "themes": document.themes,
        "tags": document.tags,
        "type": document.type.value,
        "licence": document.licence,
        "attachments": [
            {
                "sha256": attachment.sha256,
                "size": attachment.size,
                "media_type": attachment.media_type,
                "filename": attachment.filename,
            }
            for attachment in document.attachments
        ],
        "created_at": rfc3339(document.created_at),
    }


DUMPERS: dict[str, Any] = {REGIE: dump_regie, RESOURCE: dump_resource, DOCUMENT: dump_document}


def load_many(record_type: str, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Any]:
    """The records of one type by id, with what their dump reads (the models load a
    record's régie, themes and tags with it)."""
    model: Any = MODELS[record_type]
    return {r.id: r for r in db.session.scalars(select(model).where(among(model.id, ids)))}


def among(column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """``column IN values``; on PostgreSQL ``column = ANY(:values)``, one array parameter
    rather than one per value. psycopg keeps its parse of a statement only up to 50
    parameters, and a sync page asks for hundreds of ids: each such statement was parsed
    anew, by psycopg and by the server, several times a page."""
    values = list(values)
    if db.session.get_bind().dialect.name != "postgresql":
        return column.in_(values)
    return column == any_(bindparam(None, values, type_=ARRAY(column.type)))


# Reading ----------------------------------------------------------------------------------


class _Identity(Schema):
    """What every record carries besides its content."""

    class Meta:
        unknown = EXCLUDE

    id = fields.UUID(required=True)
    version = Int(required=True, validate=validate.Range(min=1, max=2**31 - 1))


class RegieRecord(_Identity, RegieArgs):
    class Meta:
        unknown = EXCLUDE


class ResourceRecord(_Identity, ResourceArgs):
    """A resource: its status may be any (a retired resource stays listed at its origin).
    Its ``regie`` is checked by ``RecordReader``."""

    class Meta:
        unknown = EXCLUDE

    regie_id = fields.UUID(required=True)
    regie = fields.Dict(required=True)
    status = fields.Enum(ResourceStatus, by_value=True, required=True)
    created_at = Timestamp(load_default=None)


class AttachmentRecord(Schema):
    class Meta:
        unknown = EXCLUDE

    sha256 = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))
    size = Int(required=True, validate=validate.Range(min=0, max=2**40))
    media_type = fields.String(required=True, validate=validate.OneOf(list(files.EXTENSIONS)))
    filename = fields.String(required=True, validate=validate.Length(min=1, max=255))


class DocumentRecord(_Identity, DocumentArgs):
    """A document. Its ``regie`` is checked by ``RecordReader``."""

    class Meta:
        unknown = EXCLUDE

    regie_id = fields.UUID(required=True)
    regie = fields.Dict(required=True)
    attachments = fields.List(
        fields.Nested(AttachmentRecord), load_default=list, validate=validate.Length(max=100)
    )
    created_at = Timestamp(load_default=None)


LOADERS: dict[str, Schema] = {
    REGIE: RegieRecord(),
    RESOURCE: ResourceRecord(),
    DOCUMENT: DocumentRecord(),
}


class RecordReader:
    """Checks the records of a page with ``LOADERS``. The régie that resources and documents
    embed is the same in many records of a page: each distinct one is checked once."""

    def __init__(self) -> None:
        self._regies: dict[str, dict[str, Any]] = {}

    def load(self, record_type: str, data: Any) -> dict[str, Any]:
        """The record ``data`` checked and converted; ValidationError if it is not valid."""
        record: dict[str, Any] = LOADERS[record_type].load(data)
        if record_type != REGIE:
            record["regie"] = self._regie(record["regie"])
        return record

    def _regie(self, data: dict[str, Any]) -> dict[str, Any]:
        key = json.dumps(data, sort_keys=True)
        if key not in self._regies:
            try:
                self._regies[key] = LOADERS[REGIE].load(data)
            except ValidationError as error:
                raise ValidationError({"regie": error.messages}) from None
        return dict(self._regies[key])

"""Library schemas: ``DocumentSchema`` and friends dump, ``DocumentArgs`` loads."""

import re
from typing import Any

from flask import url_for
from marshmallow import Schema, ValidationError, fields, validate

from sharing.http import Args, PageArgs, PageSchema, Text, Timestamp
from sharing.library.markdown import render_markdown
from sharing.library.models import DEFAULT_LICENCE, LICENCES, THEMES, DocumentType
from sharing.library.queries import CANDIDATES, FACET_VALUES
from sharing.regies.schemas import RegieRefSchema, origin_of, validate_instance

MAX_BODY = 200_000


class ThemeSchema(Schema):
    slug = fields.String()
    label = fields.String()


class Tag(Text):
    """A free tag: trimmed, spaces collapsed, lower case (so that « EPI » and « epi » are one
    tag to filter and count)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        tag = re.sub(r"\s+", " ", super()._deserialize(value, attr, data, **kwargs)).casefold()
        if not tag:
            raise ValidationError("Une étiquette ne peut pas être vide.")
        if len(tag) > 50:
            raise ValidationError("50 caractères au plus par étiquette.")
        return tag


class DocumentArgs(Args):
    """A document as its author writes it. PATCH loads it with ``partial=True``."""

    title = Text(required=True, validate=validate.Length(max=200))
    summary = Text(load_default="", validate=validate.Length(max=2000))
    body = fields.String(
        load_default="",
        validate=validate.Length(max=MAX_BODY),
        metadata={
            "description": "Markdown (CommonMark, tables, strikethrough); raw HTML is shown as text"
        },
    )
    themes = fields.List(
        fields.String(validate=validate.OneOf(list(THEMES), error="Thème inconnu.")),
        required=True,
        validate=validate.Length(min=1, max=len(THEMES), error="Choisissez au moins un thème."),
        metadata={"description": "Slugs of GET /api/v1/themes"},
    )
    tags = fields.List(Tag(), load_default=list, validate=validate.Length(max=20))
    type = fields.Enum(DocumentType, by_value=True, required=True)
    licence = fields.String(
        load_default=DEFAULT_LICENCE,
        validate=validate.OneOf(list(LICENCES), error="Licence non proposée."),
        metadata={"description": f"One of {', '.join(LICENCES)}"},
    )


class DocumentPatchArgs(DocumentArgs):
    """The same fields, all optional (loaded with ``partial=True``)."""


class DocumentListArgs(PageArgs):
    q = fields.String(validate=validate.Length(max=200))
    theme = fields.String(validate=validate.OneOf(list(THEMES)))
    type = fields.Enum(DocumentType, by_value=True)
    tag = fields.String(validate=validate.Length(max=50))
    regie = fields.UUID()
    instance = fields.String(
        validate=validate_instance,
        metadata={"description": "`local`, or the id of the instance the documents come from"},
    )


class AttachmentSchema(Schema):
    id = fields.UUID()
    filename = fields.String()
    media_type = fields.String(metadata={"description": "Sniffed from the content"})
    size = fields.Integer(metadata={"description": "Bytes"})
    sha256 = fields.String()
    pending = fields.Boolean(
        attribute="is_pending",
        metadata={"description": "A replica's file not yet fetched from its origin"},
    )
    created_at = Timestamp()
    url = fields.Function(
        lambda a: url_for(
            "library_api.download_attachment", document_id=a.document_id, attachment_id=a.id
        )
    )


class DocumentSummarySchema(Schema):
    id = fields.UUID()
    regie_id = fields.UUID()
    regie = fields.Nested(RegieRefSchema)
    title = fields.String()
    summary = fields.String()
    themes = fields.List(fields.String())
    tags = fields.List(fields.String())
    type = fields.Enum(DocumentType, by_value=True)
    type_label = fields.String()
    licence = fields.String()
    licence_label = fields.String()
    version = fields.Integer()
    created_at = Timestamp()
    updated_at = Timestamp()
    origin = fields.Function(lambda document: origin_of(document.regie))


class DocumentHitSchema(DocumentSummarySchema):
    snippet = fields.String(
        allow_none=True,
        metadata={"description": "With `q`: HTML, the matched words in `<mark>`"},
    )


class DocumentSchema(DocumentSummarySchema):
    body = fields.String(metadata={"description": "Markdown"})
    body_html = fields.Function(
        lambda document: render_markdown(document.body),
        metadata={"description": "The body rendered and sanitised"},
    )
    attachments = fields.List(fields.Nested(AttachmentSchema))


class FacetsSchema(Schema):
    theme = fields.Dict(keys=fields.String(), values=fields.Integer())
    type = fields.Dict(keys=fields.String(), values=fields.Integer())
    regie = fields.Dict(
        keys=fields.String(), values=fields.Integer(), metadata={"description": "By régie id"}
    )
    instance = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": "`local`, or the id of the instance"},
    )


class DocumentPageSchema(PageSchema):
    items = fields.List(fields.Nested(DocumentHitSchema))
    total_is_estimate = fields.Boolean(
        metadata={
            "description": "With `q`, true when the search stopped at its cap of candidates "
            f"({CANDIDATES}): `total` is then a lower bound and the facets count those "
            "candidates"
        }
    )
    facets = fields.Nested(
        FacetsSchema,
        metadata={
            "description": "Counts over the whole filtered result: for each facet, its "
            f"{FACET_VALUES} most frequent values"
        },
    )


class AuthorSchema(Schema):
    id = fields.UUID()
    name = fields.String()


class VersionSummarySchema(Schema):
    number = fields.Integer()
    title = fields.String()
    author = fields.Nested(AuthorSchema, allow_none=True)
    created_at = Timestamp()


class VersionSchema(VersionSummarySchema):
    summary = fields.String()
    body = fields.String()
    body_html = fields.Function(lambda version: render_markdown(version.body))
    themes = fields.List(fields.String())
    tags = fields.List(fields.String())
    type = fields.Enum(DocumentType, by_value=True)
    type_label = fields.String()
    licence = fields.String()


class FieldChangeSchema(Schema):
    old = fields.Raw(data_key="from")
    new = fields.Raw(data_key="to")


class DiffLineSchema(Schema):
    kind = fields.String(metadata={"description": "`hunk`, `context`, `added` or `removed`"})
    text = fields.String()


class VersionDiffSchema(Schema):
    old = fields.Integer(data_key="from")
    new = fields.Integer(data_key="to")
    changes = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(FieldChangeSchema),
        metadata={"description": "The fields other than the body that differ"},
    )
    body = fields.List(
        fields.Nested(DiffLineSchema), metadata={"description": "A line diff of the bodies"}
    )

"""Catalogue schemas: ``ResourceSchema`` dumps, ``ResourceArgs`` loads."""

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from sharing.catalogue.models import CATEGORIES, Condition, ResourceStatus
from sharing.http import Args, Euros, Int, PageArgs, Text, Timestamp, page_schema
from sharing.regies.schemas import RegieRefSchema, origin_of, validate_instance


class CategorySchema(Schema):
    slug = fields.String()
    label = fields.String()


class ResourceSchema(Schema):
    id = fields.UUID()
    regie_id = fields.UUID()
    regie = fields.Nested(RegieRefSchema)
    name = fields.String()
    description = fields.String()
    category = fields.String()
    category_label = fields.String()
    condition = fields.Enum(Condition, by_value=True)
    location = fields.String()
    status = fields.Enum(ResourceStatus, by_value=True)
    deposit_eur = Euros(allow_none=True)
    replacement_value_eur = Euros(allow_none=True)
    max_loan_days = fields.Integer(allow_none=True)
    min_notice_hours = fields.Integer()
    requirements = fields.String()
    version = fields.Integer()
    created_at = Timestamp()
    updated_at = Timestamp()
    origin = fields.Function(lambda resource: origin_of(resource.regie))


ResourcePageSchema = page_schema(ResourceSchema, "ResourcePage")

EDITABLE_STATUSES = [ResourceStatus.AVAILABLE, ResourceStatus.MAINTENANCE]


class ResourceArgs(Args):
    """A resource as a manager writes it. PATCH loads it with ``partial=True``."""

    name = Text(required=True, validate=validate.Length(max=200))
    description = Text(load_default="", validate=validate.Length(max=5000))
    category = fields.String(
        required=True,
        validate=validate.OneOf(list(CATEGORIES), error="Catégorie inconnue."),
        metadata={"description": "A slug of GET /api/v1/categories"},
    )
    condition = fields.Enum(Condition, by_value=True, load_default=Condition.GOOD)
    location = Text(load_default="", validate=validate.Length(max=200))
    status = fields.Enum(
        ResourceStatus,
        by_value=True,
        load_default=ResourceStatus.AVAILABLE,
        validate=validate.OneOf(EDITABLE_STATUSES, error="Retirez un matériel avec DELETE."),
        metadata={"description": "Retire a resource with DELETE"},
    )
    deposit_eur = Euros(load_default=None, allow_none=True)
    replacement_value_eur = Euros(load_default=None, allow_none=True)
    max_loan_days = Int(load_default=None, allow_none=True, validate=validate.Range(min=1, max=365))
    min_notice_hours = Int(load_default=0, validate=validate.Range(min=0, max=8760))
    requirements = Text(load_default="", validate=validate.Length(max=2000))


class ResourceListArgs(PageArgs):
    q = fields.String(validate=validate.Length(max=200))
    category = fields.String(validate=validate.OneOf(list(CATEGORIES)))
    regie = fields.UUID()
    instance = fields.String(validate=validate_instance)
    status = fields.Enum(ResourceStatus, by_value=True)
    available_from = Timestamp()
    available_to = Timestamp()

    @validates_schema
    def validate_window(self, data: dict[str, Any], **kwargs: Any) -> None:
        start, end = data.get("available_from"), data.get("available_to")
        if (start is None) != (end is None):
            raise ValidationError("Indiquez les deux dates.", "available_to")
        if start is not None and end is not None and end <= start:
            raise ValidationError("La fin doit suivre le début.", "available_to")


class ResourcePatchArgs(ResourceArgs):
    """The same fields, all optional (loaded with ``partial=True``)."""

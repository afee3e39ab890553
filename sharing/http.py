"""What every API and form shares at the HTTP boundary: field types, pagination, form loading."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import has_request_context, request
from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate
from sqlalchemy import Select, func, select

from sharing.db import rfc3339
from sharing.errors import Invalid
from sharing.extensions import db


def _speak_french() -> None:
    """marshmallow's built-in messages are English; the people reading them, in the API's 422
    bodies and beside form fields, read French. Set once, for every schema of the process."""
    messages: dict[Any, dict[str, str]] = {
        fields.Field: {
            "required": "Ce champ est obligatoire.",
            "null": "Ce champ est obligatoire.",
            "validator_failed": "Valeur invalide.",
        },
        fields.String: {"invalid": "Texte attendu.", "invalid_utf8": "Texte mal encodé."},
        fields.Number: {"invalid": "Nombre attendu.", "too_large": "Nombre trop grand."},
        fields.Integer: {"invalid": "Nombre entier attendu."},
        fields.Decimal: {"special": "Nombre attendu."},
        fields.Float: {"special": "Nombre attendu."},
        fields.Boolean: {"invalid": "Oui ou non attendu."},
        fields.DateTime.__mro__[1]: {
            "invalid": "Date et heure invalides (format RFC 3339 attendu).",
            "invalid_awareness": "Date et heure invalides.",
            "format": "Date et heure invalides.",
        },
        fields.UUID: {"invalid_uuid": "Identifiant invalide."},
        fields.Email: {"invalid": "Adresse e-mail invalide."},
        fields.Enum: {"unknown": "Valeur non autorisée (possibles : {choices})."},
        fields.List: {"invalid": "Liste attendue."},
        fields.Nested: {"type": "Objet attendu."},
        fields.Mapping: {"invalid": "Objet attendu."},
    }
    for field_class, french in messages.items():
        field_class.default_error_messages = {**field_class.default_error_messages, **french}
    validate.Length.message_min = "{min} caractères au moins."
    validate.Length.message_max = "{max} caractères au plus."
    validate.Length.message_all = "Entre {min} et {max} caractères."
    validate.Length.message_equal = "Exactement {equal} caractères."
    validate.Range.message_min = "Doit être {min_op} {{min}}."
    validate.Range.message_max = "Doit être {max_op} {{max}}."
    validate.Range.message_all = "Doit être {min_op} {{min}} et {max_op} {{max}}."
    validate.Range.message_gte = "supérieur ou égal à"
    validate.Range.message_gt = "supérieur à"
    validate.Range.message_lte = "inférieur ou égal à"
    validate.Range.message_lt = "inférieur à"
    validate.OneOf.default_message = "Valeur non autorisée (possibles : {choices})."
    validate.Regexp.default_message = "Format invalide."
    validate.Email.default_message = "Adresse e-mail invalide."


_speak_french()


class Args(Schema):
    """Base of every input schema: unknown fields are refused, and so is text that a database
    cannot store (PostgreSQL refuses NUL characters, neither engine takes lone surrogates), so
    that it gets a 422 here instead of a 500 from the driver."""

    class Meta:
        unknown = RAISE

    error_messages = {"unknown": "Champ inconnu.", "type": "Objet JSON attendu."}

    @pre_load
    def refuse_unstorable_text(self, data: Any, **kwargs: Any) -> Any:
        if not isinstance(data, Mapping):
            return data  # marshmallow reports the wrong type itself
        errors = {
            str(key): ["Caractères interdits (octet nul ou texte mal encodé)."]
            for key, value in data.items()
            if _unstorable(key) or _unstorable(value)
        }
        if errors:
            raise ValidationError(errors)
        return data


def _unstorable(value: Any) -> bool:
    if isinstance(value, str):
        if "\x00" in value:
            return True
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, Mapping):
        return any(_unstorable(k) or _unstorable(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_unstorable(v) for v in value)
    return False


class Int(fields.Integer):
    """A whole number. Forms, query strings and spreadsheets only have text, so digits are
    welcome there; in a JSON body ``"7"``, ``3.5`` and ``true`` are refused rather than quietly
    turned into 7, 3 and 1."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise self.make_error("invalid")
        if isinstance(value, str) and has_request_context() and request.is_json:
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class Text(fields.String):
    """A string with surrounding whitespace removed; required ones may not be blank."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if self.required and not text:
            raise ValidationError("Ce champ ne peut pas être vide.")
        return text


class Euros(fields.Decimal):
    """An amount in euros; accepts French notation ("1 200,50 €") as well as numbers."""

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("validate", validate.Range(min=0, max=10_000_000))
        super().__init__(places=2, allow_nan=False, **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Decimal:
        if isinstance(value, bool):
            raise ValidationError("Montant invalide.")
        if isinstance(value, str):
            value = parse_french_decimal(value)
        return super()._deserialize(value, attr, data, **kwargs)

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> Any:
        return None if value is None else float(value)  # JSON numbers, not strings


def parse_french_decimal(text: str) -> str:
    """Turn "1 200,50 €" or "1200.5" into "1200.50"-style text a Decimal accepts."""
    cleaned = re.sub(r"[\s\u00a0\u202f€]", "", text)
    if "," in cleaned:
        cleaned = cleaned.replace(".", "").replace(",", ".")
    try:
        Decimal(cleaned)
    except InvalidOperation:
        raise ValidationError("Montant invalide.") from None
    return cleaned


class Timestamp(fields.DateTime):
    """RFC 3339: any offset on input (a naive time is refused), UTC with ``Z`` on output."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> datetime:
        parsed = super()._deserialize(value, attr, data, **kwargs)
        if parsed.tzinfo is None:
            raise ValidationError("Indiquez le fuseau horaire (par exemple Z ou +02:00).")
        try:
            return parsed.astimezone(UTC)
        except OverflowError:  # 0001-01-01T00:00+01:00 is before year 1 in UTC
            raise ValidationError("Date hors des limites.") from None

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else rfc3339(value)


class PageArgs(Args):
    # Bounded so that OFFSET fits in a 64-bit integer: larger pages were a 500 on both engines.
    page = Int(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = Int(load_default=50, validate=validate.Range(min=1, max=200))


class PageSchema(Schema):
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


def page_schema(item_schema: type[Schema], name: str) -> type[Schema]:
    """A ``{items, total, page, per_page}`` schema around ``item_schema``."""
    return type(name, (PageSchema,), {"items": fields.List(fields.Nested(item_schema))})


@dataclass
class Page:
    items: list[Any]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def paginate(stmt: Select[Any], page: int = 1, per_page: int = 50) -> Page:
    """Run ``stmt`` for one page and count all its rows."""
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = list(db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).unique())
    return Page(items=items, total=total or 0, page=page, per_page=per_page)


# Inputs that drive the form itself rather than carry data: the CSRF token, the pressed button.
FORM_CONTROLS = {"csrf_token", "action"}


def load_form(
    schema: Schema, *, partial: bool = False, lists: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    """Load the submitted HTML form with the API's schema; blank inputs count as absent.
    ``lists`` carries the list-valued fields (repeated checkboxes, split inputs) as built by
    the view, since a form has no lists of its own."""
    data: dict[str, Any] = {
        key: value
        for key, value in request.form.items()
        if key not in FORM_CONTROLS and key not in (lists or {}) and value.strip() != ""
    }
    data.update(lists or {})
    try:
        return schema.load(data, partial=partial)
    except ValidationError as error:
        raise Invalid(
            "Certaines valeurs ne sont pas valides.", fields=dict(error.normalized_messages())
        ) from None

"""Wire format v1: the instance document, dumped for ``GET /federation/v1/instance`` and
loaded (and checked) when we fetch a peer's.

A fetched document ignores fields it does not know, so that a newer peer may add some; it
refuses one whose fingerprint or key id does not follow from its key (docs/federation.md §3).
"""

import re
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from federation import keys
from federation.models import Instance

SOFTWARE = "regies-sharing"
FINGERPRINT = re.compile(r"^[0-9a-f]{64}$")


def software_version() -> str:
    try:
        return version(SOFTWARE)
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "0.0.0"


class InstanceDocumentSchema(Schema):
    """``{instance_id, url, name, public_key, key_id, fingerprint, software, version}``."""

    instance_id = fields.UUID(attribute="id")
    url = fields.String()
    name = fields.String()
    public_key = fields.String(
        metadata={"description": "standard padded base64 of the raw 32-byte Ed25519 key"}
    )
    key_id = fields.String(metadata={"description": "the keyid our signatures carry"})
    fingerprint = fields.String(metadata={"description": "lowercase hex SHA-256 of the key"})
    software = fields.Function(lambda _instance: SOFTWARE)
    version = fields.Function(lambda _instance: software_version())


def dump_instance_document(instance: Instance) -> dict[str, Any]:
    return dict(InstanceDocumentSchema().dump(instance))


class InstanceDocumentArgs(Schema):
    """A peer's instance document, as fetched."""

    class Meta:
        unknown = EXCLUDE

    instance_id = fields.UUID(required=True)
    url = fields.String(required=True, validate=validate.Length(min=1, max=500))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    public_key = fields.String(required=True, validate=validate.Length(max=64))
    key_id = fields.String(required=True, validate=validate.Length(min=1, max=120))
    fingerprint = fields.String(required=True, validate=validate.Regexp(FINGERPRINT))
    software = fields.String(load_default=None)
    version = fields.String(load_default=None)

    @validates_schema
    def key_fields_agree(self, data: dict[str, Any], **kwargs: Any) -> None:
        try:
            public_key = keys.decode_public_key(data["public_key"])
        except ValueError as error:
            raise ValidationError(str(error), "public_key") from None
        if keys.fingerprint(public_key) != data["fingerprint"]:
            raise ValidationError("does not match public_key", "fingerprint")
        if keys.instance_id_of_key_id(data["key_id"]) != str(data["instance_id"]):
            raise ValidationError("must start with the instance_id and '#'", "key_id")

"""Account schemas. No schema ever dumps a password or a token hash."""

from marshmallow import Schema, fields, validate

from sharing.accounts.models import Role
from sharing.http import Args, Text, Timestamp, page_schema
from sharing.regies.schemas import RegieRefSchema


class TokenArgs(Args):
    email = fields.String(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, validate=validate.Length(max=500))
    label = Text(load_default="", validate=validate.Length(max=100))


class NewTokenSchema(Schema):
    id = fields.UUID()
    token = fields.String(metadata={"description": "Shown once; store it safely."})
    label = fields.String()
    created_at = Timestamp()


class MeSchema(Schema):
    id = fields.UUID()
    email = fields.String()
    name = fields.String()
    role = fields.Enum(Role, by_value=True)
    regie = fields.Nested(RegieRefSchema)


UserSchema = MeSchema
UserPageSchema = page_schema(UserSchema, "UserPage")


class UserArgs(Args):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    name = Text(required=True, validate=validate.Length(min=1, max=200))
    password = fields.String(
        required=True,
        load_only=True,
        validate=validate.Length(min=10, max=500, error="Au moins 10 caractères."),
    )
    regie_id = fields.UUID(required=True)
    role = fields.Enum(Role, by_value=True, required=True)

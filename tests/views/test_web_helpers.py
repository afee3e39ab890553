"""Template helpers and the French messages of the schemas behind the forms."""

from decimal import Decimal

import pytest
from marshmallow import ValidationError

from sharing.catalogue.schemas import ResourceArgs
from sharing.web import decimal_input, euros, openapi_type
from tests.factories import PASSWORD


@pytest.mark.parametrize(
    ("data", "field", "expected"),
    [
        ({"name": None}, "name", "Ce champ est obligatoire."),
        ({"max_loan_days": "x"}, "max_loan_days", "Nombre entier attendu."),
        ({"colour": "red"}, "colour", "Champ inconnu."),
        ({"condition": "broken"}, "condition", "Valeur non autorisée"),
        ({"max_loan_days": 400}, "max_loan_days", "Doit être supérieur ou égal à 1"),
        ({"name": "x" * 201}, "name", "200 caractères au plus."),
    ],
)
def test_schema_messages_are_french(data, field, expected):
    with pytest.raises(ValidationError) as caught:
        ResourceArgs().load({"name": "Tondeuse", "category": "espaces-verts"} | data)
    assert caught.value.messages[field][0].startswith(expected)


def test_amounts():
    assert euros(None) == "—"
    assert euros(Decimal("1200.5")) == "1\u202f200,50\xa0€"
    assert decimal_input(Decimal("1200.5")) == "1200,50"
    assert decimal_input(None) == ""


def test_openapi_types_are_readable():
    assert openapi_type({"type": "string", "format": "uuid"}) == "string (uuid)"
    assert openapi_type({"$ref": "#/components/schemas/Resource"}) == "Resource"
    assert openapi_type({"type": "array", "items": {"$ref": "#/x/Category"}}) == "[Category]"
    assert openapi_type({"enum": ["new", "good"]}) == "new | good"
    assert openapi_type(None) == "—"


@pytest.mark.parametrize(
    "target",
    ["//evil.example", "/\\evil.example", "https://evil.example/", "/\t/evil.example", "evil"],
)
def test_sign_in_never_redirects_off_site(client, make, target):
    user = make.user("member")
    page = client.get("/connexion").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post(
        "/connexion",
        query_string={"next": target},
        data={"csrf_token": token, "email": user.email, "password": PASSWORD},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"

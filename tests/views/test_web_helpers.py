"""Template helpers: French messages for marshmallow's English ones, amounts, OpenAPI types."""

from decimal import Decimal

import pytest

from sharing.web import decimal_input, euros, french, openapi_type


@pytest.mark.parametrize(
    ("english", "expected"),
    [
        ("Missing data for required field.", "Ce champ est obligatoire."),
        ("Not a valid integer.", "Indiquez un nombre entier."),
        ("Unknown field.", "Champ inconnu."),
        ("Must be one of: a, b.", "Valeur non autorisée."),
        (
            "Must be greater than or equal to 1 and less than or equal to 365.",
            "Doit être compris entre 1 et 365.",
        ),
        ("Longer than maximum length 200.", "200 caractères au plus."),
        ("Montant invalide.", "Montant invalide."),  # already French: unchanged
    ],
)
def test_marshmallow_messages_are_shown_in_french(english, expected):
    assert french(english) == expected


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

"""The administration commands, run through Flask's CLI runner against the real database."""

import uuid
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import func, select

from sharing.accounts.models import ApiToken, Role, User
from sharing.extensions import db
from sharing.regies.models import Regie


def run(app: Flask, *args: str, input: str | None = None) -> Result:
    return app.test_cli_runner().invoke(args=list(args), input=input)


def count(app: Flask, model: type) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0


def last_line(result: Result) -> str:
    return result.stdout.strip().splitlines()[-1]


def fetch(app: Flask, model: type, **where: Any) -> Any:
    with app.app_context():
        return db.session.scalars(select(model).filter_by(**where)).one_or_none()


# flask regies create


def test_regies_create_prints_the_new_id(app):
    result = run(
        app,
        *("regies", "create", "--name", "Régie de Vierzon", "--slug", "vierzon"),
        *("--city", "Vierzon", "--postcode", "18100", "--timezone", "Europe/Paris"),
    )

    assert result.exit_code == 0, result.output
    regie_id = uuid.UUID(last_line(result))
    regie = fetch(app, Regie, id=regie_id)
    assert (regie.name, regie.slug, regie.city, regie.postcode, regie.timezone) == (
        "Régie de Vierzon",
        "vierzon",
        "Vierzon",
        "18100",
        "Europe/Paris",
    )
    assert regie.is_local


def test_regies_create_defaults_to_paris_time_and_no_postcode(app):
    result = run(app, "regies", "create", "--name", "Régie R", "--slug", "r-1", "--city", "Paris")

    assert result.exit_code == 0, result.output
    regie = fetch(app, Regie, slug="r-1")
    assert regie.timezone == "Europe/Paris"
    assert regie.postcode is None


def test_regies_create_accepts_an_overseas_timezone(app):
    result = run(
        app,
        *("regies", "create", "--name", "Régie de Cayenne", "--slug", "cayenne"),
        *("--city", "Cayenne", "--postcode", "97300", "--timezone", "America/Cayenne"),
    )

    assert result.exit_code == 0, result.output
    assert fetch(app, Regie, slug="cayenne").timezone == "America/Cayenne"


def test_regies_create_refuses_a_taken_slug_and_writes_nothing(app, make):
    make.regie(slug="vierzon")
    before = count(app, Regie)

    result = run(app, "regies", "create", "--name", "Autre", "--slug", "vierzon", "--city", "X")

    assert result.exit_code != 0
    assert "déjà pris" in result.stderr
    assert "slug" in result.stderr
    assert count(app, Regie) == before


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--timezone", "Europe/Vierzon", "Fuseau horaire inconnu"),
        ("--slug", "Pas Un Slug", "Minuscules"),
        ("--postcode", "ABCDE", "Code postal"),
    ],
    ids=["bad-timezone", "bad-slug", "bad-postcode"],
)
def test_regies_create_refuses_bad_values_with_a_clear_message(app, option, value, message):
    args = {"--name": "Régie", "--slug": "regie-ok", "--city": "Bourges", option: value}

    result = run(app, "regies", "create", *[part for pair in args.items() for part in pair])

    assert result.exit_code != 0
    assert option.lstrip("-") in result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert count(app, Regie) == 0


# flask users create


def test_users_create_with_a_password_prints_the_id_and_the_account_can_sign_in(app, make, client):
    regie = make.regie(slug="bourges")

    result = run(
        app,
        *("users", "create", "--email", "Chantal@Regie-Bourges.fr", "--name", "Chantal"),
        *("--regie", "bourges", "--role", "manager", "--password", "un-mot-de-passe-long"),
    )

    assert result.exit_code == 0, result.output
    user = fetch(app, User, id=uuid.UUID(last_line(result)))
    assert (user.email, user.name, user.role, user.regie_id) == (
        "chantal@regie-bourges.fr",
        "Chantal",
        Role.MANAGER,
        regie.id,
    )
    assert "un-mot-de-passe-long" not in result.output
    signed_in = client.post(
        "/api/v1/auth/tokens",
        json={"email": "chantal@regie-bourges.fr", "password": "un-mot-de-passe-long"},
    )
    assert signed_in.status_code == 201


def test_users_create_prompts_for_the_password_twice_when_it_is_left_out(app, make, client):
    make.regie(slug="bourges")

    result = run(
        app,
        *("users", "create", "--email", "paul@regie.fr", "--name", "Paul"),
        *("--regie", "bourges", "--role", "member"),
        input="saisi-au-clavier-1\nsaisi-au-clavier-1\n",
    )

    assert result.exit_code == 0, result.output
    assert "Password" in result.output
    assert "Repeat for confirmation" in result.output
    assert "saisi-au-clavier-1" not in result.output  # hidden input is not echoed
    uuid.UUID(last_line(result))
    signed_in = client.post(
        "/api/v1/auth/tokens", json={"email": "paul@regie.fr", "password": "saisi-au-clavier-1"}
    )
    assert signed_in.status_code == 201


def test_users_create_asks_again_when_the_confirmation_differs(app, make):
    make.regie(slug="bourges")

    result = run(
        app,
        *("users", "create", "--email", "paul@regie.fr", "--name", "Paul"),
        *("--regie", "bourges", "--role", "member"),
        input="premier-essai-123\nsecond-essai-456\nle-bon-mot-de-passe\nle-bon-mot-de-passe\n",
    )

    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert count(app, User) == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"--regie": "inconnue"}, "Aucune régie"),
        ({"--password": "court"}, "password"),
        ({"--email": "pas-une-adresse"}, "email"),
        ({"--role": "superuser"}, "superuser"),
    ],
    ids=["unknown-regie", "short-password", "bad-email", "bad-role"],
)
def test_users_create_refuses_bad_values_and_writes_nothing(app, make, change, message):
    make.regie(slug="bourges")
    args = {
        "--email": "paul@regie.fr",
        "--name": "Paul",
        "--regie": "bourges",
        "--role": "member",
        "--password": "un-mot-de-passe-long",
    } | change

    result = run(app, "users", "create", *[part for pair in args.items() for part in pair])

    assert result.exit_code != 0
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert count(app, User) == 0


def test_users_create_refuses_an_email_already_in_use(app, make):
    existing = make.user("member")
    before = count(app, User)

    result = run(
        app,
        *("users", "create", "--email", existing.email.upper(), "--name", "Doublon"),
        *("--regie", existing.regie.slug, "--role", "member", "--password", "x" * 12),
    )

    assert result.exit_code != 0
    assert "déjà utilisée" in result.stderr
    assert count(app, User) == before


# flask users token


def test_users_token_prints_a_working_token_alone_on_the_last_line(app, make, client):
    user = make.user("member")

    result = run(app, "users", "token", "--email", user.email, "--label", "script de sauvegarde")

    assert result.exit_code == 0, result.output
    secret = last_line(result)
    assert " " not in secret
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200
    assert me.json["email"] == user.email
    token = fetch(app, ApiToken, user_id=user.id)
    assert token.label == "script de sauvegarde"
    assert token.token_hash != secret  # only the hash is stored


def test_users_token_defaults_the_label_and_finds_the_email_case_insensitively(app, make):
    user = make.user("manager")

    result = run(app, "users", "token", "--email", user.email.upper())

    assert result.exit_code == 0, result.output
    assert fetch(app, ApiToken, user_id=user.id).label == "cli"


def test_users_token_for_an_unknown_email_fails_and_writes_nothing(app):
    result = run(app, "users", "token", "--email", "personne@regie.fr")

    assert result.exit_code != 0
    assert "Aucun compte" in result.stderr
    assert count(app, ApiToken) == 0


def test_each_token_is_new_and_both_work(app, make, client):
    user = make.user("member")

    first = last_line(run(app, "users", "token", "--email", user.email))
    second = last_line(run(app, "users", "token", "--email", user.email))

    assert first != second
    for secret in (first, second):
        headers = {"Authorization": f"Bearer {secret}"}
        assert client.get("/api/v1/me", headers=headers).status_code == 200


def test_users_token_refuses_a_disabled_account(app, make):
    """The token would be refused by the API: printing it would only mislead."""
    user = make.user("member")
    with app.app_context():
        db.session.get(User, user.id).is_enabled = False
        db.session.commit()

    result = run(app, "users", "token", "--email", user.email)

    assert result.exit_code != 0
    assert "désactivé" in result.stderr
    assert count(app, ApiToken) == 0

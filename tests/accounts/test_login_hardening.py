"""Sign-in hardening: the session is renewed at sign-in and emptied at sign-out (a value
planted before the sign-in does not survive it), one answer for every failure (unknown
address, wrong password, disabled account) after the same work, and CSRF on the form."""

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from sharing.accounts import models
from sharing.accounts import services as accounts
from sharing.accounts.services import BAD_CREDENTIALS
from sharing.extensions import db
from tests.factories import PASSWORD, Factories
from tests.views.conftest import csrf_token, login


def session_of(client: FlaskClient) -> dict:
    with client.session_transaction() as session:
        return dict(session)


def disabled_user(app: Flask, make: Factories):
    user = make.user("member")
    with app.app_context():
        accounts.set_user_enabled(None, user.id, False)
        db.session.commit()
    return user


# -- Session fixation -----------------------------------------------------------------------


def test_a_value_planted_before_the_sign_in_does_not_survive_it(client, make):
    """Fixation: someone prepares a session (here: a value and a user id of their choice)
    and gets the victim to sign in with it; nothing of it may be there afterwards."""
    user = make.user("member")
    attacker = make.user("member")
    token = csrf_token(client, "/connexion")
    with client.session_transaction() as session:
        session["planted"] = "by the attacker"
        session["next_step"] = "/admin"
    before = session_of(client)

    response = client.post(
        "/connexion", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )

    assert response.status_code == 302
    after = session_of(client)
    assert "planted" not in after
    assert "next_step" not in after
    assert after["_user_id"] == str(user.id)
    assert after["_user_id"] != str(attacker.id)
    assert after.get("csrf_token") != before["csrf_token"]  # the anonymous token is renewed


def test_the_anonymous_csrf_token_does_not_work_after_the_sign_in(client, make):
    user = make.user("member")
    old_token = csrf_token(client, "/connexion")
    login(client, user)

    # A write with the token captured before the sign-in is refused.
    response = client.post("/deconnexion", data={"csrf_token": old_token})

    assert response.status_code == 400
    assert session_of(client)["_user_id"] == str(user.id)


def test_signing_out_empties_the_session(client, make):
    user = make.user("member")
    login(client, user)
    with client.session_transaction() as session:
        session["left_over"] = "x"

    response = client.post("/deconnexion", data={"csrf_token": csrf_token(client, "/catalogue")})

    assert response.status_code == 302
    remaining = session_of(client)
    assert "_user_id" not in remaining
    assert "left_over" not in remaining
    assert set(remaining) <= {"_flashes", "_remember"}
    assert client.get("/catalogue").status_code == 302  # signed out


def test_signing_out_forgets_the_remember_me_cookie(client, make):
    user = make.user("member")
    token = csrf_token(client, "/connexion")
    client.post(
        "/connexion",
        data={"email": user.email, "password": PASSWORD, "remember": "1", "csrf_token": token},
    )
    assert client.get_cookie("remember_token") is not None

    client.post("/deconnexion", data={"csrf_token": csrf_token(client, "/catalogue")})

    assert client.get_cookie("remember_token") is None
    assert client.get("/catalogue").status_code == 302


# -- No user enumeration --------------------------------------------------------------------

CASES = ["unknown", "wrong_password", "disabled"]


def attempt(app: Flask, make: Factories, case: str) -> tuple[str, str]:
    if case == "unknown":
        return "personne@regies.test", PASSWORD
    if case == "wrong_password":
        return make.user("member").email, "pas-le-bon-mot-de-passe"
    return disabled_user(app, make).email, PASSWORD


def error_of(html: str) -> list[str]:
    return re.findall(r'role="alert"[^>]*>(.*?)<', html, re.S)


def test_the_form_gives_one_answer_for_every_failure(app, make):
    answers = {}
    for case in CASES:
        client = app.test_client()
        email, password = attempt(app, make, case)
        token = csrf_token(client, "/connexion")
        response = client.post(
            "/connexion", data={"email": email, "password": password, "csrf_token": token}
        )
        page = response.get_data(as_text=True).replace(email, "EMAIL")
        page = re.sub(r'name="csrf_token" value="[^"]+"', "", page)
        answers[case] = (response.status_code, page, sorted(response.headers.keys()))

    assert answers["unknown"] == answers["wrong_password"] == answers["disabled"]
    status, page, _ = answers["unknown"]
    assert status == 401
    assert BAD_CREDENTIALS.replace("'", "&#39;") in page


def test_the_api_gives_one_answer_for_every_failure(app, make):
    answers = {}
    for case in CASES:
        email, password = attempt(app, make, case)
        response = app.test_client().post(
            "/api/v1/auth/tokens", json={"email": email, "password": password}
        )
        answers[case] = (response.status_code, response.json)

    assert answers["unknown"] == answers["wrong_password"] == answers["disabled"]
    assert answers["unknown"][0] == 401
    assert answers["unknown"][1]["error"]["code"] == "invalid_credentials"


@pytest.mark.parametrize("case", CASES)
def test_every_failure_checks_one_password_hash(app, make, monkeypatch, case):
    """The same work whatever the failure (no timing: the work is counted). An unknown
    address checks a dummy hash made with the configured method, like a real account's."""
    email, password = attempt(app, make, case)
    checked: list[str] = []
    real = models.check_password_hash

    def counting(pwhash: str, candidate: str) -> bool:
        checked.append(pwhash.split("$", 1)[0])
        return real(pwhash, candidate)

    monkeypatch.setattr(models, "check_password_hash", counting)
    with app.test_request_context(), pytest.raises(Exception, match="incorrect"):
        accounts.authenticate(email, password)

    assert checked == [app.config["PASSWORD_HASH_METHOD"]]


# -- CSRF -----------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_the_sign_in_form_needs_its_csrf_token(client, make, token):
    """Login CSRF: another site posts its own credentials to sign the victim in as itself."""
    user = make.user("member")
    client.get("/connexion")
    data = {"email": user.email, "password": PASSWORD}
    if token is not None:
        data["csrf_token"] = token

    response = client.post("/connexion", data=data)

    assert response.status_code == 400
    assert "_user_id" not in session_of(client)


def test_the_sign_out_form_needs_its_csrf_token(client, make):
    """Logout CSRF: another site signs the victim out."""
    login(client, make.user("member"))

    assert client.post("/deconnexion").status_code == 400
    assert "_user_id" in session_of(client)

"""Helpers for the HTML views: sign in through the form, read CSRF tokens from pages."""

import re

import pytest
from flask.testing import FlaskClient

from sharing.accounts.models import User
from tests.factories import PASSWORD

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: FlaskClient, url: str) -> str:
    """The CSRF token of the form on the page at ``url``, as a browser would read it."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    match = CSRF.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def login(client: FlaskClient, user: User) -> None:
    """Sign in through the login form."""
    token = csrf_token(client, "/connexion")
    response = client.post(
        "/connexion", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)


@pytest.fixture
def as_user(client: FlaskClient, make):
    """``as_user("manager")`` signs the test client in as a new user with that role."""

    def sign_in(role: str = "manager", **fields) -> User:
        user = make.user(role, **fields)
        login(client, user)
        return user

    return sign_in

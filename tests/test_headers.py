"""Security headers on every kind of answer, and no inline script or style in any page.

The Content-Security-Policy forbids inline code, so a page that still had a ``<script>``
block, a ``style=`` or an ``on…=`` attribute would break in the browser: the crawl below
visits every page reachable from the dashboard of a signed-in administrator and checks both.
"""

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from flask import Flask, Response
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from sharing import create_app
from sharing.accounts.models import User
from sharing.extensions import db
from sharing.headers import CONTENT_SECURITY_POLICY, add_security_headers
from sharing.library import services as library
from sharing.library.schemas import DocumentArgs
from sharing.loans import services as loans
from tests.factories import PASSWORD
from tests.views.conftest import login

EXPECTED = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)
LINK = re.compile(r'href="(/[^"#]*)')
# Never followed by the crawl: sign-out is a POST anyway, downloads are not pages.
SKIP = re.compile(r"^/(static/|deconnexion)|\.csv$|\.ics|/fichiers/")
MAX_PAGES = 150


def assert_headers(response: TestResponse, where: str) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (where, name, response.headers.get(name))
    policy = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP in the tests


def assert_no_inline_code(html: str, where: str) -> None:
    for pattern in (INLINE_SCRIPT, INLINE_STYLE, INLINE_HANDLER, JAVASCRIPT_URL):
        match = pattern.search(html)
        assert match is None, f"{where}: inline code {match.group(0)!r}"


@pytest.fixture
def world(app: Flask, make) -> User:
    """An administrator whose régie lends a resource that another régie booked, and a
    document with a version history: enough for every kind of page to have content."""
    admin = make.user("admin")
    manager = make.user("manager", regie=admin.regie)
    resource = make.resource(manager, description="**Robuste**", location="Hangar")
    borrower = make.user("member")
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    with app.app_context():
        loans.request_booking(
            db.session.get(User, borrower.id),
            {"resource_id": resource.id, "starts_at": starts, "ends_at": starts + timedelta(1)},
        )
        author = db.session.get(User, admin.id)
        data = {
            "title": "Fiche sécurité débroussailleuse",
            "summary": "Avant de démarrer",
            "body": "# Avant\n\n- gants\n- visière\n\n[lien](https://example.org)\n",
            "themes": ["espaces-verts"],
            "type": "fiche-pratique",
        }
        document = library.create_document(author, DocumentArgs().load(data))
        library.update_document(author, document, {"summary": "Avant de démarrer, toujours"})
        db.session.commit()
    return admin


def crawl(client: FlaskClient, start: str) -> Iterator[tuple[str, TestResponse]]:
    seen, queue = {start}, [start]
    while queue and len(seen) <= MAX_PAGES:
        url = queue.pop(0)
        response = client.get(url)
        yield url, response
        if response.mimetype != "text/html":
            continue
        for link in LINK.findall(response.get_data(as_text=True)):
            link = link.replace("&amp;", "&")
            if urlsplit(link).path and not SKIP.search(link) and link not in seen:
                seen.add(link)
                queue.append(link)


def test_every_page_has_the_headers_and_no_inline_code(client, world, app):
    login(client, world)

    pages = dict(crawl(client, "/"))

    kinds = {
        "/",
        "/catalogue",
        "/reservations",
        "/bibliotheque",
        "/ma-regie/materiel",
        "/admin/regies",
        "/admin/utilisateurs",
        "/admin/journal",
        "/api/v1/docs",
    }
    assert kinds <= set(pages), sorted(kinds - set(pages))
    for prefix in ("/materiel/", "/reservations/", "/bibliotheque/", "/admin/utilisateurs/"):
        assert any(url.startswith(prefix) for url in pages), prefix
    for url, response in pages.items():
        assert response.status_code == 200, (url, response.status_code)
        assert_headers(response, url)
        assert_no_inline_code(response.get_data(as_text=True), url)


def test_pages_seen_before_signing_in_and_errors(client, make):
    user = make.user("member")
    answers = {
        "login": client.get("/connexion"),
        "failed login": client.post("/connexion", data={"email": user.email}),
        "redirect": client.get("/catalogue"),
        "404 page": client.get("/nulle-part"),
        "static file": client.get("/static/app.js"),
        "health": client.get("/healthz"),
    }
    login(client, user)
    answers["403 page"] = client.get("/admin/journal")

    for where, response in answers.items():
        assert_headers(response, where)
        if response.mimetype == "text/html":
            assert_no_inline_code(response.get_data(as_text=True), where)
        response.close()
    assert answers["403 page"].status_code == 403
    assert answers["failed login"].status_code in (400, 401)


def test_api_answers_have_the_headers(client, make):
    user = make.user("member")
    headers = make.auth(user)
    answers = {
        "200": client.get("/api/v1/me", headers=headers),
        "201": client.post("/api/v1/auth/tokens", json={"email": user.email, "password": PASSWORD}),
        "401": client.get("/api/v1/me"),
        "403": client.get("/api/v1/audit", headers=headers),
        "404": client.get(
            "/api/v1/resources/00000000-0000-0000-0000-000000000000", headers=headers
        ),
        "422": client.post("/api/v1/auth/tokens", json={"nope": 1}),
        "openapi": client.get("/api/v1/openapi.json"),
        "federation": client.get("/federation/v1/instance"),
    }
    for where, response in answers.items():
        assert_headers(response, where)
    assert [answers[code].status_code for code in ("200", "201", "401", "403", "404", "422")] == [
        200,
        201,
        401,
        403,
        404,
        422,
    ]


def test_a_stricter_policy_of_a_download_is_kept(app):
    """Attachment downloads set ``default-src 'none'; sandbox``: the general policy must not
    replace it."""
    strict = "default-src 'none'; sandbox"
    with app.test_request_context("/bibliotheque"):
        response = add_security_headers(Response("x", headers={"Content-Security-Policy": strict}))

    assert response.headers["Content-Security-Policy"] == strict
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "config",
    [
        {"INSTANCE_URL": "https://regies.example.org"},
        {"PREFERRED_URL_SCHEME": "https"},
        {"SESSION_COOKIE_SECURE": True},
    ],
)
def test_over_tls_hsts_and_secure_cookies(app, database_url, make, config):
    """Served over TLS (said by the configuration, since a proxy may end TLS): HSTS, and the
    session and remember-me cookies are Secure, HttpOnly and SameSite=Lax."""
    tls_app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "WTF_CSRF_ENABLED": False,
        }
        | config
    )
    user = make.user("member")
    client = tls_app.test_client()

    response = client.post(
        "/connexion",
        data={"email": user.email, "password": PASSWORD, "remember": "1"},
        base_url="https://localhost",
    )

    assert response.status_code == 302
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    assert set(cookies) >= {"session", "remember_token"}
    for cookie in cookies.values():
        assert "Secure" in cookie
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie
    with tls_app.app_context():
        db.engine.dispose()


def test_plain_http_cookies_are_httponly_and_lax_but_not_secure(client, make):
    user = make.user("member")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/connexion").text)
    assert token
    response = client.post(
        "/connexion",
        data={"email": user.email, "password": PASSWORD, "csrf_token": token.group(1)},
    )
    (cookie,) = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie

"""Who may do what in the library: role (member, manager, admin) × the document's régie (the
actor's own, or another), for every library endpoint; replicas answer 409."""

import io
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from sharing.accounts.models import User
from sharing.library.models import Document
from sharing.library.permissions import (
    can_attach_to_document,
    can_create_document,
    can_delete_document,
    can_edit_document,
)
from tests.factories import PASSWORD
from tests.library.conftest import PDF, Library, upload
from tests.views.conftest import csrf_token

ROLES = ("member", "manager", "admin")


@dataclass
class Case:
    name: str
    # (actor's role, where the document is) -> expected status
    expect: dict[str, tuple[int, int, int]]
    call: Callable[[Any, dict[str, str], Document, Any], Any]


def _get(path: str) -> Callable[..., Any]:
    return lambda client, headers, doc, att: client.get(
        path.format(doc=doc.id, att=att), headers=headers
    )


CASES = [
    Case(
        "create",
        {"own": (201, 201, 201)},
        lambda client, headers, doc, att: client.post(
            "/api/v1/documents",
            json={"title": "Check-list photo", "themes": ["mutualisation"], "type": "check-list"},
            headers=headers,
        ),
    ),
    Case("list", {"own": (200, 200, 200)}, _get("/api/v1/documents")),
    Case("themes", {"own": (200, 200, 200)}, _get("/api/v1/themes")),
    Case("read", {"own": (200,) * 3, "other": (200,) * 3}, _get("/api/v1/documents/{doc}")),
    Case(
        "versions",
        {"own": (200,) * 3, "other": (200,) * 3},
        _get("/api/v1/documents/{doc}/versions"),
    ),
    Case(
        "version",
        {"own": (200,) * 3, "other": (200,) * 3},
        _get("/api/v1/documents/{doc}/versions/1"),
    ),
    Case(
        "diff",
        {"own": (200,) * 3, "other": (200,) * 3},
        _get("/api/v1/documents/{doc}/versions/1/diff/1"),
    ),
    Case(
        "patch",
        {"own": (200, 200, 200), "other": (403, 403, 403)},
        lambda client, headers, doc, att: client.patch(
            f"/api/v1/documents/{doc.id}", json={"summary": "Revu."}, headers=headers
        ),
    ),
    Case(
        "delete",
        {"own": (403, 204, 204), "other": (403, 403, 403)},
        lambda client, headers, doc, att: client.delete(
            f"/api/v1/documents/{doc.id}", headers=headers
        ),
    ),
    Case(
        "upload",
        {"own": (201, 201, 201), "other": (403, 403, 403)},
        lambda client, headers, doc, att: upload(client, headers, doc.id, PDF, "a.pdf"),
    ),
    Case(
        "download",
        {"own": (200,) * 3, "other": (200,) * 3},
        _get("/api/v1/documents/{doc}/attachments/{att}"),
    ),
]


def cells() -> list[Any]:
    params = []
    for case in CASES:
        for where, statuses in case.expect.items():
            for role, status in zip(ROLES, statuses, strict=True):
                params.append(
                    pytest.param(case, role, where, status, id=f"{case.name}-{role}-{where}")
                )
    return params


@pytest.fixture
def world(make, library: Library, client):
    """An actor's régie and another one, each with a document that has an attachment."""

    def build(role: str, where: str) -> tuple[User, Document, uuid.UUID]:
        actor = make.user(role)
        author = actor if where == "own" else make.user("member")
        document = library.document(author)
        attached = upload(client, make.auth(author), document.id, PDF, "a.pdf")
        assert attached.status_code == 201
        return actor, document, attached.json["id"]

    return build


@pytest.mark.parametrize(("case", "role", "where", "expected"), cells())
def test_permission(client, make, world, case, role, where, expected):
    actor, document, attachment_id = world(role, where)

    response = case.call(client, make.auth(actor), document, attachment_id)

    assert response.status_code == expected, response.get_data(as_text=True)[:300]
    if expected >= 400:
        assert response.json["error"]["code"] == "forbidden"
    response.close()


@pytest.mark.parametrize(
    "name", [c.name for c in CASES if c.name not in ("create", "themes", "list")]
)
def test_anonymous_callers_are_401(client, library, name):
    case = next(c for c in CASES if c.name == name)
    document = library.document()

    response = case.call(client, {}, document, uuid.uuid4())

    assert response.status_code == 401


@pytest.mark.parametrize("role", ROLES)
def test_a_replica_is_read_only_here(client, make, library, role):
    replica = library.replica()
    headers = make.auth(make.user(role))
    url = f"/api/v1/documents/{replica.id}"

    patched = client.patch(url, json={"title": "Modifié ici"}, headers=headers)
    deleted = client.delete(url, headers=headers)
    attached = upload(client, headers, replica.id, PDF, "a.pdf")

    for response in (patched, deleted, attached):
        assert response.status_code == 409, response.json
        assert response.json["error"]["code"] == "read_only_replica"
    read = client.get(url, headers=headers)
    assert read.status_code == 200
    assert read.json["origin"]["is_local"] is False


def test_users_of_a_replicated_regie_cannot_publish_here(app, make, library):
    replica = library.replica()
    with app.app_context():
        from sharing.extensions import db

        document = db.session.get(Document, replica.id)
        visitor = User(
            email="visiteur@regies.test", name="Visiteur", role="member", regie=document.regie
        )

        assert not can_create_document(visitor)
        assert not can_edit_document(visitor, document)
        assert not can_attach_to_document(visitor, document)
        assert not can_delete_document(visitor, document)


def test_a_browser_session_needs_the_csrf_header_to_upload(app, make, library):
    """Cookie-authenticated writes need X-CSRFToken, uploads included; with it, they pass."""
    member = make.user("member")
    document = library.document(member)
    browser = app.test_client()
    token = csrf_token(browser, "/connexion")
    browser.post(
        "/connexion", data={"email": member.email, "password": PASSWORD, "csrf_token": token}
    )
    url = f"/api/v1/documents/{document.id}/attachments"

    forged = browser.post(url, data={"file": (io.BytesIO(PDF), "a.pdf")})
    page = browser.get("/").get_data(as_text=True)  # the signed-in session's own token
    token = re.search(r'name="csrf[_-]token"\s+(?:value|content)="([^"]+)"', page).group(1)
    genuine = browser.post(
        url, data={"file": (io.BytesIO(PDF), "a.pdf")}, headers={"X-CSRFToken": token}
    )

    assert forged.status_code == 403
    assert forged.json["error"]["code"] == "csrf_failed"
    assert genuine.status_code == 201, genuine.json

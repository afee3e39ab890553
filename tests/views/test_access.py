"""Who may open which page: the right roles get 200, the others a French 403 page, and
anonymous visitors are sent to the sign-in form."""

import pytest

from tests.views.conftest import login

# "{resource}" is another régie's resource, "{own}" one of the user's régie's, "{regie}" the
# user's own régie.
PAGES = [
    ("/", {"member": 200, "manager": 200, "admin": 200}),
    ("/catalogue", {"member": 200, "manager": 200, "admin": 200}),
    ("/materiel/{resource}", {"member": 200, "manager": 200, "admin": 200}),
    ("/materiel/{resource}/etiquette", {"member": 200, "manager": 200, "admin": 200}),
    ("/ma-regie/materiel", {"member": 200, "manager": 200, "admin": 200}),
    ("/materiel/nouveau", {"member": 403, "manager": 200, "admin": 200}),
    ("/materiel/{own}/modifier", {"member": 403, "manager": 200, "admin": 200}),
    ("/materiel/{resource}/modifier", {"member": 403, "manager": 403, "admin": 403}),
    ("/ma-regie/materiel/import", {"member": 403, "manager": 200, "admin": 200}),
    ("/admin/regies", {"member": 403, "manager": 200, "admin": 200}),
    ("/admin/regies/nouvelle", {"member": 403, "manager": 403, "admin": 200}),
    ("/admin/regies/{regie}/modifier", {"member": 403, "manager": 200, "admin": 200}),
    ("/admin/regies/{other_regie}/modifier", {"member": 403, "manager": 403, "admin": 200}),
    ("/admin/utilisateurs", {"member": 403, "manager": 200, "admin": 200}),
    ("/admin/utilisateurs/nouveau", {"member": 403, "manager": 200, "admin": 200}),
]


@pytest.fixture
def pages(make):
    """The URLs of PAGES for a new user of ``role``, whose régie owns one resource."""

    def build(role):
        stranger = make.user("manager")
        user = make.user(role)
        colleague = user if role == "manager" else make.user("manager", regie=user.regie)
        values = {
            "resource": make.resource(stranger).id,
            "own": make.resource(colleague, name="Remorque plateau").id,
            "regie": user.regie_id,
            "other_regie": stranger.regie_id,
        }
        return user, [(url.format(**values), expected) for url, expected in PAGES]

    return build


@pytest.mark.parametrize("role", ["member", "manager", "admin"])
def test_page_access_by_role(client, pages, role):
    user, urls = pages(role)
    login(client, user)
    wrong = []
    for url, expected in urls:
        response = client.get(url)
        html = response.get_data(as_text=True)
        if response.status_code != expected[role] or '<html lang="fr">' not in html:
            wrong.append((url, response.status_code, expected[role]))
        elif expected[role] == 403:
            assert "Accès refusé" in html, url
    assert wrong == []


def test_anonymous_visitors_are_sent_to_the_login_form(client, pages):
    _, urls = pages("member")
    for url, _ in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/connexion?next="), url


def test_unknown_resource_is_a_french_404(client, make):
    login(client, make.user("member"))
    response = client.get("/materiel/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404
    assert "Ce matériel n&#39;existe pas." in response.get_data(as_text=True)


def test_navigation_follows_the_role(client, make):
    login(client, make.user("member"))
    html = client.get("/").get_data(as_text=True)
    assert 'href="/catalogue"' in html
    assert 'href="/admin/regies"' not in html
    assert 'href="/admin/utilisateurs"' not in html
    assert 'href="/materiel/nouveau"' not in html
    assert 'href="/api/v1/docs"' in html  # footer

    client.post("/deconnexion", data={"csrf_token": _token(client)})
    login(client, make.user("admin"))
    html = client.get("/").get_data(as_text=True)
    for link in ("/admin/regies", "/admin/utilisateurs", "/materiel/nouveau"):
        assert f'href="{link}"' in html


def test_logout_needs_the_form_token(client, make):
    login(client, make.user("member"))
    assert client.post("/deconnexion").status_code == 400
    assert client.get("/").status_code == 200
    response = client.post("/deconnexion", data={"csrf_token": _token(client)})
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def _token(client):
    from tests.views.conftest import CSRF

    return CSRF.search(client.get("/").get_data(as_text=True)).group(1)

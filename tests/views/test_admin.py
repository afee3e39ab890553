"""Administration pages: régies (list, create, edit) and accounts (list, create)."""

import html

from sharing.accounts.models import Role, User
from sharing.extensions import db
from sharing.regies.models import Regie
from tests.views.conftest import csrf_token, login


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def regie_form(**fields):
    return {
        "name": "Régie des Trois Cités",
        "slug": "trois-cites",
        "city": "Poitiers",
        "postcode": "86000",
        "timezone": "Europe/Paris",
        "contact_email": "",
        "contact_phone": "",
    } | fields


def find_regie(make, slug):
    from sqlalchemy import select

    with make.app.app_context():
        return db.session.scalar(select(Regie).where(Regie.slug == slug))


def find_user(make, email):
    from sqlalchemy import select

    with make.app.app_context():
        return db.session.scalar(select(User).where(User.email == email))


def test_regie_list_searches_without_accents(client, as_user, make):
    as_user("admin")
    make.regie(name="Régie de Quartier d'Évry", city="Évry-Courcouronnes")
    make.regie(name="Régie de Vierzon", city="Vierzon")
    page = text(client.get("/admin/regies?q=evry"))
    assert "Régie de Quartier d'Évry" in page
    assert "Vierzon" not in page
    assert "Créer une régie" in page


def test_admin_creates_a_regie(client, as_user, make):
    as_user("admin")
    token = csrf_token(client, "/admin/regies/nouvelle")
    response = client.post(
        "/admin/regies/nouvelle",
        data={"csrf_token": token} | regie_form(contact_email="contact@trois-cites.fr"),
    )
    assert response.status_code == 302
    regie = find_regie(make, "trois-cites")
    assert regie.city == "Poitiers"
    assert regie.contact_email == "contact@trois-cites.fr"
    assert regie.contact_phone is None
    assert "La régie « Régie des Trois Cités » est créée." in text(client.get("/admin/regies"))


def test_regie_form_errors_are_french_and_nothing_is_created(client, as_user, make):
    admin = as_user("admin")
    token = csrf_token(client, "/admin/regies/nouvelle")
    response = client.post(
        "/admin/regies/nouvelle",
        data={"csrf_token": token}
        | regie_form(slug="Pas Un Slug", postcode="12", timezone="Mars/Olympus", city=""),
    )
    assert response.status_code == 422
    page = text(response)
    assert "Minuscules, chiffres et tirets uniquement." in page
    assert "Code postal à 5 chiffres." in page
    assert "Fuseau horaire inconnu" in page
    assert "Ce champ est obligatoire." in page
    assert 'aria-invalid="true"' in page
    assert find_regie(make, "pas-un-slug") is None

    taken = client.post(
        "/admin/regies/nouvelle",
        data={"csrf_token": token} | regie_form(slug=admin.regie.slug),
    )
    assert taken.status_code == 422
    assert "Cet identifiant est déjà pris." in text(taken)


def test_manager_edits_their_own_regie_only(client, as_user, make):
    manager = as_user("manager")
    other = make.regie()
    url = f"/admin/regies/{manager.regie_id}/modifier"
    page = text(client.get(url))
    assert f'value="{manager.regie.name}"' in page
    token = csrf_token(client, url)
    response = client.post(
        url,
        data={"csrf_token": token}
        | regie_form(
            name="Régie de Vierzon",
            slug=manager.regie.slug,
            city="Vierzon",
            postcode="18100",
            timezone="Europe/Paris",
            contact_phone="02 48 00 00 00",
        ),
    )
    assert response.status_code == 302
    changed = find_regie(make, manager.regie.slug)
    assert changed.name == "Régie de Vierzon"
    assert changed.contact_phone == "02 48 00 00 00"
    assert changed.version == 2

    denied = client.post(
        f"/admin/regies/{other.id}/modifier",
        data={"csrf_token": token} | regie_form(slug=other.slug),
    )
    assert denied.status_code == 403
    assert find_regie(make, other.slug).name == other.name

    listing = text(client.get("/admin/regies"))
    assert f"/admin/regies/{manager.regie_id}/modifier" in listing
    assert f"/admin/regies/{other.id}/modifier" not in listing
    assert "/admin/regies/nouvelle" not in listing


def test_manager_cannot_create_a_regie(client, as_user):
    as_user("manager")
    token = csrf_token(client, "/admin/regies")
    response = client.post("/admin/regies/nouvelle", data={"csrf_token": token} | regie_form())
    assert response.status_code == 403


def test_bad_regie_list_query_is_a_400_page(client, as_user):
    as_user("admin")
    response = client.get("/admin/regies?instance=ailleurs")
    assert response.status_code == 400
    assert "Paramètre de recherche invalide" in text(response)


def test_manager_lists_only_their_regie_accounts(client, as_user, make):
    manager = as_user("manager")
    colleague = make.user("member", regie=manager.regie, name="Camille Martin")
    stranger = make.user("member", name="Dominique Autre")
    page = text(client.get("/admin/utilisateurs"))
    assert colleague.email in page
    assert "Camille Martin" in page
    assert "Membre" in page
    assert stranger.email not in page


def test_admin_lists_every_account(client, as_user, make):
    as_user("admin")
    stranger = make.user("member")
    assert stranger.email in text(client.get("/admin/utilisateurs"))


def test_manager_creates_a_member_in_their_regie(client, as_user, make):
    manager = as_user("manager")
    make.regie(name="Une autre régie")
    page = text(client.get("/admin/utilisateurs/nouveau"))
    # Only the roles and régie a manager may give.
    assert '<option value="member"' in page
    assert '<option value="manager"' in page
    assert '<option value="admin"' not in page
    assert "Une autre régie" not in page
    token = csrf_token(client, "/admin/utilisateurs/nouveau")
    response = client.post(
        "/admin/utilisateurs/nouveau",
        data={
            "csrf_token": token,
            "name": "Sacha Dupont",
            "email": "Sacha.Dupont@regie.test",
            "password": "un mot de passe solide",
            "regie_id": str(manager.regie_id),
            "role": "member",
        },
    )
    assert response.status_code == 302
    user = find_user(make, "sacha.dupont@regie.test")
    assert user.role is Role.MEMBER
    assert user.regie_id == manager.regie_id
    page = text(client.get("/admin/utilisateurs"))
    assert "Le compte de Sacha Dupont est créé." in page
    assert "un mot de passe solide" not in page


def test_manager_cannot_create_an_admin_or_in_another_regie(client, as_user, make):
    manager = as_user("manager")
    other = make.regie()
    token = csrf_token(client, "/admin/utilisateurs/nouveau")
    base = {
        "csrf_token": token,
        "name": "Intrus",
        "password": "un mot de passe solide",
    }
    admin = client.post(
        "/admin/utilisateurs/nouveau",
        data=base | {"email": "a@x.test", "regie_id": str(manager.regie_id), "role": "admin"},
    )
    assert admin.status_code == 403
    elsewhere = client.post(
        "/admin/utilisateurs/nouveau",
        data=base | {"email": "b@x.test", "regie_id": str(other.id), "role": "member"},
    )
    assert elsewhere.status_code == 403
    assert find_user(make, "a@x.test") is None
    assert find_user(make, "b@x.test") is None


def test_user_form_errors_are_french_and_password_is_not_echoed(client, as_user, make):
    manager = as_user("manager")
    token = csrf_token(client, "/admin/utilisateurs/nouveau")
    response = client.post(
        "/admin/utilisateurs/nouveau",
        data={
            "csrf_token": token,
            "name": "Sacha",
            "email": "pas-une-adresse",
            "password": "court",
            "regie_id": str(manager.regie_id),
            "role": "member",
        },
    )
    assert response.status_code == 422
    page = text(response)
    assert "Adresse e-mail invalide." in page
    assert "Au moins 10 caractères." in page
    assert 'value="court"' not in page
    assert 'value="Sacha"' in page

    duplicate = client.post(
        "/admin/utilisateurs/nouveau",
        data={
            "csrf_token": token,
            "name": "Sacha",
            "email": manager.email,
            "password": "un mot de passe solide",
            "regie_id": str(manager.regie_id),
            "role": "member",
        },
    )
    assert duplicate.status_code == 422
    assert "Cette adresse est déjà utilisée." in text(duplicate)


def test_admin_may_give_every_role_in_every_local_regie(client, make):
    admin = make.user("admin")
    other = make.regie(name="Régie du Mirail")
    login(client, admin)
    page = text(client.get("/admin/utilisateurs/nouveau"))
    assert '<option value="admin"' in page
    assert f'<option value="{other.id}"' in page
    assert f'<option value="{admin.regie_id}" selected' in page

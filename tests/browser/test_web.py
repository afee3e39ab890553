"""A few journeys through the French web interface in a real browser."""

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def nav(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Navigation principale")


def test_login_through_the_form(page: Page, make):
    user = make.user("member", name="Camille Martin")
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/connexion\?next=/$"))
    page.get_by_label("Adresse e-mail").fill(user.email)
    page.get_by_label("Mot de passe").fill("mauvais mot de passe")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("alert")).to_have_text("Adresse e-mail ou mot de passe incorrect.")

    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Camille Martin")
    expect(page.get_by_text("Bienvenue, Camille Martin.")).to_be_visible()


def test_search_the_catalogue_without_accents(page: Page, make):
    owner = make.user("manager")
    make.resource(owner, name="Désherbeur thermique à gaz", category="zero-phyto")
    make.resource(owner, name="Monobrosse 430 mm", category="proprete")
    sign_in(page, make.user("member"))

    nav(page).get_by_role("link", name="Catalogue").click()
    page.get_by_label("Rechercher").fill("desherbeur THERMIQUE")
    page.get_by_role("button", name="Rechercher").click()

    results = page.locator(".cards .card")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("Désherbeur thermique à gaz")
    expect(results.first).to_contain_text("Désherbage zéro phyto")
    expect(results.first).to_contain_text(owner.regie.name)
    results.first.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Désherbeur thermique à gaz")


def test_create_a_resource_and_find_it_in_my_inventory(page: Page, make):
    sign_in(page, make.user("manager"))
    nav(page).get_by_role("link", name="Matériel de ma régie").click()
    page.get_by_role("main").get_by_role("link", name="Ajouter du matériel").first.click()

    page.get_by_label("Nom").fill("Broyeur de végétaux thermique")
    page.get_by_label("Catégorie").select_option(label="Espaces verts")
    page.get_by_label("Caution (€)").fill("1 200,50")
    page.get_by_label("Durée maximale de prêt (jours)").fill("400")
    page.get_by_role("button", name="Ajouter au catalogue").click()
    # A wrong value: the form comes back with a French message next to the field.
    expect(page.locator("#f-max_loan_days-error")).to_have_text(
        "Doit être supérieur ou égal à 1 et inférieur ou égal à 365."
    )
    expect(page.get_by_label("Nom")).to_have_value("Broyeur de végétaux thermique")

    page.get_by_label("Durée maximale de prêt (jours)").fill("7")
    page.get_by_role("button", name="Ajouter au catalogue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Broyeur de végétaux thermique")
    expect(page.get_by_text("1 200,50 €")).to_be_visible()

    nav(page).get_by_role("link", name="Matériel de ma régie").click()
    row = page.get_by_role("row", name="Broyeur de végétaux thermique")
    expect(row).to_contain_text("Espaces verts")
    expect(row).to_contain_text("Disponible")


def test_login_without_csrf_token_is_refused(page: Page, make):
    user = make.user("member")
    page.goto("/connexion")
    # A form from elsewhere: the right fields, but no CSRF token.
    page.evaluate(
        """([email, password]) => {
            const form = document.createElement("form");
            form.method = "post";
            form.action = "/connexion";
            for (const [name, value] of [["email", email], ["password", password]]) {
                const input = document.createElement("input");
                input.name = name;
                input.value = value;
                form.appendChild(input);
            }
            document.body.appendChild(form);
            form.submit();
        }""",
        [user.email, PASSWORD],
    )
    page.wait_for_load_state()
    expect(page.get_by_role("heading", level=1)).to_have_text("Requête invalide")
    expect(page.get_by_text("Le formulaire a expiré ou n'est pas valide")).to_be_visible()

    response = page.request.post("/connexion", form={"email": user.email, "password": PASSWORD})
    assert response.status == 400
    # Still signed out.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/connexion\?next=/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")

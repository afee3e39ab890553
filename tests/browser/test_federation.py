"""A replicated resource in a real browser: its origin is shown, nothing offers to change it."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in
from tests.views.test_federation_pages import ORIGIN_NAME, add_peer, make_replicas

pytestmark = pytest.mark.browser


def test_a_replica_resource_shows_its_origin_and_no_edit_button(page: Page, app, make):
    add_peer(app)
    replicas = make_replicas(app)
    sign_in(page, make.user("manager"))

    page.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name="Catalogue"
    ).click()
    card = page.locator(".card", has_text="Broyeur de végétaux thermique")
    expect(card).to_contain_text(f"Régie de Lyon 8 (Lyon) · instance {ORIGIN_NAME}")
    card.get_by_role("link", name="Broyeur de végétaux thermique").click()

    expect(page).to_have_url(re.compile(f"/materiel/{replicas.resource.id}$"))
    expect(page.get_by_text(f"Copie en lecture seule · instance {ORIGIN_NAME}")).to_be_visible()
    expect(page.get_by_text(f"Origine : instance {ORIGIN_NAME}")).to_be_visible()
    expect(page.get_by_role("link", name="Modifier")).to_have_count(0)
    expect(page.get_by_role("button", name="Retirer du catalogue")).to_have_count(0)
    expect(page.get_by_role("heading", name="Bloquer une période")).to_have_count(0)

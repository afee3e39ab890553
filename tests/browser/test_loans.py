"""A loan from request to return in a real browser: a member of one régie books another
régie's trailer from its page, that régie's manager approves it from "Mes réservations", the
borrower sees the approval, then the lender records the pickup and the return."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def lender_page(browser: Browser, live_server: str) -> Iterator[Page]:
    """A second browser context, so that the two people never share cookies."""
    context = browser.new_context(base_url=live_server, locale="fr-FR")
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_a_loan_from_request_to_return(page: Page, lender_page: Page, make):
    lender = make.user("manager", name="Nadia Lender")
    trailer = make.resource(lender, name="Remorque plateau 750 kg", category="vehicules")
    borrower = make.user("member", name="Karim Borrower")
    day = (datetime.now(UTC) + timedelta(days=3)).astimezone(ZoneInfo("Europe/Paris")).date()

    # The borrower asks for the trailer from its page.
    sign_in(page, borrower)
    page.goto(f"/materiel/{trailer.id}")
    page.get_by_label("Date de début").fill(day.isoformat())
    page.get_by_label("Heure de début").fill("08:30")
    page.get_by_label("Date de fin").fill(day.isoformat())
    page.get_by_label("Heure de fin").fill("18:00")
    page.get_by_label("Note pour la régie prêteuse").fill("Chantier de la cité des Fleurs")
    page.get_by_role("button", name="Envoyer la demande").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Remorque plateau 750 kg")
    expect(page.get_by_role("status")).to_contain_text("Votre demande pour « Remorque")
    expect(page.locator(".details")).to_contain_text("08:30 – 18:00")
    expect(page.locator(".badge.booking-requested")).to_have_text("Demandée")
    booking_url = page.url

    # The lender's manager approves it from "Mes réservations".
    sign_in(lender_page, lender)
    lender_page.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name="Réservations"
    ).click()
    card = lender_page.locator(".card", has_text="Remorque plateau 750 kg")
    expect(card).to_contain_text(f"Prêt à {borrower.regie.name}")
    card.get_by_role("button", name="Accepter").click()
    expect(lender_page.get_by_role("status")).to_contain_text("Demande acceptée")
    expect(card.locator(".badge.booking-approved")).to_have_text("Acceptée")

    # The borrower sees the approval.
    page.goto(booking_url)
    expect(page.locator(".badge.booking-approved")).to_have_text("Acceptée")
    expect(page.get_by_role("button", name="Enregistrer le départ")).to_have_count(0)

    # The lender records the pickup and the return, with the equipment's condition.
    card.locator("summary", has_text="Enregistrer le départ").click()
    card.get_by_label("État du matériel au départ").select_option(label="Bon état")
    card.get_by_label("Remarques de l'état des lieux").fill("Roue de secours présente")
    card.get_by_role("button", name="Enregistrer le départ").click()
    expect(lender_page.get_by_role("status")).to_contain_text("(état : bon état)")
    card.locator("summary", has_text="Enregistrer le retour").click()
    card.get_by_label("État du matériel au retour").select_option(label="Usé")
    card.get_by_role("button", name="Enregistrer le retour").click()
    expect(lender_page.get_by_role("status")).to_contain_text("(état : usé)")
    expect(card.locator(".badge.booking-returned")).to_have_text("Rendue")

    page.reload()
    expect(page.locator(".badge.booking-returned")).to_have_text("Rendue")
    handovers = page.get_by_role("table", name="Départ et retour du matériel")
    expect(handovers).to_contain_text("Roue de secours présente")
    expect(handovers).to_contain_text("Usé")

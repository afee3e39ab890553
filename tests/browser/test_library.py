"""The library in a real browser: a member publishes a document through the editor (after a
look at the preview), attaches a PDF on its page, then finds it by a word typed without its
accent and in the plural, opens it and downloads the file."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in
from tests.library.conftest import PDF

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def attachments_dir(app: Flask, tmp_path: Path) -> Iterator[Path]:
    """The live server stores this test's files in a folder of the test's own."""
    folder = tmp_path / "attachments"
    previous = app.config["ATTACHMENTS_DIR"]
    app.config["ATTACHMENTS_DIR"] = str(folder)
    yield folder
    app.config["ATTACHMENTS_DIR"] = previous


def test_publish_find_and_download(page: Page, make):
    author = make.user("member", name="Sonia Autrice")
    sign_in(page, author)

    # Write the document, look at the preview, publish it.
    page.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name="Bibliothèque"
    ).click()
    page.get_by_role("link", name="Publier un document").click()
    page.get_by_label("Titre").fill("Entretien de la débroussailleuse")
    page.get_by_label("Résumé").fill("Les gestes d'entretien après chaque chantier.")
    page.get_by_label("Texte", exact=True).fill(
        "## Après le chantier\n\n"
        "- Nettoyer le **carter** de la débroussailleuse\n"
        "- Vérifier le fil\n"
    )
    page.get_by_label("Espaces verts").check()
    page.get_by_label("Étiquettes").fill("débroussailleuse, EPI")
    page.get_by_label("Type").select_option(label="Fiche pratique")
    page.get_by_role("button", name="Prévisualiser").click()
    preview = page.get_by_role("region", name="Aperçu du texte (non enregistré)")
    expect(preview.get_by_role("heading", name="Après le chantier")).to_be_visible()
    expect(preview.locator("strong")).to_have_text("carter")
    expect(page.get_by_label("Espaces verts")).to_be_checked()  # the form kept what was typed
    page.get_by_role("button", name="Publier").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Entretien de la débroussailleuse")
    expect(page.get_by_role("status")).to_contain_text("(version 1)")

    # Attach a PDF on the document's page.
    page.get_by_label("Joindre un fichier").set_input_files(
        {"name": "Fiche entretien.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    page.get_by_role("button", name="Joindre le fichier").click()
    expect(page.get_by_role("status")).to_contain_text("« Fiche entretien.pdf »")

    # Find it without the accent and in the plural.
    page.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name="Bibliothèque"
    ).click()
    page.get_by_role("searchbox", name="Rechercher").fill("debroussailleuses")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.get_by_role("status")).to_contain_text("1 document pour « debroussailleuses »")
    result = page.locator(".documents .card")
    expect(result.locator("mark").first).to_have_text("débroussailleuse")
    result.get_by_role("link", name="Entretien de la débroussailleuse").click()

    # Download the attachment.
    with page.expect_download() as info:
        page.get_by_role("link", name="Fiche entretien.pdf").click()
    download = info.value
    assert download.suggested_filename == "Fiche entretien.pdf"
    assert Path(download.path()).read_bytes() == PDF

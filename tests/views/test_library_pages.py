"""Library pages: search with facets and snippets, a document's page and its buttons, the
editor and its preview, uploads and downloads through the page, versions and their comparison.

Documents are made through the services (as a régie would through the API), then driven
through the HTML forms with the CSRF token read from the page, as a browser would."""

import html
import io
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from sharing.accounts.models import User
from sharing.extensions import db
from sharing.library import queries
from sharing.library.models import Attachment, Document, DocumentVersion
from sharing.web import file_size
from tests.library.conftest import PDF, Library
from tests.views.conftest import csrf_token, login

ODD_VALUES = ["\x00", "x" * 5000, "é" * 300, "%", "\\", "' OR 1=1 --", "١٢", "-1", "1e400"]
HTML_AS_PDF = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


@pytest.fixture(autouse=True)
def attachments_dir(app: Flask, tmp_path: Path) -> Iterator[Path]:
    """Files uploaded by these tests go to a folder of the test's own."""
    folder = tmp_path / "attachments"
    previous = app.config["ATTACHMENTS_DIR"]
    app.config["ATTACHMENTS_DIR"] = str(folder)
    yield folder
    app.config["ATTACHMENTS_DIR"] = previous


@pytest.fixture
def library(app: Flask, make) -> Library:
    return Library(app, make)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def signed_in(app: Flask, user: User) -> FlaskClient:
    """A browser of its own for ``user``, signed in through the form."""
    client = app.test_client()
    login(client, user)
    return client


def count(app: Flask, model: type) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0


def editor_form(token: str, **fields) -> dict:
    """The editor's inputs as a browser sends them: themes as repeated checkboxes."""
    return {
        "csrf_token": token,
        "title": "Entretien de la débroussailleuse",
        "summary": "Les gestes d'entretien après chaque chantier.",
        "body": "## Après le chantier\n\nNettoyer le carter.\nVérifier le fil.\n",
        "themes": ["espaces-verts", "securite-prevention"],
        "tags": "Débroussailleuse, EPI , ",
        "type": "fiche-pratique",
        "licence": "CC-BY-4.0",
        "action": "save",
    } | fields


def upload(client: FlaskClient, document_id, content: bytes, filename: str, token: str):
    return client.post(
        f"/bibliotheque/{document_id}/fichiers",
        data={"csrf_token": token, "file": (io.BytesIO(content), filename, "application/pdf")},
        content_type="multipart/form-data",
    )


# --- Who sees which page and which buttons ----------------------------------------------------


@pytest.mark.parametrize("role", ["member", "manager", "admin"])
def test_pages_by_role_and_regie(app, make, library, role):
    author = make.user("member")
    document = library.document(author)
    library.document(author, title="Deuxième version", body="v1")
    base = f"/bibliotheque/{document.id}"
    own = make.user(role, regie=author.regie)
    other = make.user(role)
    pages = {
        "/bibliotheque": (200, 200),
        "/bibliotheque/nouveau": (200, 200),
        base: (200, 200),
        f"{base}/modifier": (200, 403),
        f"{base}/versions": (200, 200),
        f"{base}/versions/1": (200, 200),
        f"{base}/versions/1/comparer/1": (200, 200),
        f"{base}/versions/2": (404, 404),
    }
    for user, column in ((own, 0), (other, 1)):
        client = signed_in(app, user)
        for url, expected in pages.items():
            response = client.get(url)
            assert response.status_code == expected[column], (role, column, url)
            assert '<html lang="fr">' in response.get_data(as_text=True)
            if expected[column] == 403:
                assert "Accès refusé" in text(response)


def test_anonymous_visitors_are_sent_to_sign_in(client, library):
    document = library.document()
    for url in ("/bibliotheque", f"/bibliotheque/{document.id}", "/bibliotheque/nouveau"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/connexion" in response.headers["Location"]


def test_the_nav_links_to_the_library(client, as_user):
    as_user("member")
    page = client.get("/bibliotheque").get_data(as_text=True)
    assert re.search(r'<a href="/bibliotheque" aria-current="page">Bibliothèque</a>', page)


def test_buttons_follow_the_permissions(app, make, library):
    author = make.user("member")
    document = library.document(author)
    url = f"/bibliotheque/{document.id}"
    expected = {
        make.user("member", regie=author.regie): {"Modifier", "Joindre le fichier"},
        make.user("manager", regie=author.regie): {"Modifier", "Joindre le fichier", "Supprimer"},
        make.user("manager"): set(),
        make.user("admin"): set(),
    }
    for user, buttons in expected.items():
        page = text(signed_in(app, user).get(url))
        shown = {
            name
            for name in ("Modifier", "Joindre le fichier", "Supprimer")
            if re.search(rf">{name}</(a|button)>", page)
        }
        assert shown == buttons, (user.role, user.regie_id == author.regie_id)


def test_another_regies_posts_are_refused(app, make, library):
    document = library.document(make.user("manager"))
    client = signed_in(app, make.user("manager"))
    token = csrf_token(client, f"/bibliotheque/{document.id}")
    base = f"/bibliotheque/{document.id}"
    assert client.post(f"{base}/modifier", data=editor_form(token)).status_code == 403
    assert client.post(f"{base}/supprimer", data={"csrf_token": token}).status_code == 403
    assert upload(client, document.id, PDF, "fiche.pdf", token).status_code == 403
    preview = editor_form(token, action="preview")
    assert client.post(f"{base}/modifier", data=preview).status_code == 403
    assert library.get(document.id).version == 1
    assert count(app, Attachment) == 0


def test_a_member_may_not_delete(app, make, library):
    author = make.user("member")
    document = library.document(author)
    client = signed_in(app, author)
    token = csrf_token(client, f"/bibliotheque/{document.id}")
    response = client.post(f"/bibliotheque/{document.id}/supprimer", data={"csrf_token": token})
    assert response.status_code == 403
    assert library.get(document.id).deleted_at is None


def test_a_deleted_document_is_404_and_gone_from_the_library(app, make, library):
    manager = make.user("manager")
    document = library.document(manager, title="Protocole de nettoyage des halls")
    client = signed_in(app, manager)
    base = f"/bibliotheque/{document.id}"
    token = csrf_token(client, base)
    response = client.post(f"{base}/supprimer", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/bibliotheque"
    assert "est retiré de la bibliothèque" in text(client.get("/bibliotheque"))
    for url in (base, f"{base}/modifier", f"{base}/versions", f"{base}/versions/1"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"{base}/supprimer", data={"csrf_token": token}).status_code == 404
    assert "Protocole de nettoyage" not in text(client.get("/bibliotheque?q=halls"))
    assert client.get(f"/bibliotheque/{uuid.uuid4()}").status_code == 404


# --- The editor ---------------------------------------------------------------------------------


def test_publish_then_edit_then_compare(app, make):
    author = make.user("member")
    client = signed_in(app, author)
    form = client.get("/bibliotheque/nouveau").get_data(as_text=True)
    assert "<fieldset" in form
    assert "<legend>Thèmes" in form
    assert 'name="themes" type="checkbox" value="espaces-verts"' in form
    token = csrf_token(client, "/bibliotheque/nouveau")

    response = client.post("/bibliotheque/nouveau", data=editor_form(token))
    assert response.status_code == 302
    document_id = response.headers["Location"].rsplit("/", 1)[-1]
    page = text(client.get(f"/bibliotheque/{document_id}"))
    assert "est publié dans la bibliothèque (version 1)" in page
    assert "<h2>Après le chantier</h2>" in page
    assert "Sécurité et prévention" in page
    assert "Creative Commons Attribution 4.0" in page
    with app.app_context():
        document = db.session.get(Document, uuid.UUID(document_id))
        assert document.version == 1
        assert document.themes == ["espaces-verts", "securite-prevention"]
        assert document.tags == ["débroussailleuse", "epi"]
        assert document.regie_id == author.regie_id

    edit = f"/bibliotheque/{document_id}/modifier"
    values = text(client.get(edit))
    assert 'value="débroussailleuse, epi"' in values
    assert re.search(r'value="securite-prevention" checked', values)
    changed = editor_form(
        token,
        title="Entretien de la débroussailleuse thermique",
        body="## Après le chantier\n\nNettoyer le carter.\nAffûter la lame.\n",
        themes=["espaces-verts"],
    )
    response = client.post(edit, data=changed)
    assert response.status_code == 302
    assert "(version 2)" in text(client.get(f"/bibliotheque/{document_id}"))

    history = text(client.get(f"/bibliotheque/{document_id}/versions"))
    assert "Version 2</a> (actuelle)" in history
    assert author.name in history
    old = text(client.get(f"/bibliotheque/{document_id}/versions/1"))
    assert "Vérifier le fil." in old
    assert "Ce n'est pas la version actuelle" in old

    diff = text(client.get(f"/bibliotheque/{document_id}/versions/1/comparer/2"))
    assert re.search(r"<del><span class=\"visually-hidden\">Retiré : </span>Vérifier le fil.", diff)
    assert re.search(r"<ins><span class=\"visually-hidden\">Ajouté : </span>Affûter la lame.", diff)
    assert "<del>Entretien de la débroussailleuse</del>" in diff
    assert "<ins>Entretien de la débroussailleuse thermique</ins>" in diff
    assert "<del>Espaces verts, Sécurité et prévention</del>" in diff
    assert "Lignes 1 à 4 de l'ancienne version" in diff
    # The history's form picks two versions and lands on the same page.
    response = client.get(f"/bibliotheque/{document_id}/comparer?de=1&a=2")
    assert response.headers["Location"] == f"/bibliotheque/{document_id}/versions/1/comparer/2"


def test_saving_without_a_change_makes_no_version(app, make, library):
    author = make.user("member")
    document = library.document(author, tags=["epi"])
    client = signed_in(app, author)
    edit = f"/bibliotheque/{document.id}/modifier"
    page = client.get(edit).get_data(as_text=True)
    token = csrf_token(client, edit)
    values = {
        name: html.unescape(re.search(rf'id="f-{name}"[^>]*value="([^"]*)"', page).group(1))
        for name in ("title", "tags")
    }
    form = {
        "csrf_token": token,
        **values,
        "summary": document.summary,
        "body": document.body,
        "themes": document.themes,
        "type": document.type.value,
        "licence": document.licence,
    }
    client.post(edit, data=form)
    assert "Aucune modification" in text(client.get(f"/bibliotheque/{document.id}"))
    assert library.get(document.id).version == 1


def test_a_refused_form_keeps_the_values_and_names_the_fields(app, make):
    client = signed_in(app, make.user("member"))
    token = csrf_token(client, "/bibliotheque/nouveau")
    form = editor_form(token, title="  ", themes=[], tags="x" * 60, type="")
    response = client.post("/bibliotheque/nouveau", data=form)
    assert response.status_code == 422
    page = text(response)
    assert "Choisissez au moins un thème." in page
    assert "Ce champ est obligatoire." in page
    assert "50 caractères au plus par étiquette." in page
    assert 'aria-describedby="f-themes-error"' in page
    assert '<a href="#f-themes">Thèmes</a>' in page
    assert "Nettoyer le carter." in page  # what was typed is still there
    assert count(app, Document) == 0


def test_unknown_themes_and_types_are_refused(app, make):
    client = signed_in(app, make.user("member"))
    token = csrf_token(client, "/bibliotheque/nouveau")
    form = editor_form(token, themes=["espaces-verts", "piraterie"], type="roman")
    response = client.post("/bibliotheque/nouveau", data=form)
    assert response.status_code == 422
    assert "Thème inconnu." in text(response)
    assert count(app, Document) == 0


def test_odd_form_values_never_fail(app, make, library):
    author = make.user("member")
    document = library.document(author)
    client = signed_in(app, author)
    token = csrf_token(client, "/bibliotheque/nouveau")
    for url in ("/bibliotheque/nouveau", f"/bibliotheque/{document.id}/modifier"):
        for name in ("title", "summary", "tags", "type", "licence", "themes"):
            for value in ODD_VALUES:
                response = client.post(url, data=editor_form(token, **{name: value}))
                assert response.status_code in (302, 422), (url, name, value)
    for value in ODD_VALUES:
        response = client.post(url, data=editor_form(token, body=value, action="preview"))
        assert response.status_code == 200, value


def test_preview_renders_sanitised_markdown_and_saves_nothing(app, make, library):
    author = make.user("member")
    client = signed_in(app, author)
    token = csrf_token(client, "/bibliotheque/nouveau")
    body = (
        "## Consignes\n\n**Toujours** porter les EPI.\n\n<script>alert('xss')</script>\n\n"
        "[piège](javascript:alert(1)) <img src=x onerror=alert(1)>"
    )
    response = client.post(
        "/bibliotheque/nouveau", data=editor_form(token, body=body, action="preview")
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    preview = page[page.index('id="apercu"') :]
    assert "<h2>Consignes</h2>" in preview
    assert "<strong>Toujours</strong>" in preview
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert" in preview
    assert 'href="javascript:' not in page
    assert "Entretien de la débroussailleuse" in page  # the form keeps what was typed
    assert count(app, Document) == 0

    document = library.document(author)
    edit = f"/bibliotheque/{document.id}/modifier"
    response = client.post(edit, data=editor_form(token, body="*nouveau*", action="preview"))
    assert "<em>nouveau</em>" in response.get_data(as_text=True)
    assert library.get(document.id).version == 1
    assert count(app, DocumentVersion) == 1


def test_the_document_page_renders_the_body_sanitised(app, make, library):
    body = "Texte **gras**.\n\n<script>alert(1)</script>\n\n[site](https://regies.example)"
    document = library.document(body=body, summary="Résumé <b>brut</b>")
    page = signed_in(app, make.user("member")).get(f"/bibliotheque/{document.id}")
    source = page.get_data(as_text=True)
    assert "<strong>gras</strong>" in source
    assert "<script>alert" not in source
    assert "&lt;script&gt;" in source
    assert "Résumé &lt;b&gt;brut&lt;/b&gt;" in source
    assert 'rel="noopener noreferrer"' in source


def test_the_date_is_shown_in_the_users_regie_timezone(app, make, library):
    document = library.document()
    with app.app_context():
        row = db.session.get(Document, document.id)
        row.updated_at = datetime(2027, 3, 1, 23, 30, tzinfo=UTC)
        db.session.commit()
    reunion = make.regie(timezone="Indian/Reunion")
    page = text(
        signed_in(app, make.user("member", regie=reunion)).get(f"/bibliotheque/{document.id}")
    )
    local = datetime(2027, 3, 1, 23, 30, tzinfo=UTC).astimezone(ZoneInfo("Indian/Reunion"))
    assert local.strftime("%H:%M") == "03:30"
    assert "mise à jour le 2 mars 2027 à 03:30" in page


# --- Attachments ------------------------------------------------------------------------------


def test_upload_through_the_page_then_download(app, make, library):
    author = make.user("member")
    document = library.document(author)
    client = signed_in(app, author)
    url = f"/bibliotheque/{document.id}"
    token = csrf_token(client, url)
    response = upload(client, document.id, PDF, "Fiche sécurité.pdf", token)
    assert response.status_code == 302
    assert response.headers["Location"] == url
    page = client.get(url).get_data(as_text=True)
    assert "« Fiche sécurité.pdf » (" in html.unescape(page)
    assert f"{len(PDF)} octets" in page
    assert "PDF" in page
    link = re.search(r'href="(/bibliotheque/[^"]+/fichiers/[^"]+)" download>', page).group(1)

    other = signed_in(app, make.user("member"))  # every signed-in user downloads
    with other.get(link) as download:  # a file response: closed when read
        assert download.status_code == 200
        assert download.data == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''Fiche%20s%C3%A9curit%C3%A9.pdf" in disposition
    assert other.get(f"{link[:-36]}{uuid.uuid4()}").status_code == 404


def test_an_html_file_renamed_pdf_is_refused_with_a_french_message(app, make, library):
    author = make.user("member")
    document = library.document(author)
    client = signed_in(app, author)
    url = f"/bibliotheque/{document.id}"
    token = csrf_token(client, url)
    response = upload(client, document.id, HTML_AS_PDF, "rapport.pdf", token)
    assert response.status_code == 302
    page = text(client.get(url))
    assert (
        'class="flash flash-error" role="alert">Fichier refusé : Type de fichier non accepté'
        in (page)
    )
    assert count(app, Attachment) == 0


@pytest.mark.parametrize(
    ("config", "content", "message"),
    [
        ({"ATTACHMENT_MAX_BYTES": 64}, PDF + b" " * 100, "dépasse la taille maximale (64 octets)"),
        ({"MAX_CONTENT_LENGTH": 512}, PDF + b" " * 1000, "dépasse la taille maximale"),
        ({}, b"", "Choisissez un fichier à joindre."),
    ],
)
def test_refused_uploads_are_messages_on_the_page(app, make, library, config, content, message):
    author = make.user("member")
    document = library.document(author)
    client = signed_in(app, author)
    url = f"/bibliotheque/{document.id}"
    token = csrf_token(client, url)
    previous = {key: app.config[key] for key in config}
    app.config.update(config)
    try:
        response = upload(client, document.id, content, "" if not content else "a.pdf", token)
    finally:
        app.config.update(previous)
    assert response.status_code == 302
    assert response.headers["Location"] == url
    page = text(client.get(url))
    assert message in page
    assert "flash-error" in page
    assert count(app, Attachment) == 0


def test_an_empty_file_is_refused(app, make, library):
    author = make.user("member")
    document = library.document(author)
    client = signed_in(app, author)
    url = f"/bibliotheque/{document.id}"
    upload(client, document.id, b"", "vide.pdf", csrf_token(client, url))
    assert "Fichier refusé : Le fichier est vide." in text(client.get(url))


def test_a_pending_attachment_is_marked_and_not_linked(app, make, library):
    document = library.replica()
    with app.app_context():
        db.session.add(
            Attachment(
                document_id=document.id,
                filename="plan.pdf",
                media_type="application/pdf",
                size=1_258_291,
                sha256="a" * 64,
                is_pending=True,
            )
        )
        db.session.commit()
    page = text(signed_in(app, make.user("manager")).get(f"/bibliotheque/{document.id}"))
    assert "« en attente »" in page
    assert "1,2\u00a0Mo" in page
    assert "/fichiers/" not in page
    assert "une autre instance du réseau" in page
    assert ">Modifier</a>" not in page


def test_file_sizes_in_french():
    assert file_size(532) == "532 octets"
    assert file_size(12 * 1024) == "12\u00a0ko"
    assert file_size(1_258_291) == "1,2\u00a0Mo"
    assert file_size(20 * 1024 * 1024) == "20\u00a0Mo"


# --- Search, facets, pagination -----------------------------------------------------------------


def test_a_search_past_the_cap_says_at_least(app, make, library, monkeypatch):
    for place in ("collectif", "partagé", "scolaire", "urbain"):
        library.document(title=f"Compostage {place}")
    monkeypatch.setattr(queries, "CANDIDATES", 3)
    client = signed_in(app, make.user("member"))

    capped = client.get("/bibliotheque?q=compostage").get_data(as_text=True)
    exact = client.get("/bibliotheque?q=compostage+scolaire").get_data(as_text=True)

    assert "Au moins 3 documents pour « compostage »" in capped
    assert "Au moins" not in exact
    assert "1 document pour « compostage scolaire »" in exact


def test_a_word_without_accents_in_the_plural_finds_the_document(app, make, library):
    library.document(
        title="Entretien de la débroussailleuse",
        body="Nettoyer la <b>débroussailleuse</b> après usage.",
    )
    library.document(title="Protocole de nettoyage des halls", body="Balayer, laver.")
    client = signed_in(app, make.user("member"))
    response = client.get("/bibliotheque?q=debroussailleuses")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "1 document pour « debroussailleuses »" in page
    assert "Entretien de la débroussailleuse" in page
    assert "Protocole de nettoyage" not in page
    assert "&lt;b&gt;<mark>débroussailleuse</mark>&lt;/b&gt;" in page
    assert "<b>" not in page


def test_facets_count_the_whole_result_and_toggle_filters(app, make, library):
    first, second = make.user("member"), make.user("member")
    library.document(first, themes=["espaces-verts", "securite-prevention"], type="guide")
    library.document(first, themes=["espaces-verts"], type="procedure")
    library.document(second, themes=["proprete"], type="procedure")
    client = signed_in(app, make.user("member"))

    page = text(client.get("/bibliotheque"))
    sidebar = page[page.index('class="facets"') : page.index('class="results"')]

    def facet(label: str) -> str:
        match = re.search(
            rf'<a href="([^"]*)"[^>]*>{label}</a> <span class="facet-count">\((\d+)', sidebar
        )
        assert match, label
        return match.group(1), int(match.group(2))

    assert facet("Espaces verts")[1] == 2
    assert facet("Propreté")[1] == 1
    assert facet("Procédure")[1] == 2
    assert facet(re.escape(first.regie.name))[1] == 2
    assert facet("Cette instance")[1] == 3

    url, _ = facet("Espaces verts")
    assert url == "/bibliotheque?theme=espaces-verts"
    filtered = text(client.get(url))
    assert "2 documents." in filtered
    sidebar = filtered[filtered.index('class="facets"') : filtered.index('class="results"')]
    assert facet("Procédure")[1] == 1
    assert facet("Guide")[1] == 1
    assert "Propreté" not in sidebar
    assert facet("Espaces verts")[0] == "/bibliotheque"  # the active value removes the filter
    assert 'aria-current="true"' in sidebar
    with_type = text(client.get("/bibliotheque?theme=espaces-verts&type=guide&q=zero"))
    assert 'name="theme" value="espaces-verts"' in with_type  # a new search keeps the filters
    assert "Type : Guide" in with_type


def test_pagination(app, make, library):
    author = make.user("member")
    for n in range(3):
        library.document(author, title=f"Fiche numéro {n}")
    client = signed_in(app, author)
    page = text(client.get("/bibliotheque?per_page=2"))
    assert "Page 1 sur 2" in page
    assert 'href="/bibliotheque?per_page=2&page=2"' in page
    assert page.count('class="card"') == 2
    assert text(client.get("/bibliotheque?per_page=2&page=2")).count('class="card"') == 1


@pytest.mark.parametrize(
    "query",
    [
        "page=0",
        "per_page=500",
        "type=roman",
        "theme=piraterie",
        "regie=abc",
        "instance=ailleurs",
        "q=" + "x" * 300,
        "tag=" + "t" * 60,
        "q=%00",
    ],
)
def test_bad_query_strings_are_a_french_400(client, as_user, query):
    as_user("member")
    response = client.get(f"/bibliotheque?{query}")
    assert response.status_code == 400
    assert "Paramètre de recherche invalide" in text(response)


def test_odd_query_strings_never_fail(client, as_user, library):
    document = library.document(as_user("member"))
    for name in ("q", "page", "per_page", "theme", "type", "tag", "regie", "instance"):
        for value in ODD_VALUES:
            response = client.get("/bibliotheque", query_string={name: value})
            assert response.status_code in (200, 400), (name, value)
    for query in ("de=1&a=x", "de=&a=1", "a=1", "de=99999999999&a=1"):
        response = client.get(f"/bibliotheque/{document.id}/comparer?{query}")
        assert response.status_code == 400, query
    assert client.get(f"/bibliotheque/{document.id}/versions/1/comparer/7").status_code == 404


def test_the_dashboard_lists_the_regies_latest_documents(app, make, library):
    author = make.user("member")
    library.document(author, title="Charte du jardin partagé")
    library.document(make.user("member"), title="Protocole de nettoyage des halls")
    client = signed_in(app, make.user("manager", regie=author.regie))
    page = text(client.get("/"))
    panel = page[page.index('id="documents"') : page.index('id="raccourcis"')]
    assert "Charte du jardin partagé" in panel
    assert "Protocole de nettoyage" not in panel
    assert f'href="/bibliotheque?regie={author.regie_id}"' in panel
    assert "aucun document" in text(signed_in(app, make.user("member")).get("/"))


def test_an_oversized_editor_form_is_a_french_413_page(app, make):
    client = signed_in(app, make.user("member"))
    token = csrf_token(client, "/bibliotheque/nouveau")
    previous = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 512
    try:
        response = client.post("/bibliotheque/nouveau", data=editor_form(token, body="x" * 1000))
    finally:
        app.config["MAX_CONTENT_LENGTH"] = previous
    assert response.status_code == 413
    assert "Le fichier envoyé est trop volumineux." in text(response)
    assert '<html lang="fr">' in text(response)

"""The CSV export link and the import page of "my régie's resources"."""

import html
import io

from sqlalchemy import select

from sharing.catalogue.models import Resource
from sharing.extensions import db
from tests.views.conftest import csrf_token

IMPORT = "/ma-regie/materiel/import"


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def names(make, regie_id) -> list[str]:
    with make.app.app_context():
        stmt = select(Resource.name).where(Resource.regie_id == regie_id).order_by(Resource.name)
        return list(db.session.scalars(stmt))


def upload(client, body: str, **options: str):
    data = {
        "csrf_token": csrf_token(client, IMPORT),
        "file": (io.BytesIO(body.encode("utf-8")), "inventaire.csv", "text/csv"),
    } | options
    return client.post(IMPORT, data=data, content_type="multipart/form-data")


def test_export_downloads_the_regie_inventory(client, as_user, make):
    manager = as_user("manager")
    make.resource(manager, name="Débroussailleuse", deposit_eur="1 200,50")
    make.resource(make.user("manager"), name="Pas chez nous")
    response = client.get("/ma-regie/materiel/export.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert manager.regie.slug in disposition
    body = response.get_data(as_text=True)
    assert "Débroussailleuse" in body
    assert "1200,50" in body
    assert "Pas chez nous" not in body


def test_members_may_not_export_or_import(client, as_user):
    as_user("member")
    assert client.get("/ma-regie/materiel/export.csv").status_code == 403
    assert client.get(IMPORT).status_code == 403
    token = csrf_token(client, "/ma-regie/materiel")
    response = client.post(IMPORT, data={"csrf_token": token})
    assert response.status_code == 403


def test_import_page_offers_the_options(client, as_user):
    as_user("manager")
    page = text(client.get(IMPORT))
    assert 'enctype="multipart/form-data"' in page
    assert '<label for="f-file">' in page
    assert "Simulation (dry run)" in page
    assert "Ignorer les lignes invalides" in page
    assert 'id="f-dry_run" name="dry_run" type="checkbox" value="1" checked' in page


def test_import_without_a_file_is_refused_in_french(client, as_user):
    as_user("manager")
    response = client.post(IMPORT, data={"csrf_token": csrf_token(client, IMPORT)})
    assert response.status_code == 422
    assert "Choisissez un fichier CSV." in text(response)


def test_dry_run_reports_and_changes_nothing(client, as_user, make):
    manager = as_user("manager")
    response = upload(client, "nom;categorie\nBroyeur de végétaux;Espaces verts\n", dry_run="1")
    assert response.status_code == 200
    page = text(response)
    assert "Résultat de la simulation" in page
    assert "rien n'a été enregistré" in page
    assert '<th scope="row">Créations prévues</th><td class="num">1</td>' in page
    assert names(make, manager.regie_id) == []


def test_import_creates_resources(client, as_user, make):
    manager = as_user("manager")
    response = upload(client, "nom;categorie\nBroyeur de végétaux;Espaces verts\n")
    assert response.status_code == 200
    page = text(response)
    assert "Résultat de l'import" in page
    assert "Les modifications sont enregistrées." in page
    assert '<th scope="row">Créations</th><td class="num">1</td>' in page
    assert names(make, manager.regie_id) == ["Broyeur de végétaux"]


def test_bad_lines_are_reported_and_nothing_is_written(client, as_user, make):
    manager = as_user("manager")
    body = "nom;categorie\nBroyeur;Espaces verts\n;Fusées\n"
    response = upload(client, body)
    assert response.status_code == 422
    page = text(response)
    assert "Erreurs par ligne" in page
    assert '<td class="num">3</td>' in page  # the bad line's number, header = line 1
    assert names(make, manager.regie_id) == []

    skipped = upload(client, body, skip_invalid="1")
    assert skipped.status_code == 200
    page = text(skipped)
    assert '<th scope="row">Lignes invalides ignorées</th><td class="num">1</td>' in page
    assert names(make, manager.regie_id) == ["Broyeur"]


def test_unreadable_file_is_a_form_error(client, as_user, make):
    manager = as_user("manager")
    response = upload(client, "nom;categorie\n")  # a header and no line
    assert response.status_code == 422
    assert 'id="f-file-error"' in response.get_data(as_text=True)
    assert names(make, manager.regie_id) == []


def test_import_view_commits_only_an_applied_report(client, as_user, make, monkeypatch):
    """The view's own contract, whatever the importer decides: flags passed through,
    a report that is not applied is rolled back."""
    from sharing.catalogue import services, spreadsheet
    from sharing.catalogue.schemas import ResourceArgs

    manager = as_user("manager")
    calls = []

    def fake_import(actor, data, *, dry_run, skip_invalid):
        calls.append((actor.id, data, dry_run, skip_invalid))
        services.create_resource(
            actor, ResourceArgs().load({"name": "Fantôme", "category": "outillage"})
        )
        return spreadsheet.ImportReport(dry_run=dry_run, applied=False, created=1)

    monkeypatch.setattr(spreadsheet, "import_inventory", fake_import)
    response = upload(client, "peu importe", dry_run="1", skip_invalid="1")
    assert response.status_code == 200
    assert calls == [(manager.id, b"peu importe", True, True)]
    assert names(make, manager.regie_id) == []

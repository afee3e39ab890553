"""CSV export and import of a régie's inventory, through HTTP and a real database."""

import csv
import io
import random
import uuid
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from sharing import search
from sharing.catalogue import spreadsheet
from sharing.catalogue.models import Condition, Resource, ResourceStatus
from sharing.extensions import db

EXPORT = "/api/v1/resources/export.csv"
IMPORT = "/api/v1/resources/import"
HEADER = (
    "id;nom;categorie;etat;statut;emplacement;description;caution_eur;"
    "valeur_remplacement_eur;duree_max_jours;preavis_heures;prerequis"
)
# Every field a spreadsheet carries, compared after a round trip.
FIELDS = (
    "name",
    "description",
    "category",
    "condition",
    "location",
    "status",
    "deposit_eur",
    "replacement_value_eur",
    "max_loan_days",
    "min_notice_hours",
    "requirements",
)


def inventory(app: Flask, regie_id: uuid.UUID) -> list[Resource]:
    with app.app_context():
        stmt = select(Resource).where(Resource.regie_id == regie_id).order_by(Resource.name)
        return list(db.session.scalars(stmt))


def count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Resource)) or 0


def found(app: Flask, q: str) -> set[uuid.UUID]:
    """The ids of the resources the search index finds for ``q``."""
    with app.app_context():
        hits = search.matches("resource", q).subquery()
        return set(db.session.scalars(select(hits.c.record_id)))


def values(resource: Resource) -> dict[str, Any]:
    return {name: getattr(resource, name) for name in FIELDS}


def post_csv(client, headers: dict[str, str], body: bytes | str, **query: str) -> Any:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return client.post(
        IMPORT,
        data=data,
        query_string=query,
        headers=headers | {"Content-Type": "text/csv"},
    )


def retire(app: Flask, client, headers: dict[str, str], resource: Resource) -> None:
    assert client.delete(f"/api/v1/resources/{resource.id}", headers=headers).status_code == 204


@pytest.fixture
def stocked(make, client, app):
    """A manager whose régie lists a varied inventory, one resource retired."""
    manager = make.user("manager", regie=make.regie(slug="vierzon", name="Régie de Vierzon"))
    make.resource(
        manager,
        name="Débroussailleuse thermique 1,5 kW + harnais",
        category="espaces-verts",
        condition="worn",
        location="Atelier rue Jean Jaurès; box 2",
        description='Moteur 2 temps.\nLivrée avec "harnais" double et visière.',
        deposit_eur="1 200,50",
        replacement_value_eur="689.90",
        max_loan_days=7,
        min_notice_hours=48,
        requirements="EPI obligatoires : casque-visière, antibruit, jambières",
    )
    make.resource(manager, name="Grelinette (lot de 2)", category="maraichage", condition="new")
    make.resource(
        manager,
        name="=Autolaveuse accompagnée 50 cm",
        category="proprete",
        status="maintenance",
        deposit_eur="500",
        min_notice_hours=0,
    )
    old = make.resource(manager, name="Vieille bétonnière", category="batiment")
    retire(app, client, make.auth(manager), old)
    return manager


# --- Export ---


def test_export_is_a_french_excel_csv(client, make, stocked):
    response = client.get(EXPORT, headers=make.auth(stocked))

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "inventaire-vierzon-" in disposition
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert text.split("\r\n")[0] == HEADER
    rows = list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))
    assert len(rows) == 4, "retired resources are exported too"
    by_name = {row["nom"]: row for row in rows}
    brush = by_name["Débroussailleuse thermique 1,5 kW + harnais"]
    assert brush["categorie"] == "Espaces verts"
    assert brush["etat"] == "Usé"
    assert brush["statut"] == "Disponible"
    assert brush["caution_eur"] == "1200,50"
    assert brush["valeur_remplacement_eur"] == "689,90"
    assert brush["duree_max_jours"] == "7"
    assert brush["preavis_heures"] == "48"
    assert brush["emplacement"] == "Atelier rue Jean Jaurès; box 2"
    assert brush["description"] == 'Moteur 2 temps.\nLivrée avec "harnais" double et visière.'
    assert by_name["Grelinette (lot de 2)"]["caution_eur"] == ""
    assert by_name["Vieille bétonnière"]["statut"] == "Retiré"
    # A spreadsheet would run a cell starting with "=" as a formula.
    assert "'=Autolaveuse accompagnée 50 cm" in by_name
    assert by_name["'=Autolaveuse accompagnée 50 cm"]["statut"] == "En maintenance"


def test_export_route_is_not_taken_for_a_resource_id(client, make):
    manager = make.user("manager")

    response = client.get(EXPORT, headers=make.auth(manager))

    assert response.status_code == 200
    assert response.get_data().decode("utf-8-sig").strip() == HEADER


# --- Round trips ---


def test_export_imported_by_another_regie_copies_every_field(client, make, app, stocked):
    exported = client.get(EXPORT, headers=make.auth(stocked)).get_data()
    other = make.user("manager", regie=make.regie(slug="agen"))

    response = post_csv(client, make.auth(other), exported)

    assert response.status_code == 200, response.json
    assert response.json == {
        "dry_run": False,
        "applied": True,
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "ignored": 1,
        "skipped": 0,
        "errors": [],
        "unknown_columns": [],
    }
    originals = [r for r in inventory(app, stocked.regie_id) if r.status != "retired"]
    copies = inventory(app, other.regie_id)
    assert [values(r) for r in copies] == [values(r) for r in originals]
    assert {r.id for r in copies}.isdisjoint({r.id for r in originals})
    assert all(r.version == 1 for r in copies)
    assert "=Autolaveuse accompagnée 50 cm" in {r.name for r in copies}
    for copy in copies:  # created through the service, so searchable
        assert copy.id in found(app, copy.name), copy.name


def test_reimport_updates_in_place_and_bumps_only_changed_versions(client, make, app, stocked):
    headers = make.auth(stocked)
    exported = client.get(EXPORT, headers=headers).get_data().decode("utf-8-sig")
    before = {r.id: r for r in inventory(app, stocked.regie_id)}

    same = post_csv(client, headers, exported)

    assert same.status_code == 200, same.json
    assert (same.json["created"], same.json["updated"], same.json["unchanged"]) == (0, 0, 3)
    assert same.json["ignored"] == 1
    assert {r.id: r.version for r in inventory(app, stocked.regie_id)} == {
        key: r.version for key, r in before.items()
    }

    edited = exported.replace("Atelier rue Jean Jaurès; box 2", "Local du Clos du Roy")
    changed = post_csv(client, headers, edited)

    assert changed.status_code == 200, changed.json
    assert (changed.json["created"], changed.json["updated"]) == (0, 1)
    after = {r.id: r for r in inventory(app, stocked.regie_id)}
    assert after.keys() == before.keys(), "no duplicates"
    bumped = {key for key in after if after[key].version != before[key].version}
    assert len(bumped) == 1
    (key,) = bumped
    assert after[key].location == "Local du Clos du Roy"
    assert after[key].version == before[key].version + 1
    assert found(app, "clos du roy") == {key}, "reindexed by the update"
    assert key not in found(app, "jean jaures")


def test_another_regies_ids_never_update_their_resources(client, make, app, stocked):
    exported = client.get(EXPORT, headers=make.auth(stocked)).get_data().decode("utf-8-sig")
    before = {r.id: values(r) | {"version": r.version} for r in inventory(app, stocked.regie_id)}
    intruder = make.user("manager")

    response = post_csv(client, make.auth(intruder), exported.replace("Usé", "Endommagé"))

    assert response.status_code == 200
    assert response.json["created"] == 3
    after = {r.id: values(r) | {"version": r.version} for r in inventory(app, stocked.regie_id)}
    assert after == before


# --- French spreadsheets as they come ---


def test_excel_windows_1252_file_with_french_headers_and_labels(client, make, app):
    manager = make.user("manager")
    text = (
        "Désignation;Catégorie;État;Statut;Caution (€);Valeur de remplacement (€);"
        "Durée max (jours);Préavis (h);Lieu;Prérequis\r\n"
        "Tondeuse autoportée 102 cm;espaces verts;Bon état;Disponible;1 234,50 €;"
        "3\u00a0990,00 €;3;72 h;Atelier rue de la Gare;Permis B si voie publique\r\n"
        "Désherbeur à eau chaude;DÉSHERBAGE ZÉRO PHYTO;usé;en maintenance;800;;;;;\r\n"
        "Sonorisation portable + micro;Evenementiel;Neuf;;300,00;;2;;;\r\n"
        ";;;;;;;;;\r\n"
        "\r\n"
    )

    response = post_csv(client, make.auth(manager), text.encode("cp1252"))

    assert response.status_code == 200, response.json
    assert response.json["created"] == 3
    by_name = {r.name: r for r in inventory(app, manager.regie_id)}
    mower = by_name["Tondeuse autoportée 102 cm"]
    weeder = by_name["Désherbeur à eau chaude"]
    sound = by_name["Sonorisation portable + micro"]
    assert mower.category == "espaces-verts"
    assert mower.condition is Condition.GOOD
    assert mower.deposit_eur == Decimal("1234.50")
    assert mower.replacement_value_eur == Decimal("3990.00")
    assert (mower.max_loan_days, mower.min_notice_hours) == (3, 72)
    assert mower.location == "Atelier rue de la Gare"
    assert mower.requirements == "Permis B si voie publique"
    assert weeder.category == "zero-phyto"
    assert weeder.condition is Condition.WORN
    assert weeder.status is ResourceStatus.MAINTENANCE
    assert weeder.max_loan_days is None, "an empty cell takes the default"
    assert sound.category == "evenementiel"
    assert sound.condition is Condition.NEW
    assert sound.status is ResourceStatus.AVAILABLE


def test_utf8_bom_commas_quotes_and_line_breaks_inside_cells(client, make, app):
    manager = make.user("manager")
    text = (
        "\ufeffName,Category,Description,Caution\n"
        '"Barnum pliant 3 × 3 m (lot de 2)",evenementiel,"Rendre propre et sec ;\n'
        'toile à faire sécher, ""impérativement"".",200\n'
        "Tables pliantes (lot de 10),Événementiel,,100\n"
    )

    response = post_csv(client, make.auth(manager), text)

    assert response.status_code == 200, response.json
    marquee, tables = sorted(inventory(app, manager.regie_id), key=lambda r: r.name)
    assert marquee.description == (
        'Rendre propre et sec ;\ntoile à faire sécher, "impérativement".'
    )
    assert marquee.deposit_eur == Decimal("200")
    assert tables.category == "evenementiel"


def test_excel_unicode_text_is_utf16_with_tabs(client, make, app):
    manager = make.user("manager")
    text = "Nom\tCatégorie\tCaution (€)\r\nVélo cargo électrique\tVélos et mobilité douce\t300\r\n"

    response = post_csv(client, make.auth(manager), text.encode("utf-16"))

    assert response.status_code == 200, response.json
    (bike,) = inventory(app, manager.regie_id)
    assert (bike.name, bike.category, bike.deposit_eur) == (
        "Vélo cargo électrique",
        "mobilite-douce",
        Decimal("300.00"),
    )


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Nom", "name"),
        ("DÉSIGNATION", "name"),
        ("nom du matériel", "name"),
        ("Catégorie", "category"),
        ("Famille", "category"),
        ("État", "condition"),
        ("Statut", "status"),
        ("Caution (€)", "deposit_eur"),
        ("Caution en euros", "deposit_eur"),
        ("Dépôt de garantie", "deposit_eur"),
        ("valeur_remplacement_eur", "replacement_value_eur"),
        ("Valeur à neuf (€)", "replacement_value_eur"),
        ("Durée maximale de prêt (jours)", "max_loan_days"),
        ("Préavis (heures)", "min_notice_hours"),
        ("Délai de prévenance", "min_notice_hours"),
        ("Lieu de stockage", "location"),
        ("Prérequis", "requirements"),
        ("deposit_eur", "deposit_eur"),
        ("ID", "id"),
    ],
)
def test_header_synonyms(header, field):
    assert spreadsheet.HEADERS[spreadsheet.header_key(header)].field == field


def test_no_header_synonym_is_shadowed():
    for column in spreadsheet.COLUMNS:
        for name in (column.header, column.field, *column.synonyms):
            assert spreadsheet.HEADERS[spreadsheet.header_key(name)] is column, name


def test_unknown_columns_are_ignored_and_reported(client, make, app):
    manager = make.user("manager")
    text = (
        "N° inventaire;Nom;Catégorie;Date d'achat\nINV-042;Transpalette manuel;manutention;2019\n"
    )

    response = post_csv(client, make.auth(manager), text)

    assert response.status_code == 200, response.json
    assert response.json["unknown_columns"] == ["N° inventaire", "Date d'achat"]
    assert [r.name for r in inventory(app, manager.regie_id)] == ["Transpalette manuel"]


def test_missing_columns_leave_fields_alone_and_blank_cells_reset_them(client, make, app):
    manager = make.user("manager")
    resource = make.resource(
        manager, name="Remorque plateau 750 kg", category="vehicules", deposit_eur="300"
    )
    make.resource(manager, name="Fourgon", category="vehicules", requirements="Permis B")
    headers = make.auth(manager)

    response = post_csv(
        client, headers, f"id;nom;categorie;prerequis\n{resource.id};Remorque 750 kg;vehicules;\n"
    )

    assert response.status_code == 200, response.json
    assert response.json["updated"] == 1
    trailer = make.get(Resource, resource.id)
    assert trailer.name == "Remorque 750 kg"
    assert trailer.deposit_eur == Decimal("300.00"), "no caution column: unchanged"
    assert trailer.requirements == ""
    assert trailer.version == 2


# --- Bad lines ---

BAD_FILE = (
    "nom;categorie;caution_eur;duree_max_jours;etat\n"  # line 1
    "Motobineuse;maraichage;200;7;bon état\n"  # 2
    "Pelleteuse;travaux publics;;;\n"  # 3
    "\n"  # 4
    '"Semoir manuel\nde précision";maraichage;quatre-vingts;une semaine;cassé\n'  # 5-6
    ";proprete;;;\n"  # 7
    "Balance plate-forme 150 kg;maraichage;50,00;;\n"  # 8
)


def test_bad_lines_are_reported_by_file_line_and_nothing_is_written(client, make, app):
    manager = make.user("manager")

    response = post_csv(client, make.auth(manager), BAD_FILE)

    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "import_invalid"
    assert "3 ligne(s)" in error["message"]
    lines = {entry["line"]: entry["errors"] for entry in error["details"]["lines"]}
    assert sorted(lines) == [3, 5, 7]
    assert list(lines[3]) == ["categorie"]
    assert "travaux publics" in lines[3]["categorie"][0]
    assert set(lines[5]) == {"caution_eur", "duree_max_jours", "etat"}
    assert lines[5]["caution_eur"] == ["Montant invalide."]
    assert lines[7] == {"nom": ["Ce champ ne peut pas être vide."]}
    assert count(app) == 0


def test_skip_invalid_writes_the_good_lines_only(client, make, app):
    manager = make.user("manager")

    response = post_csv(client, make.auth(manager), BAD_FILE, skip_invalid="1")

    assert response.status_code == 200, response.json
    body = response.json
    assert (body["applied"], body["created"], body["skipped"]) == (True, 2, 3)
    assert [e["line"] for e in body["errors"]] == [3, 5, 7]
    names = {r.name for r in inventory(app, manager.regie_id)}
    assert names == {"Balance plate-forme 150 kg", "Motobineuse"}


def test_dry_run_counts_and_writes_nothing(client, make, app, stocked):
    headers = make.auth(stocked)
    exported = client.get(EXPORT, headers=headers).get_data().decode("utf-8-sig")
    edited = exported.replace("Usé", "Endommagé") + ";Semoir manuel;maraichage;;;;;;;;;\r\n"
    versions = {r.id: r.version for r in inventory(app, stocked.regie_id)}

    response = post_csv(client, headers, edited, dry_run="1")

    assert response.status_code == 200, response.json
    body = response.json
    assert (body["dry_run"], body["applied"]) == (True, False)
    assert (body["created"], body["updated"], body["unchanged"]) == (1, 1, 2)
    assert {r.id: r.version for r in inventory(app, stocked.regie_id)} == versions
    assert count(app) == 4


def test_dry_run_reports_bad_lines_with_a_200(client, make, app):
    manager = make.user("manager")

    response = post_csv(client, make.auth(manager), BAD_FILE, dry_run="true")

    assert response.status_code == 200
    assert response.json["applied"] is False
    assert response.json["created"] == 2
    assert [e["line"] for e in response.json["errors"]] == [3, 5, 7]
    assert count(app) == 0


def test_the_same_resource_twice_in_a_file(client, make, app):
    manager = make.user("manager")
    resource = make.resource(manager)
    text = f"id;nom;categorie\n{resource.id};A;outillage\n{resource.id};B;outillage\n"

    response = post_csv(client, make.auth(manager), text)

    assert response.status_code == 422
    (line,) = response.json["error"]["details"]["lines"]
    assert line == {"line": 3, "errors": {"id": ["Ce matériel figure déjà à la ligne 2."]}}


def test_ids_that_are_not_exported_ids_are_refused(client, make):
    manager = make.user("manager")

    response = post_csv(client, make.auth(manager), "id;nom;categorie\n42;Diable;manutention\n")

    assert response.status_code == 422
    assert list(response.json["error"]["details"]["lines"][0]["errors"]) == ["id"]


def test_retired_resources_are_history(client, make, app):
    manager = make.user("manager")
    headers = make.auth(manager)
    old = make.resource(manager, name="Vieille bétonnière", category="batiment")
    retire(app, client, headers, old)
    active = make.resource(manager, name="Échafaudage roulant 6 m", category="batiment")

    revive = post_csv(client, headers, f"id;nom;categorie;statut\n{old.id};B;batiment;Disponible\n")
    retire_by_file = post_csv(
        client, headers, f"id;nom;categorie;statut\n{active.id};E;batiment;Retiré\n"
    )

    assert revive.status_code == 422
    assert "retiré" in revive.json["error"]["details"]["lines"][0]["errors"]["statut"][0]
    assert retire_by_file.status_code == 422
    assert make.get(Resource, active.id).status is ResourceStatus.AVAILABLE


def test_a_row_with_more_cells_than_the_header(client, make):
    manager = make.user("manager")
    text = "nom;categorie\nBroyeur;espaces-verts;Ø 8 cm;thermique\nTaille-haie;espaces-verts;;\n"

    response = post_csv(client, make.auth(manager), text)

    assert response.status_code == 422
    assert [e["line"] for e in response.json["error"]["details"]["lines"]] == [2]


# --- Permissions ---


def test_members_may_neither_export_nor_import(client, make, app):
    member = make.user("member")
    headers = make.auth(member)

    exported = client.get(EXPORT, headers=headers)
    imported = post_csv(client, headers, "nom;categorie\nDiable;manutention\n")

    assert exported.status_code == 403
    assert exported.json["error"]["code"] == "forbidden"
    assert imported.status_code == 403
    assert count(app) == 0


def test_anonymous_gets_401(client):
    assert client.get(EXPORT).status_code == 401
    response = post_csv(client, {}, "nom;categorie\nDiable;manutention\n")
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"


# --- Uploads ---


def test_multipart_upload(client, make, app):
    manager = make.user("manager")
    body = "nom;categorie\nDiable;manutention\n".encode("cp1252")

    response = client.post(
        IMPORT,
        data={"file": (io.BytesIO(body), "inventaire.csv", "application/vnd.ms-excel")},
        headers=make.auth(manager),
    )

    assert response.status_code == 200, response.json
    assert response.json["created"] == 1


def _garbage() -> bytes:
    return random.Random(4).randbytes(3000)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"", 422),
        (b"\r\n\r\n;;;\r\n", 422),
        (b"nom;categorie\r\n", 422),
        (b"nom;prix\nDiable;60\n", 422),
        (b"Nom;D\xc3\xa9signation;categorie\nA;B;outillage\n", 422),
        (b"PK\x03\x04\x14\x00\x06\x00" + bytes(200), 422),
        (b"\x00\x01\x02\x03binary\xff\xfe\x00", 422),
        (_garbage(), 422),
        (b'nom;categorie\n"Diable;manutention\n', 422),
        (("nom;categorie\n" + "Diable;manutention\n" * 5001).encode(), 422),
        (b'nom;categorie;description\nDiable;manutention;"' + b"x" * 200_000 + b'"\n', 422),
    ],
    ids=[
        "empty",
        "blank",
        "header-only",
        "missing-column",
        "duplicate-column",
        "xlsx",
        "binary",
        "random-bytes",
        "unclosed-quote",
        "too-long",
        "huge-cell",
    ],
)
def test_unreadable_files_get_a_json_4xx_and_write_nothing(client, make, app, body, status):
    manager = make.user("manager")

    response = post_csv(client, make.auth(manager), body)

    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.json["error"]["message"]
    assert count(app) == 0


def test_file_level_errors_say_what_is_wrong_in_french(client, make):
    headers = make.auth(make.user("manager"))

    missing = post_csv(client, headers, "nom;prix\nDiable;60\n").json["error"]
    xlsx = post_csv(client, headers, b"PK\x03\x04" + bytes(10)).json["error"]
    too_long = post_csv(client, headers, "nom;categorie\n" + "D;outillage\n" * 5001).json["error"]
    huge = post_csv(client, headers, 'nom;categorie\n\nD;"' + "x" * 200_000 + '"\n').json["error"]

    assert missing["message"].startswith("Colonne(s) obligatoire(s) manquante(s) : categorie.")
    assert missing["details"]["fields"]["file"] == [missing["message"]]
    assert "classeur Excel" in xlsx["message"]
    assert "5\u202f000 lignes" in too_long["message"]
    assert huge["message"].startswith("Le fichier CSV est mal formé à la ligne 3")


def test_multipart_without_a_file_and_wrong_media_types(client, make):
    headers = make.auth(make.user("manager"))

    no_file = client.post(
        IMPORT, data={"other": "x"}, content_type="multipart/form-data", headers=headers
    )
    as_form = client.post(IMPORT, data={"file": "nom;categorie"}, headers=headers)
    as_json = client.post(IMPORT, json={"nom": "Diable"}, headers=headers)
    bad_query = post_csv(client, headers, "nom;categorie\n", dry_run="peut-être")
    unknown_query = post_csv(client, headers, "nom;categorie\n", force="1")

    assert no_file.status_code == 422
    assert no_file.json["error"]["details"]["fields"]["file"]
    assert as_json.status_code == 415
    assert as_form.status_code == 415
    assert as_json.json["error"]["code"] == "unsupported_media_type"
    assert bad_query.status_code == 400
    assert unknown_query.status_code == 400


def test_openapi_documents_both_operations(client):
    spec = client.get("/api/v1/openapi.json").json
    export = spec["paths"]["/api/v1/resources/export.csv"]["get"]
    imported = spec["paths"]["/api/v1/resources/import"]["post"]

    assert "text/csv" in export["responses"]["200"]["content"]
    assert "Content-Disposition" in export["responses"]["200"]["headers"]
    assert {p["name"] for p in imported["parameters"]} == {"dry_run", "skip_invalid"}
    assert set(imported["requestBody"]["content"]) == {"multipart/form-data", "text/csv"}
    assert {"200", "422"} <= set(imported["responses"])

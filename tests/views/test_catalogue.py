"""Catalogue pages: search, resource page, label, and the create/edit/retire forms."""

import html
import re
import uuid

from sharing.catalogue.models import Resource, ResourceStatus
from tests.views.conftest import csrf_token


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_dashboard_counts_the_regie_resources_by_status(client, as_user, make):
    manager = as_user("manager")
    make.resource(manager, name="Broyeur de végétaux")
    make.resource(manager, name="Nettoyeur haute pression", status="maintenance")
    make.resource(make.user("manager"), name="Chez une autre régie")
    page = text(client.get("/"))
    assert f"Bonjour {manager.name}" in page
    assert manager.regie.name in page
    found = re.findall(
        r"<span class=\"count\">(\d+)</span> <span class=\"badge status-(\w+)\"", page
    )
    counts = {status: count for count, status in found}
    assert counts == {"available": "1", "maintenance": "1", "retired": "0"}


def test_search_is_accent_insensitive_and_filters(client, as_user, make):
    manager = as_user("member")
    owner = make.user("manager")
    make.resource(owner, name="Désherbeur thermique à gaz", category="zero-phyto", deposit_eur=150)
    make.resource(owner, name="Monobrosse 430 mm", category="proprete")
    page = text(client.get("/catalogue?q=DESHERBEUR"))
    assert "Désherbeur thermique à gaz" in page
    assert "Monobrosse" not in page
    assert "Désherbage zéro phyto" in page  # the category label
    assert owner.regie.name in page
    assert "150,00\xa0€" in page
    assert "1 résultat." in page
    assert 'value="DESHERBEUR"' in page  # the search box keeps the query

    page = text(client.get(f"/catalogue?category=proprete&regie={owner.regie_id}&q="))
    assert "Monobrosse" in page
    assert "Désherbeur" not in page
    assert manager  # a member may search


def test_retired_resources_only_show_when_asked_for(client, as_user, make):
    as_user("member")
    owner = make.user("manager")
    make.resource(owner, name="Vieille bétonnière")
    _retire(make, owner, "Vieille bétonnière")
    assert "Vieille bétonnière" not in text(client.get("/catalogue"))
    assert "Vieille bétonnière" in text(client.get("/catalogue?status=retired"))


def test_catalogue_paginates(client, as_user, make):
    as_user("member")
    owner = make.user("manager")
    for n in range(3):
        make.resource(owner, name=f"Barrière de chantier {n}")
    page = text(client.get("/catalogue?per_page=2"))
    assert "Page 1 sur 2" in page
    assert "Barrière de chantier 2" not in page
    page = text(client.get("/catalogue?per_page=2&page=2"))
    assert "Barrière de chantier 2" in page


def test_bad_query_string_is_a_french_400_page(client, as_user):
    as_user("member")
    for query in (
        "status=broken",
        "category=nope",
        "regie=not-a-uuid",
        "page=0",
        "page=abc",
        "per_page=1000",
        "instance=elsewhere",
        "available_from=2026-01-01T00:00:00Z",
        "unknown=1",
    ):
        response = client.get(f"/catalogue?{query}")
        assert response.status_code == 400, query
        assert "Paramètre de recherche invalide" in text(response), query
    page = text(client.get("/catalogue?status=broken"))
    assert "« statut » : Valeur non autorisée" in page
    assert "Requête invalide" in page  # the error page's title


def test_resource_page_shows_every_field_in_french(client, as_user, make):
    as_user("member")
    owner = make.user("manager")
    resource = make.resource(
        owner,
        name="Remorque plateau 750 kg",
        category="vehicules",
        description="Plateau basculant.",
        condition="worn",
        location="Garage municipal",
        deposit_eur="300",
        replacement_value_eur="1 450,50",
        max_loan_days=5,
        min_notice_hours=48,
        requirements="Permis B",
    )
    page = text(client.get(f"/materiel/{resource.id}"))
    for expected in (
        "Remorque plateau 750 kg",
        "Véhicules et remorques",
        "Plateau basculant.",
        "Usé",
        "Garage municipal",
        "300,00\xa0€",
        "1\u202f450,50\xa0€",
        "5 jours",
        "48 heures",
        "Permis B",
        owner.regie.name,
        "cette instance",
        f"/materiel/{resource.id}/etiquette",
    ):
        assert expected in page, expected
    # A member of another régie may not change it: no buttons.
    assert "/modifier" not in page
    assert "/retirer" not in page


def test_owner_manager_sees_edit_and_retire_buttons(client, as_user, make):
    manager = as_user("manager")
    resource = make.resource(manager)
    page = text(client.get(f"/materiel/{resource.id}"))
    assert f"/materiel/{resource.id}/modifier" in page
    assert f"/materiel/{resource.id}/retirer" in page


def test_label_has_a_qr_code_of_the_absolute_resource_url(client, as_user, make):
    as_user("member")
    resource = make.resource(name="Chapiteau 5 x 8 m", category="evenementiel")
    response = client.get(f"/materiel/{resource.id}/etiquette")
    page = text(response)
    assert response.status_code == 200
    assert "<svg" in page
    assert f"http://sharing.test/materiel/{resource.id}" in page  # INSTANCE_URL in tests
    assert "Chapiteau 5 x 8 m" in page
    assert "Événementiel" in page
    assert resource.regie.name in page


def test_manager_creates_a_resource_through_the_form(client, as_user, make):
    manager = as_user("manager")
    token = csrf_token(client, "/materiel/nouveau")
    response = client.post(
        "/materiel/nouveau",
        data={
            "csrf_token": token,
            "name": "  Broyeur de branches thermique  ",
            "category": "espaces-verts",
            "description": "",
            "condition": "good",
            "status": "available",
            "location": "Atelier",
            "deposit_eur": "1 200,50",
            "replacement_value_eur": "",
            "max_loan_days": "7",
            "min_notice_hours": "24",
            "requirements": "EPI : casque antibruit",
        },
    )
    assert response.status_code == 302
    resource_id = uuid.UUID(response.headers["Location"].rsplit("/", 1)[-1])
    resource = make.get(Resource, resource_id)
    assert resource.name == "Broyeur de branches thermique"
    assert resource.regie_id == manager.regie_id
    assert str(resource.deposit_eur) == "1200.50"
    assert resource.replacement_value_eur is None
    assert resource.max_loan_days == 7
    page = text(client.get(response.headers["Location"]))
    assert "« Broyeur de branches thermique » est ajouté au catalogue." in page
    assert "Broyeur de branches thermique" in text(client.get("/ma-regie/materiel"))


def test_bad_form_is_shown_again_with_french_errors_and_saves_nothing(client, as_user, make):
    manager = as_user("manager")
    token = csrf_token(client, "/materiel/nouveau")
    response = client.post(
        "/materiel/nouveau",
        data={
            "csrf_token": token,
            "name": "   ",
            "category": "fusees",
            "deposit_eur": "beaucoup",
            "max_loan_days": "0",
            "min_notice_hours": "x",
            "location": "Hangar nord",
        },
    )
    assert response.status_code == 422
    page = text(response)
    assert "Le formulaire contient des erreurs" in page
    assert "Ce champ est obligatoire." in page  # blank name
    assert "Catégorie inconnue." in page
    assert "Montant invalide." in page
    assert "Doit être supérieur ou égal à 1 et inférieur ou égal à 365." in page
    assert "Nombre entier attendu." in page
    assert 'value="Hangar nord"' in page  # what was typed is kept
    assert 'aria-describedby="f-deposit_eur-hint f-deposit_eur-error"' in page
    assert 'id="f-deposit_eur-error"' in page
    assert "Missing data" not in page
    assert "Not a valid" not in page
    with client.application.app_context():
        from sharing.catalogue import queries
        from sharing.extensions import db

        assert db.session.scalars(queries.regie_inventory(manager.regie_id)).all() == []


def test_form_without_csrf_token_is_refused(client, as_user, make):
    manager = as_user("manager")
    response = client.post("/materiel/nouveau", data={"name": "X", "category": "outillage"})
    assert response.status_code == 400
    assert "jeton CSRF" in text(response)
    with client.application.app_context():
        from sharing.catalogue import queries
        from sharing.extensions import db

        assert db.session.scalars(queries.regie_inventory(manager.regie_id)).all() == []


def test_member_cannot_post_the_create_form(client, as_user):
    as_user("member")
    token = csrf_token(client, "/catalogue")
    response = client.post(
        "/materiel/nouveau", data={"csrf_token": token, "name": "X", "category": "outillage"}
    )
    assert response.status_code == 403
    assert "Accès refusé" in text(response)


def test_edit_form_is_prefilled_and_replaces_every_field(client, as_user, make):
    manager = as_user("manager")
    resource = make.resource(
        manager, name="Tronçonneuse", category="outillage", deposit_eur="80", location="Atelier"
    )
    url = f"/materiel/{resource.id}/modifier"
    page = text(client.get(url))
    assert 'value="Tronçonneuse"' in page
    assert 'value="80,00"' in page
    assert '<option value="retired"' not in page  # retiring has its own button
    token = csrf_token(client, url)
    response = client.post(
        url,
        data={
            "csrf_token": token,
            "name": "Tronçonneuse thermique 40 cm",
            "category": "outillage",
            "condition": "worn",
            "status": "maintenance",
            "location": "",  # cleared
            "min_notice_hours": "0",
        },
    )
    assert response.status_code == 302
    changed = make.get(Resource, resource.id)
    assert changed.name == "Tronçonneuse thermique 40 cm"
    assert changed.status is ResourceStatus.MAINTENANCE
    assert changed.location == ""
    assert changed.deposit_eur is None
    assert changed.version == 2


def test_edit_with_bad_values_changes_nothing(client, as_user, make):
    manager = as_user("manager")
    resource = make.resource(manager, name="Tronçonneuse", category="outillage")
    url = f"/materiel/{resource.id}/modifier"
    token = csrf_token(client, url)
    response = client.post(
        url,
        data={
            "csrf_token": token,
            "name": "Nouveau nom",
            "category": "outillage",
            "status": "retired",
        },
    )
    assert response.status_code == 422
    assert 'id="f-status-error"' in response.get_data(as_text=True)
    unchanged = make.get(Resource, resource.id)
    assert unchanged.name == "Tronçonneuse"
    assert unchanged.version == 1


def test_other_regie_manager_cannot_edit_or_retire(client, as_user, make):
    as_user("manager")
    resource = make.resource(name="Chariot élévateur")
    token = csrf_token(client, "/ma-regie/materiel")
    edit = client.post(
        f"/materiel/{resource.id}/modifier",
        data={"csrf_token": token, "name": "Volé", "category": "manutention"},
    )
    assert edit.status_code == 403
    retire = client.post(f"/materiel/{resource.id}/retirer", data={"csrf_token": token})
    assert retire.status_code == 403
    assert make.get(Resource, resource.id).status is ResourceStatus.AVAILABLE


def test_manager_retires_a_resource(client, as_user, make):
    manager = as_user("manager")
    resource = make.resource(manager, name="Vieille bétonnière")
    token = csrf_token(client, f"/materiel/{resource.id}")
    response = client.post(f"/materiel/{resource.id}/retirer", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/ma-regie/materiel"
    assert make.get(Resource, resource.id).status is ResourceStatus.RETIRED
    page = text(client.get("/ma-regie/materiel"))
    assert "« Vieille bétonnière » est retiré du catalogue." in page
    assert "Vieille bétonnière" in page  # still listed, retired
    assert f"/materiel/{resource.id}/modifier" not in page
    assert client.get(f"/materiel/{resource.id}/modifier").status_code == 409


def test_retire_needs_post(client, as_user, make):
    manager = as_user("manager")
    resource = make.resource(manager)
    assert client.get(f"/materiel/{resource.id}/retirer").status_code == 405


def test_inventory_lists_retired_resources_and_manager_actions(client, as_user, make):
    manager = as_user("manager")
    make.resource(manager, name="Souffleur à dos")
    make.resource(manager, name="Ancien karcher")
    _retire(make, manager, "Ancien karcher")
    page = text(client.get("/ma-regie/materiel"))
    assert "Souffleur à dos" in page
    assert "Ancien karcher" in page
    assert "Retiré" in page
    assert "/ma-regie/materiel/export.csv" in page
    assert "/ma-regie/materiel/import" in page


def test_member_sees_the_inventory_without_actions(client, make):
    from tests.views.conftest import login

    manager = make.user("manager")
    member = make.user("member", regie=manager.regie)
    make.resource(manager, name="Souffleur à dos")
    login(client, member)
    page = text(client.get("/ma-regie/materiel"))
    assert "Souffleur à dos" in page
    assert "/modifier" not in page
    assert "export.csv" not in page


def _retire(make, manager, name):
    from sharing.accounts.models import User
    from sharing.catalogue import queries, services
    from sharing.extensions import db

    with make.app.app_context():
        actor = db.session.get(User, manager.id)
        for resource in db.session.scalars(queries.regie_inventory(actor.regie_id)):
            if resource.name == name:
                services.retire_resource(actor, resource)
        db.session.commit()


def test_free_between_two_days_leaves_out_blocked_and_maintenance(client, as_user, make):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from sharing.accounts.models import User
    from sharing.extensions import db
    from sharing.loans import services as loans

    as_user("member")
    owner = make.user("manager")
    free = make.resource(owner, name="Tondeuse libre")
    blocked = make.resource(owner, name="Tondeuse bloquée")
    make.resource(owner, name="Tondeuse en panne", status="maintenance")
    paris = ZoneInfo("Europe/Paris")
    with make.app.app_context():
        # Kept the evening of the last day: the end date counts as a whole day.
        loans.add_block(
            db.session.get(User, owner.id),
            db.session.get(Resource, blocked.id),
            {
                "starts_at": datetime(2030, 6, 12, 18, tzinfo=paris),
                "ends_at": datetime(2030, 6, 13, 8, tzinfo=paris),
                "reason": "Fête de quartier",
            },
        )
        db.session.commit()
    page = text(client.get("/catalogue?available_from=2030-06-10&available_to=2030-06-12"))
    assert free.name in page
    assert "Tondeuse bloquée" not in page
    assert "Tondeuse en panne" not in page
    assert 'value="2030-06-10"' in page
    after = text(client.get("/catalogue?available_from=2030-06-14&available_to=2030-06-15"))
    assert "Tondeuse bloquée" in after

    for query in (
        "available_from=2030-06-10",
        "available_from=2030-06-12&available_to=2030-06-10",
        "available_from=2030-02-30&available_to=2030-03-02",
    ):
        assert client.get(f"/catalogue?{query}").status_code == 400, query


def test_times_are_shown_in_the_regie_timezone(client, make):
    from zoneinfo import ZoneInfo

    from tests.views.conftest import login

    reunion = make.regie(timezone="Indian/Reunion")
    manager = make.user("manager", regie=reunion)
    resource = make.resource(manager)
    login(client, manager)
    local = resource.updated_at.astimezone(ZoneInfo("Indian/Reunion"))
    assert f"à {local:%H:%M}" in text(client.get(f"/materiel/{resource.id}"))

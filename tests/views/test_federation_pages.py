"""Replicated records in the web interface (their origin shown, no way to change them) and the
administrator's « Fédération » page."""

import html as markup
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from federation.models import Peer, PeerKeyChange, QuarantinedRecord, SignatureFailure
from sharing.catalogue.models import Condition, Resource, ResourceStatus
from sharing.catalogue.replicas import apply_resource
from sharing.db import utcnow
from sharing.extensions import db
from sharing.library.models import Document, DocumentType
from sharing.library.replicas import apply_document
from sharing.loans.models import Booking, BookingStatus
from sharing.regies.models import Regie
from sharing.regies.replicas import apply_regie
from tests.views.conftest import csrf_token

ORIGIN = uuid.UUID("5b0e4a9e-1c1f-4f57-9a53-6f1c2b8f0a11")
ORIGIN_NAME = "Auvergne-Rhône-Alpes"
FINGERPRINT = "ab" * 32


@dataclass
class Replicas:
    regie: Regie
    resource: Resource
    document: Document


def add_peer(app: Flask, instance_id: uuid.UUID = ORIGIN, name: str = ORIGIN_NAME) -> Peer:
    with app.app_context():
        peer = Peer(
            instance_id=instance_id,
            url=f"https://{instance_id.hex[:8]}.example.org",
            name=name,
            key_id=f"{instance_id}#{FINGERPRINT[:16]}",
            public_key="A" * 43 + "=",
            fingerprint=FINGERPRINT,
        )
        db.session.add(peer)
        db.session.commit()
        return peer


def make_replicas(app: Flask, origin: uuid.UUID = ORIGIN) -> Replicas:
    """A régie of ``origin`` with one resource and one document (its attachment not fetched
    yet), stored through the replica services as the sync stores them."""
    with app.app_context():
        regie, _ = apply_regie(
            origin,
            {
                "id": uuid.uuid4(),
                "version": 1,
                "slug": f"lyon-8-{uuid.uuid4().hex[:6]}",
                "name": "Régie de Lyon 8",
                "city": "Lyon",
                "postcode": "69008",
                "timezone": "Europe/Paris",
                "contact_email": "contact@lyon8.example.org",
                "contact_phone": None,
            },
        )
        fields: dict[str, Any] = {
            "name": "Broyeur de végétaux thermique",
            "description": "Branches jusqu'à 8 cm.",
            "category": "espaces-verts",
            "condition": Condition.GOOD,
            "location": "Dépôt de Lyon 8",
            "status": ResourceStatus.AVAILABLE,
            "deposit_eur": Decimal("200.00"),
            "replacement_value_eur": None,
            "max_loan_days": 5,
            "min_notice_hours": 0,
            "requirements": "",
        }
        resource, _ = apply_resource(
            origin, {"id": uuid.uuid4(), "regie_id": regie.id, "version": 1} | fields
        )
        document, _ = apply_document(
            origin,
            {
                "id": uuid.uuid4(),
                "regie_id": regie.id,
                "version": 1,
                "title": "Guide du broyage des déchets verts",
                "summary": "Broyer plutôt que brûler.",
                "body": "Le broyat sert de paillage.",
                "type": DocumentType.GUIDE,
                "licence": "CC-BY-SA-4.0",
                "themes": ["espaces-verts"],
                "tags": ["broyage"],
                "attachments": [
                    {
                        "sha256": "c" * 64,
                        "filename": "notice-broyeur.pdf",
                        "media_type": "application/pdf",
                        "size": 1_258_291,
                    }
                ],
            },
        )
        db.session.commit()
        resource.regie  # noqa: B018 - load before detaching
        document.regie  # noqa: B018
        return Replicas(regie, resource, document)


@pytest.fixture(autouse=True)
def _attachments_dir(app: Flask, tmp_path: Path):
    """No blob of the replicas is ever here: their attachments stay pending."""
    previous = app.config["ATTACHMENTS_DIR"]
    app.config["ATTACHMENTS_DIR"] = str(tmp_path / "attachments")
    yield
    app.config["ATTACHMENTS_DIR"] = previous


@pytest.fixture
def replicas(app: Flask) -> Replicas:
    add_peer(app)
    return make_replicas(app)


def page(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


ORIGIN_SHOWN = f'Régie de Lyon 8 (Lyon)<span class="origin"> · instance {ORIGIN_NAME}</span>'


# --- The origin, everywhere a replica shows -----------------------------------------------------


def test_catalogue_cards_and_filters_name_the_origin(client, as_user, replicas):
    as_user("manager")
    html = page(client, "/catalogue")
    assert ORIGIN_SHOWN in html
    # The régie and instance filters name the instance, not its id alone.
    assert f"Régie de Lyon 8 · instance {ORIGIN_NAME}</option>" in html
    assert f'<option value="{ORIGIN}">{ORIGIN_NAME}</option>' in html
    filtered = page(client, f"/catalogue?instance={ORIGIN}")
    assert "Broyeur de végétaux thermique" in filtered
    assert f'<option value="{ORIGIN}" selected>{ORIGIN_NAME}</option>' in filtered
    assert "Broyeur" not in page(client, "/catalogue?instance=local")


def test_replicas_are_found_by_a_search(client, as_user, replicas):
    as_user("member")
    assert "Broyeur de végétaux thermique" in page(client, "/catalogue?q=broyeur")
    assert "Guide du broyage des déchets verts" in page(client, "/bibliotheque?q=broyage")


def test_a_replica_resource_page_names_its_origin_and_offers_no_change(
    client, as_user, replicas, make
):
    as_user("manager")
    html = page(client, f"/materiel/{replicas.resource.id}")
    assert f"Copie en lecture seule · instance {ORIGIN_NAME}" in html
    assert f"Origine : instance {ORIGIN_NAME}, une autre instance du réseau" in html
    assert f"/materiel/{replicas.resource.id}/modifier" not in html
    assert f"/materiel/{replicas.resource.id}/retirer" not in html
    assert f"/materiel/{replicas.resource.id}/bloquer" not in html
    label = page(client, f"/materiel/{replicas.resource.id}/etiquette")
    assert f"instance {ORIGIN_NAME}" in label


def test_a_replica_of_an_unknown_instance_says_another_instance(client, as_user, app):
    replicas = make_replicas(app, origin=uuid.uuid4())  # no peer row: not (or no longer) paired
    as_user("member")
    assert '<span class="origin"> · autre instance</span>' in page(client, "/catalogue")
    html = page(client, f"/materiel/{replicas.resource.id}")
    assert "Origine : une autre instance du réseau (copie en lecture seule" in html
    assert "Copie en lecture seule · autre instance" in html


def test_the_library_names_the_origin_and_marks_pending_files(client, as_user, replicas):
    as_user("manager")
    html = page(client, "/bibliotheque")
    assert f'Régie de Lyon 8<span class="origin"> · instance {ORIGIN_NAME}</span>' in html
    assert f"Instance {ORIGIN_NAME}</a>" in html  # the instance facet, by name
    document = page(client, f"/bibliotheque/{replicas.document.id}")
    assert f'Lyon<span class="origin"> · instance {ORIGIN_NAME}</span>' in document
    assert f"instance {ORIGIN_NAME}, une autre instance du réseau" in document
    assert "notice-broyeur.pdf" in document
    assert "« en attente » de l'instance d'origine" in document
    assert "/fichiers/" not in document  # no download link, no upload form
    assert f"/bibliotheque/{replicas.document.id}/modifier" not in document
    assert f"/bibliotheque/{replicas.document.id}/supprimer" not in document
    active = page(client, f"/bibliotheque?instance={ORIGIN}")
    assert f"Instance : Instance {ORIGIN_NAME}" in active


def test_the_regies_list_names_the_origin_and_offers_no_edit(client, as_user, replicas):
    as_user("admin")
    html = page(client, "/admin/regies")
    assert f'Instance {ORIGIN_NAME} <span class="meta">(copie en lecture seule)</span>' in html
    assert f"/admin/regies/{replicas.regie.id}/modifier" not in html
    assert f'<option value="{ORIGIN}">{ORIGIN_NAME}</option>' in html
    filtered = page(client, f"/admin/regies?instance={ORIGIN}")
    assert "Régie de Lyon 8" in filtered
    assert "1 régie." in filtered


def test_booking_pages_name_the_lender_s_instance(client, as_user, replicas, app):
    borrower = as_user("manager")
    starts = utcnow() + timedelta(days=3)
    with app.app_context():
        booking = Booking(
            resource_id=replicas.resource.id,
            borrower_regie_id=borrower.regie_id,
            lender_regie_id=replicas.regie.id,
            requested_by_id=borrower.id,
            starts_at=starts,
            ends_at=starts + timedelta(days=1),
            status=BookingStatus.REQUESTED,
            expires_at=starts,
        )
        db.session.add(booking)
        db.session.commit()
        booking_id = booking.id
    shown = f'Régie de Lyon 8<span class="origin"> · instance {ORIGIN_NAME}</span>'
    assert shown in page(client, f"/reservations/{booking_id}")
    assert shown in page(client, "/reservations")


# --- Forced posts on a replica's forms ---------------------------------------------------------


def forced_posts(replicas: Replicas) -> list[str]:
    resource, document = replicas.resource.id, replicas.document.id
    return [
        f"/materiel/{resource}/modifier",
        f"/materiel/{resource}/retirer",
        f"/materiel/{resource}/bloquer",
        f"/bibliotheque/{document}/modifier",
        f"/bibliotheque/{document}/supprimer",
        f"/bibliotheque/{document}/fichiers",
        f"/admin/regies/{replicas.regie.id}/modifier",
    ]


@pytest.mark.parametrize("role", ["admin", "manager", "member"])
def test_a_forced_post_on_a_replica_is_a_french_refusal(client, as_user, replicas, app, role):
    as_user(role)
    token = csrf_token(client, "/catalogue")
    for url in forced_posts(replicas):
        response = client.post(url, data={"csrf_token": token, "name": "Piraté", "title": "x"})
        html = markup.unescape(response.get_data(as_text=True))
        assert response.status_code == 409, (url, response.status_code)
        assert "ne se modifie que sur son instance d'origine" in html, url
        assert f"(instance {ORIGIN_NAME})" in html, url
        assert 'lang="fr"' in html
    for url in forced_posts(replicas)[:1] + forced_posts(replicas)[3:4]:
        assert client.get(url).status_code == 409  # the forms themselves are not shown
    with app.app_context():
        assert db.session.get(Resource, replicas.resource.id).name != "Piraté"
        assert db.session.get(Regie, replicas.regie.id).name == "Régie de Lyon 8"
        assert db.session.get(Document, replicas.document.id).deleted_at is None


def test_replica_pages_never_fail(client, as_user, replicas):
    """Every page a replica appears on, with odd parameters too, answers without a 500."""
    as_user("admin")
    resource, document = replicas.resource.id, replicas.document.id
    for url in (
        "/",
        "/catalogue",
        f"/catalogue?regie={replicas.regie.id}",
        f"/catalogue?instance={ORIGIN}",
        f"/catalogue?instance={uuid.uuid4()}",
        f"/materiel/{resource}",
        f"/materiel/{resource}?mois=2030-02",
        f"/materiel/{resource}/etiquette",
        "/bibliotheque",
        f"/bibliotheque?instance={ORIGIN}",
        f"/bibliotheque?regie={replicas.regie.id}",
        f"/bibliotheque/{document}",
        f"/bibliotheque/{document}/versions",
        f"/bibliotheque/{document}/versions/1",
        "/admin/regies",
        f"/admin/regies?instance={ORIGIN}",
        "/admin/federation",
    ):
        assert client.get(url).status_code == 200, url
    attachment = db_attachment_id(client.application, document)
    response = client.get(f"/bibliotheque/{document}/fichiers/{attachment}")
    assert response.status_code == 404  # pending: a French page, not a 500
    assert "pas encore arrivé de l" in response.get_data(as_text=True)


def db_attachment_id(app: Flask, document_id: uuid.UUID) -> uuid.UUID:
    with app.app_context():
        return db.session.get(Document, document_id).attachments[0].id


# --- The administrator's « Fédération » page ----------------------------------------------------


@pytest.fixture
def identity(app: Flask, tmp_path: Path):
    """This instance's identity, its key in a folder of this test."""
    from federation import services

    saved = app.config.get("FEDERATION_KEY_DIR")
    app.config["FEDERATION_KEY_DIR"] = str(tmp_path / "keys")
    with app.app_context():
        instance = services.init_instance("https://rhone.example.org", "Instance du Rhône")
        db.session.commit()
    yield instance
    app.config["FEDERATION_KEY_DIR"] = saved
    app.config["INSTANCE_ID"] = None
    app.extensions["federation"].next_identity_check = 0.0


def test_the_federation_page_shows_identity_and_peers(client, as_user, app, identity):
    peer = add_peer(app)
    with app.app_context():
        stored = db.session.get(Peer, peer.id)
        stored.cursor = f"{uuid.uuid4()}:120"
        stored.head_seq = 150
        stored.last_success_at = utcnow()
        stored.last_error_at = utcnow()
        stored.last_error = "HTTP 503 du pair"
        stored.records_added, stored.records_updated, stored.records_deleted = 41, 7, 3
        stored.records_quarantined, stored.records_rejected = 2, 1
        stored.resyncing = True
        db.session.add_all(
            [
                QuarantinedRecord(
                    peer_id=peer.id,
                    record_type="resource",
                    record_id=str(uuid.uuid4()),
                    version=4,
                    error="category : catégorie inconnue",
                    data={},
                ),
                SignatureFailure(
                    peer_id=peer.id,
                    key_id=peer.key_id,
                    reason="expired",
                    detail="hors de la fenêtre de validité",
                    method="GET",
                    path="/federation/v1/feed",
                    skew_seconds=-610,
                ),
                SignatureFailure(
                    peer_id=None,
                    key_id="inconnu#0000",
                    reason="unknown_key",
                    method="POST",
                    path="/federation/v1/inbox",
                ),
                PeerKeyChange(
                    peer_id=peer.id,
                    old_key_id="old",
                    old_fingerprint="11" * 32,
                    new_key_id="new",
                    new_fingerprint="22" * 32,
                    trigger="unknown_key",
                ),
            ]
        )
        db.session.commit()
    as_user("admin")
    html = page(client, "/")
    assert 'href="/admin/federation"' in html  # in the administrator's navigation
    html = page(client, "/admin/federation")
    for expected in (
        "<h1>Fédération</h1>",
        "Instance du Rhône",
        "https://rhone.example.org",
        str(identity.id),
        identity.fingerprint,
        str(identity.epoch),
        ORIGIN_NAME,
        peer.url,
        FINGERPRINT,
        ":120</code>",
        "30 changements",
        "HTTP 503 du pair",
        "resynchronisation complète en cours",
        '<td class="num">41</td>',
        '<td class="num">7</td>',
        '<td class="num">3</td>',
        '<td class="num">2</td>',
        '<td class="num">1</td>',
        "category : catégorie inconnue",
        "signature périmée ou datée du futur",
        "-610 s",
        "GET /federation/v1/feed",
        "11" * 32,
        "22" * 32,
        "signature avec une nouvelle clé",
        "Signatures refusées d'expéditeurs inconnus",
        "clé inconnue",
    ):
        assert expected in html, expected


def test_the_federation_page_without_identity_or_peers(client, as_user):
    as_user("admin")
    html = page(client, "/admin/federation")
    assert "Cette instance n'a pas encore d'identité" in html
    assert "Aucune instance appairée." in html


@pytest.mark.parametrize("role", ["manager", "member"])
def test_the_federation_page_is_for_the_administrator(client, as_user, role):
    as_user(role)
    assert 'href="/admin/federation"' not in page(client, "/")
    response = client.get("/admin/federation")
    assert response.status_code == 403
    html = markup.unescape(response.get_data(as_text=True))
    assert "Accès refusé" in html
    assert "réservée à l'administrateur de l'instance" in html


def test_the_federation_page_sends_strangers_to_the_login_page(client):
    response = client.get("/admin/federation")
    assert response.status_code == 302
    assert "/connexion" in response.headers["Location"]

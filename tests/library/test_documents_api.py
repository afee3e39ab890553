"""The library API through HTTP and a real database: documents, versions, listing, facets."""

import uuid

import pytest

from sharing.library.models import LICENCES, THEMES, TYPE_LABELS

NEW_DOCUMENT = {
    "title": "Fiche sécurité : débroussailleuse, EPI et zone de projection",
    "summary": "Avant de démarrer : équipements, périmètre de 15 mètres, pauses.",
    "body": (
        "## Les EPI\n\n- casque avec visière\n- protections auditives\n\n"
        "| Zone | Distance |\n|---|---|\n| projection | 15 m |\n"
    ),
    "themes": ["securite-prevention", "espaces-verts"],
    "tags": ["EPI", " débroussailleuse "],
    "type": "fiche-pratique",
}


def test_themes_are_the_shared_vocabulary(client, make):
    response = client.get("/api/v1/themes", headers=make.auth(make.user("member")))

    assert response.status_code == 200
    assert response.json == [{"slug": s, "label": label} for s, label in THEMES.items()]
    assert {"slug": "maraichage-alimentation", "label": "Maraîchage et alimentation"} in (
        response.json
    )


def test_a_member_publishes_version_1_for_their_regie(client, make):
    member = make.user("member")

    response = client.post("/api/v1/documents", json=NEW_DOCUMENT, headers=make.auth(member))

    assert response.status_code == 201, response.json
    body = response.json
    assert body["version"] == 1
    assert body["regie_id"] == str(member.regie_id)
    assert body["regie"]["slug"] == member.regie.slug
    assert body["licence"] == "CC-BY-SA-4.0"
    assert body["licence_label"] == LICENCES["CC-BY-SA-4.0"]
    assert body["themes"] == ["espaces-verts", "securite-prevention"]  # the vocabulary's order
    assert body["tags"] == ["débroussailleuse", "epi"]
    assert body["type"] == "fiche-pratique"
    assert body["type_label"] == "Fiche pratique"
    assert body["origin"]["is_local"] is True
    assert body["attachments"] == []
    assert "<h2>Les EPI</h2>" in body["body_html"]
    assert "<table>" in body["body_html"]
    assert body["created_at"].endswith("Z")


def test_get_returns_the_body_rendered_and_sanitised(client, make, library):
    document = library.document(body="Bonjour <script>alert(1)</script> **à tous**")

    response = client.get(f"/api/v1/documents/{document.id}", headers=make.auth(make.user()))

    assert response.status_code == 200
    assert response.json["body"] == "Bonjour <script>alert(1)</script> **à tous**"
    assert "<script>" not in response.json["body_html"]
    assert "<strong>à tous</strong>" in response.json["body_html"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"themes": ["jardinage"]}, "themes"),
        ({"themes": []}, "themes"),
        ({"type": "roman"}, "type"),
        ({"licence": "WTFPL"}, "licence"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"tags": ["ok", ""]}, "tags"),
        ({"tags": ["x" * 51]}, "tags"),
        ({"couleur": "vert"}, "couleur"),
        ({"version": 7}, "version"),
        ({"regie_id": str(uuid.uuid4())}, "regie_id"),
        ({"body": "\x00"}, "body"),
    ],
)
def test_invalid_documents_are_refused_with_the_field_named(client, make, change, field):
    response = client.post(
        "/api/v1/documents", json=NEW_DOCUMENT | change, headers=make.auth(make.user())
    )

    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] == "validation_failed"
    assert field in response.json["error"]["details"]["fields"]


@pytest.mark.parametrize("missing", ["title", "themes", "type"])
def test_required_fields(client, make, missing):
    data = {k: v for k, v in NEW_DOCUMENT.items() if k != missing}

    response = client.post("/api/v1/documents", json=data, headers=make.auth(make.user()))

    assert response.status_code == 422
    assert missing in response.json["error"]["details"]["fields"]


def test_summary_body_tags_and_licence_may_be_left_out(client, make):
    data = {"title": "Convention type de prêt", "themes": ["mutualisation"], "type": "modele"}

    response = client.post("/api/v1/documents", json=data, headers=make.auth(make.user()))

    assert response.status_code == 201, response.json
    assert (response.json["summary"], response.json["body"], response.json["tags"]) == ("", "", [])
    assert response.json["body_html"] == ""


def test_every_type_and_licence_is_accepted(client, make):
    headers = make.auth(make.user())
    for type_, licence in zip(TYPE_LABELS, list(LICENCES) * 2, strict=False):
        data = NEW_DOCUMENT | {"type": type_.value, "licence": licence}
        response = client.post("/api/v1/documents", json=data, headers=headers)
        assert response.status_code == 201, response.json
        assert (response.json["type"], response.json["licence"]) == (type_.value, licence)


def test_unknown_and_deleted_documents_are_404(client, make, library):
    manager = make.user("manager")
    document = library.document(manager)
    headers = make.auth(manager)
    client.delete(f"/api/v1/documents/{document.id}", headers=headers)

    for url in (
        f"/api/v1/documents/{uuid.uuid4()}",
        f"/api/v1/documents/{document.id}",
        f"/api/v1/documents/{document.id}/versions",
        f"/api/v1/documents/{document.id}/versions/1",
    ):
        response = client.get(url, headers=headers)
        assert response.status_code == 404, url
        assert response.json["error"]["code"] == "not_found"
    assert (
        client.patch(
            f"/api/v1/documents/{document.id}", json={"title": "Revenu"}, headers=headers
        ).status_code
        == 404
    )
    assert client.delete(f"/api/v1/documents/{document.id}", headers=headers).status_code == 404


def test_a_deleted_document_stays_as_a_tombstone(client, make, library):
    manager = make.user("manager")
    document = library.document(manager)

    response = client.delete(f"/api/v1/documents/{document.id}", headers=make.auth(manager))

    assert response.status_code == 204
    assert response.data == b""
    tombstone = library.get(document.id)
    assert tombstone is not None
    assert tombstone.deleted_at is not None
    assert tombstone.title == document.title


# Versions


def test_each_change_makes_a_new_immutable_version(client, make, library):
    member = make.user("member")
    document = library.document(member, body="Première rédaction.\n\nDeuxième paragraphe.")
    headers = make.auth(member)
    url = f"/api/v1/documents/{document.id}"

    edited = client.patch(
        url, json={"body": "Première rédaction.\n\nParagraphe revu."}, headers=headers
    )
    retitled = client.patch(url, json={"title": "Zéro phyto (2e édition)"}, headers=headers)

    assert edited.status_code == 200, edited.json
    assert edited.json["version"] == 2
    assert retitled.json["version"] == 3
    assert retitled.json["body"] == "Première rédaction.\n\nParagraphe revu."
    history = client.get(f"{url}/versions", headers=headers).json
    assert [v["number"] for v in history] == [3, 2, 1]
    assert history[0]["author"] == {"id": str(member.id), "name": member.name}
    first = client.get(f"{url}/versions/1", headers=headers).json
    assert first["body"] == "Première rédaction.\n\nDeuxième paragraphe."
    assert first["title"] == "Zéro phyto : techniques de désherbage alternatif"
    assert first["themes"] == ["espaces-verts"]
    assert first["type"] == "fiche-pratique"
    assert first["licence"] == "CC-BY-SA-4.0"
    assert "<p>Deuxième paragraphe.</p>" in first["body_html"]
    second = client.get(f"{url}/versions/2", headers=headers).json
    assert (second["title"], second["body"]) == (
        first["title"],
        "Première rédaction.\n\nParagraphe revu.",
    )


def test_a_patch_that_changes_nothing_makes_no_version(client, make, library):
    member = make.user("member")
    document = library.document(member, tags=["zéro phyto"])
    headers = make.auth(member)
    url = f"/api/v1/documents/{document.id}"

    same = client.patch(
        url,
        json={"title": document.title, "themes": ["espaces-verts"], "tags": ["Zéro  Phyto"]},
        headers=headers,
    )
    empty = client.patch(url, json={}, headers=headers)

    assert same.status_code == empty.status_code == 200
    assert same.json["version"] == empty.json["version"] == 1
    assert len(client.get(f"{url}/versions", headers=headers).json) == 1


def test_themes_and_tags_can_be_replaced(client, make, library):
    member = make.user("member")
    document = library.document(member, themes=["espaces-verts"], tags=["binette", "loi labbé"])
    headers = make.auth(member)

    response = client.patch(
        f"/api/v1/documents/{document.id}",
        json={
            "themes": ["espaces-verts", "transition-ecologique"],
            "tags": ["binette", "paillage"],
        },
        headers=headers,
    )

    assert response.json["themes"] == ["espaces-verts", "transition-ecologique"]
    assert response.json["tags"] == ["binette", "paillage"]
    assert response.json["version"] == 2
    old = client.get(f"/api/v1/documents/{document.id}/versions/1", headers=headers).json
    assert (old["themes"], old["tags"]) == (["espaces-verts"], ["binette", "loi labbé"])


def test_an_unknown_version_is_404(client, make, library):
    document = library.document()
    headers = make.auth(make.user())

    for number in (0, 2, 99):
        response = client.get(f"/api/v1/documents/{document.id}/versions/{number}", headers=headers)
        assert response.status_code == 404
    assert (
        client.get(f"/api/v1/documents/{document.id}/versions/-1", headers=headers).status_code
        == 404
    )


def test_diff_between_two_versions(client, make, library):
    member = make.user("member")
    body = "# Désherbage\n\nBinette.\nCouteau.\nEau bouillante.\n"
    document = library.document(member, body=body, tags=["binette"])
    headers = make.auth(member)
    url = f"/api/v1/documents/{document.id}"
    client.patch(
        url,
        json={
            "body": "# Désherbage\n\nBinette.\nDésherbeur thermique.\nEau bouillante.\n",
            "tags": ["binette", "thermique"],
            "type": "guide",
        },
        headers=headers,
    )

    response = client.get(f"{url}/versions/1/diff/2", headers=headers)

    assert response.status_code == 200, response.json
    diff = response.json
    assert (diff["from"], diff["to"]) == (1, 2)
    assert diff["changes"] == {
        "tags": {"from": ["binette"], "to": ["binette", "thermique"]},
        "type": {"from": "fiche-pratique", "to": "guide"},
    }
    lines = [(line["kind"], line["text"]) for line in diff["body"]]
    assert ("removed", "Couteau.") in lines
    assert ("added", "Désherbeur thermique.") in lines
    assert ("context", "Binette.") in lines
    assert lines[0][0] == "hunk"
    backwards = client.get(f"{url}/versions/2/diff/1", headers=headers).json
    assert ("added", "Couteau.") in [(x["kind"], x["text"]) for x in backwards["body"]]
    same = client.get(f"{url}/versions/2/diff/2", headers=headers).json
    assert same["changes"] == {}
    assert same["body"] == []
    assert client.get(f"{url}/versions/1/diff/3", headers=headers).status_code == 404


def test_diff_versions_service_names_the_fields_that_changed(app, make, library):
    from sharing.accounts.models import User
    from sharing.extensions import db
    from sharing.library import services

    member = make.user("member")
    document = library.document(member, summary="Avant.")
    with app.app_context():
        doc = services.get_document(document.id)
        services.update_document(
            db.session.get(User, member.id), doc, {"summary": "Après.", "licence": "CC0-1.0"}
        )
        db.session.commit()
        diff = services.diff_versions(doc, 1, 2)

    assert set(diff.changes) == {"summary", "licence"}
    assert diff.changes["summary"].old == "Avant."
    assert diff.body == []


# Listing, filters, facets, pagination


def test_listing_filters_and_counts_facets_over_the_whole_result(client, make, library):
    here, there = make.user("member"), make.user("member")
    library.document(here, title="A", themes=["espaces-verts"], type="guide", tags=["epi"])
    library.document(here, title="B", themes=["espaces-verts", "securite-prevention"], tags=["epi"])
    library.document(there, title="C", themes=["proprete"], type="procedure")
    their_manager = make.user("manager", regie=there.regie)
    gone = library.document(their_manager, title="D", themes=["proprete"])
    client.delete(f"/api/v1/documents/{gone.id}", headers=make.auth(their_manager))
    headers = make.auth(here)
    replica = library.replica(themes=["proprete"])

    everything = client.get("/api/v1/documents", headers=headers).json
    assert everything["total"] == 4
    assert everything["facets"] == {
        "theme": {"espaces-verts": 2, "proprete": 2, "securite-prevention": 1},
        "type": {"fiche-pratique": 1, "guide": 1, "procedure": 2},
        "regie": {
            str(here.regie_id): 2,
            str(there.regie_id): 1,
            str(replica.regie_id): 1,
        },
        "instance": {"local": 3, str(library.get(replica.id).regie.origin_instance_id): 1},
    }

    green = client.get("/api/v1/documents?theme=espaces-verts&per_page=1", headers=headers).json
    assert green["total"] == 2
    assert len(green["items"]) == 1
    assert green["facets"]["theme"] == {"espaces-verts": 2, "securite-prevention": 1}
    assert green["facets"]["type"] == {"fiche-pratique": 1, "guide": 1}

    def titles(query):
        response = client.get(f"/api/v1/documents?{query}", headers=headers)
        assert response.status_code == 200, response.json
        return sorted(item["title"] for item in response.json["items"])

    assert titles("type=procedure") == ["C", "Protocole de nettoyage des halls"]
    assert titles("tag=EPI") == ["A", "B"]
    assert titles(f"regie={there.regie_id}") == ["C"]
    assert titles("instance=local") == ["A", "B", "C"]
    assert titles(f"instance={library.get(replica.id).regie.origin_instance_id}") == [
        "Protocole de nettoyage des halls"
    ]
    assert titles("theme=espaces-verts&type=guide&tag=epi") == ["A"]
    assert titles("theme=mediation-lien-social") == []


def test_an_empty_result_has_empty_facets(client, make):
    response = client.get("/api/v1/documents?theme=insertion", headers=make.auth(make.user()))

    assert response.status_code == 200
    assert response.json["items"] == []
    assert response.json["total"] == 0
    assert response.json["facets"] == {"theme": {}, "type": {}, "regie": {}, "instance": {}}


def test_listing_items_are_summaries_without_the_body(client, make, library):
    library.document()

    item = client.get("/api/v1/documents", headers=make.auth(make.user())).json["items"][0]

    assert "body" not in item
    assert "body_html" not in item
    assert item["snippet"] is None
    assert {"id", "title", "summary", "themes", "tags", "type", "version", "origin"} <= set(item)


def test_pagination_walks_every_document_once_latest_first(client, make, library):
    author = make.user()
    made = [library.document(author, title=f"Document {n:02}").id for n in range(7)]
    headers = make.auth(author)

    pages = [
        client.get(f"/api/v1/documents?per_page=3&page={page}", headers=headers).json
        for page in (1, 2, 3)
    ]

    assert [p["total"] for p in pages] == [7, 7, 7]
    assert [len(p["items"]) for p in pages] == [3, 3, 1]
    seen = [item["id"] for p in pages for item in p["items"]]
    assert sorted(seen) == sorted(map(str, made))
    assert seen[0] == str(made[-1])


@pytest.mark.parametrize(
    "query",
    [
        "theme=jardinage",
        "type=roman",
        "regie=pas-un-uuid",
        "instance=ailleurs",
        "per_page=500",
        "page=0",
    ],
)
def test_bad_filters_are_400(client, make, query):
    response = client.get(f"/api/v1/documents?{query}", headers=make.auth(make.user()))

    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_query"

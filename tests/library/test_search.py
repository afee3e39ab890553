"""Searching the library with ``q``: French words found whatever their accents, plurals and
elisions, ranked, with highlighted snippets and facets; the index follows every change."""

import pytest

from sharing import search
from sharing.extensions import db
from sharing.library import queries

TONDEUSE = {
    "title": "Tondeuses autoportées : qui peut conduire et à quelles conditions ?",
    "summary": "Autorisation de conduite, formation et visite médicale.",
    "body": (
        "## Qui peut conduire\n\nLa conduite des tondeuses autoportées demande une "
        "autorisation délivrée par l'employeur, après une formation à la sécurité.\n\n"
        "L'entretien quotidien (niveaux, lames, pneus) est noté dans le carnet de bord."
    ),
    "themes": ["securite-prevention", "espaces-verts"],
    "tags": ["caces", "autorisation de conduite"],
    "type": "fiche-pratique",
}
COMPOST = {
    "title": "Du compostage à l'éco-citoyenneté : compostage partagé en pied d'immeuble",
    "summary": "Retour d'expérience de trois régies sur les composteurs collectifs.",
    "body": (
        "Les habitants apportent leurs épluchures ; les guides composteurs de la régie "
        "animent des permanences et surveillent l'équilibre des apports."
    ),
    "themes": ["transition-ecologique", "mediation-lien-social"],
    "tags": ["compost", "biodéchets"],
    "type": "retour-experience",
}
HALLS = {
    "title": "Protocole de nettoyage des halls et cages d'escalier",
    "summary": "Fréquences, produits écolabellisés et traçabilité.",
    "body": "Balayage humide, lavage des sols, essuyage des boîtes aux lettres et des rampes.",
    "themes": ["proprete"],
    "tags": ["écolabel"],
    "type": "procedure",
}


@pytest.fixture
def corpus(library, make):
    author = make.user("manager")
    documents = {
        "tondeuse": library.document(author, **TONDEUSE),
        "compost": library.document(make.user("member"), **COMPOST),
        "halls": library.document(author, **HALLS),
    }
    return author, documents


def found(client, headers, q, **filters):
    response = client.get("/api/v1/documents", query_string={"q": q, **filters}, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def titles(page):
    return [item["title"] for item in page["items"]]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("tondeuse", "tondeuse"),  # plural in the document
        ("TONDEUSES Autoportées", "tondeuse"),  # case
        ("autoportees", "tondeuse"),  # accents left out
        ("securite", "tondeuse"),
        ("delivree", "tondeuse"),
        ("desherbage", None),
        ("ECOLOGIQUE", "compost"),
        ("entretien", "tondeuse"),  # l'entretien
        ("autorisations", "tondeuse"),  # plural in the query
        ("ecocitoyennete", None),  # a hyphenated word is two words: not a made-up one
        ("citoyenneté", "compost"),
        ("épluchure", "compost"),
        ("immeubles", "compost"),
        ("biodechets", "compost"),  # a tag
        ("médiation", "compost"),  # a theme's label
        ("retour d’expérience", "compost"),  # the type's label, typographic apostrophe
        ("cage d'escalier", "halls"),
        ("escaliers", "halls"),
        ("ecolabel", "halls"),
        ("trottinette", None),  # a word no document has
    ],
)
def test_french_words_find_their_documents(client, make, corpus, q, expected):
    author, documents = corpus

    page = found(client, make.auth(author), q)

    expected_titles = [documents[expected].title] if expected else []
    assert titles(page) == expected_titles, q
    assert page["total"] == len(expected_titles)


def test_every_word_must_match(client, make, corpus):
    author, _ = corpus
    headers = make.auth(author)

    assert titles(found(client, headers, "compostage tondeuse")) == []
    assert len(titles(found(client, headers, "régie"))) == 1


def test_a_title_match_ranks_above_a_body_match(client, make, library):
    author = make.user("member")
    in_body = library.document(
        author, title="Fiche outils", body="Tailler les haies avec un taille-haie électrique."
    )
    in_title = library.document(author, title="Tailler les haies", body="Avant la nidification.")

    page = found(client, make.auth(author), "haie")

    assert [item["id"] for item in page["items"]] == [str(in_title.id), str(in_body.id)]


def test_snippets_mark_the_matched_words(client, make, corpus):
    author, _ = corpus

    item = found(client, make.auth(author), "entretien tondeuses")["items"][0]

    assert "<mark>entretien</mark>" in item["snippet"]
    assert "<mark>tondeuses</mark>" in item["snippet"]
    assert "<script" not in item["snippet"]


def test_a_snippet_falls_back_to_the_summary(client, make, library):
    author = make.user("member")
    library.document(author, title="Convention", summary="Modèle de convention de prêt.", body="")

    item = found(client, make.auth(author), "prêts")["items"][0]

    assert item["snippet"] == "Modèle de convention de <mark>prêt</mark>."


def test_snippets_escape_the_document_text(client, make, library):
    author = make.user("member")
    library.document(author, title="Balises", body="Le mot sécurité <img src=x onerror=alert(1)>")

    item = found(client, make.auth(author), "securite")["items"][0]

    assert "<img" not in item["snippet"]
    assert "&lt;img" in item["snippet"]
    assert "<mark>sécurité</mark>" in item["snippet"]


def test_search_with_filters_and_facets(client, make, corpus, library):
    author, documents = corpus
    library.document(
        author, title="Sécurité des tondeuses", themes=["securite-prevention"], type="guide"
    )
    headers = make.auth(author)

    everything = found(client, headers, "tondeuse")
    guides = found(client, headers, "tondeuse", type="guide")

    assert everything["total"] == 2
    assert everything["facets"]["type"] == {"fiche-pratique": 1, "guide": 1}
    assert everything["facets"]["theme"] == {"securite-prevention": 2, "espaces-verts": 1}
    assert everything["facets"]["regie"] == {str(author.regie_id): 2}
    assert everything["facets"]["instance"] == {"local": 2}
    assert titles(guides) == ["Sécurité des tondeuses"]
    assert guides["facets"]["type"] == {"guide": 1}


def test_an_edit_is_searchable_at_once_and_the_old_words_are_gone(client, make, corpus):
    author, documents = corpus
    headers = make.auth(author)

    client.patch(
        f"/api/v1/documents/{documents['halls'].id}",
        json={"body": "Lustrage des parquets à la monobrosse."},
        headers=headers,
    )

    assert titles(found(client, headers, "monobrosse")) == [documents["halls"].title]
    assert titles(found(client, headers, "rampes")) == []


def test_a_deleted_document_is_not_found(client, make, corpus):
    author, documents = corpus
    headers = make.auth(author)

    response = client.delete(f"/api/v1/documents/{documents['tondeuse'].id}", headers=headers)

    assert response.status_code == 204
    assert found(client, headers, "tondeuse")["total"] == 0
    assert found(client, headers, "tondeuse")["facets"]["theme"] == {}
    assert str(documents["tondeuse"].id) not in [
        i["id"] for i in found(client, headers, "")["items"]
    ]


@pytest.mark.parametrize("q", ["le la les", "   ", "'", '"OR" *', "NEAR(a b)", "l'"])
def test_odd_queries_never_fail(client, make, corpus, q):
    author, _ = corpus

    response = client.get("/api/v1/documents", query_string={"q": q}, headers=make.auth(author))

    assert response.status_code == 200


def test_reindex_rebuilds_the_documents_left_in_the_library(app, client, make, corpus):
    author, documents = corpus
    client.delete(f"/api/v1/documents/{documents['halls'].id}", headers=make.auth(author))

    with app.app_context():
        counts = search.reindex(["document"])
        db.session.commit()

    assert counts == {"document": 2}
    assert "document" in search.registered_kinds()
    assert titles(found(client, make.auth(author), "escalier")) == []
    assert found(client, make.auth(author), "compostage")["total"] == 1


def test_a_search_past_the_cap_counts_its_candidates_and_says_so(
    client, make, library, monkeypatch
):
    author = make.user("member")
    headers = make.auth(author)
    for place in ("collectif", "partagé", "scolaire", "urbain"):
        library.document(author, title=f"Compostage {place}", themes=["proprete"], type="guide")
    monkeypatch.setattr(queries, "CANDIDATES", 3)

    capped = found(client, headers, "compostage", per_page=2)
    second = found(client, headers, "compostage", per_page=2, page=2)
    narrower = found(client, headers, "compostage scolaire")
    unsearched = found(client, headers, "")

    assert capped["total"] == 3
    assert capped["total_is_estimate"] is True
    assert capped["facets"]["type"] == {"guide": 3}
    assert capped["facets"]["theme"] == {"proprete": 3}
    assert len(capped["items"]) == 2
    assert len(second["items"]) == 1  # the candidates' last page
    assert not {i["id"] for i in capped["items"]} & {i["id"] for i in second["items"]}
    assert (narrower["total"], narrower["total_is_estimate"]) == (1, False)
    assert (unsearched["total"], unsearched["total_is_estimate"]) == (4, False)


def test_a_facet_lists_its_most_frequent_values_only(client, make, library, monkeypatch):
    authors = [make.user("member") for _ in range(3)]
    themes = ["proprete", "espaces-verts", "securite-prevention"]
    for count, author in zip((3, 1, 2), authors, strict=True):
        for n in range(count):
            library.document(author, title=f"Compostage {n}", themes=themes[:count], type="guide")
    monkeypatch.setattr(queries, "FACET_VALUES", 2)

    page = found(client, make.auth(authors[0]), "compostage")

    assert page["total"] == 6  # all of them: the limit is on the lists of values
    assert page["facets"]["regie"] == {str(authors[0].regie_id): 3, str(authors[2].regie_id): 2}
    assert page["facets"]["theme"] == {"proprete": 6, "espaces-verts": 5}
    assert page["facets"]["type"] == {"guide": 6}


def test_pages_of_a_search_follow_the_ranking(client, make, library):
    author = make.user("member")
    headers = make.auth(author)
    in_title = library.document(author, title="Taille des haies", body="Au printemps.")
    in_body = [
        library.document(author, title=f"Fiche {n}", body="Tailler la haie avant la nidification.")
        for n in range(3)
    ]

    pages = [found(client, headers, "haie", per_page=2, page=n)["items"] for n in (1, 2)]

    ids = [item["id"] for page in pages for item in page]
    assert ids[0] == str(in_title.id)
    assert sorted(ids[1:]) == sorted(str(d.id) for d in in_body)
    snippets = [item["snippet"] for page in pages for item in page]
    assert all("<mark>haie</mark>" in snippet for snippet in snippets[1:])

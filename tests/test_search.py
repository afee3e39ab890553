"""French full-text search (sharing/search.py): one corpus, the same answers on SQLite and on
PostgreSQL (run the suite with TEST_DATABASE_URL for the second).

The corpus is indexed in the test's own transaction, rolled back at its end, under a kind no
domain uses.
"""

import unicodedata
import uuid

import pytest
from flask import Flask
from sqlalchemy import delete, func, select, table

from sharing import search
from sharing.catalogue.models import Resource
from sharing.extensions import db

KIND = "test-corpus"

# key: (title, body)
CORPUS: dict[str, tuple[str, str]] = {
    "tondeuse": (
        "Tondeuse autotractée thermique 53 cm",
        "Pour les pelouses de la résidence : bac de ramassage, mulching.",
    ),
    "remorque": (
        "Remorque plateau 750 kg",
        "Transporte deux tondeuses et le petit matériel de tonte jusqu'au chantier.",
    ),
    "debroussailleuse": (
        "Débroussailleuse thermique",
        "Harnais double et visière ; EPI obligatoires.",
    ),
    "ecologie": (
        "Guide de l'écologie urbaine",
        "La gestion différenciée des espaces verts, pas à pas.",
    ),
    "espace_vert": ("Plan de gestion", "Un espace vert partagé au pied des immeubles."),
    "regie": ("Régie de quartier d’Évreux", "Prête son matériel aux habitants."),
    "regie_caps": ("Charte du réseau", "Chaque REGIE adhérente s'engage à la réciprocité."),
    "entretien_ascii": ("Fiche pratique", "L'entretien du matériel après usage."),
    "entretien_typo": ("Carnet de bord", "L’entretien hebdomadaire des autolaveuses."),
    "outil": ("Caisse de chantier", "Chaque pièce a sa place : l’outil manquant est signalé."),
    "desherbage": ("Désherbage sans pesticides", "Méthodes thermiques et manuelles."),
    "desherber": ("Comment désherber les trottoirs", "Les allées désherbées à la main."),
    "reparation": ("Atelier de réparation de vélos", "Chambres à air, freins, éclairage."),
    "pile": ("Pile rechargeable 18 V", "Pour la perceuse-visseuse."),
    "pilotage": ("Pilotage de chantier d'insertion", "Coordination des équipes."),
    "taille_haie": ("Taille-haie électrique", "Lame de 60 cm, batterie fournie."),
    "oeuvre_ligature": ("Bâtiment et second œuvre", "Plâtrerie, peinture, sols."),
    "oeuvre_ascii": ("Main d'oeuvre qualifiée", "Encadrement technique des salariés."),
    "nfd": (
        unicodedata.normalize("NFD", "Pédagogie de l'éco-citoyenneté"),
        unicodedata.normalize("NFD", "Sensibilisation des élèves au tri sélectif."),
    ),
    "saint_etienne": ("Régie de Saint-Étienne", "Quartier de Montreynaud."),
    "benne": ("Benne de 8 m³", "Pour les déchets verts, contact@regie-evreux.fr"),
    "francais": ("Ateliers de français", "Savoirs de base pour les salariés en insertion."),
    "script": ("Fiche de sécurité", "<script>alert('tondeuse')</script> Ne jamais forcer."),
}

# query: the keys it must find, on both databases.
CASES: dict[str, set[str]] = {
    # Accents, both ways.
    "ecologie": {"ecologie"},
    "écologie": {"ecologie"},
    "Écologie": {"ecologie"},
    "debroussailleuse": {"debroussailleuse"},
    "DÉBROUSSAILLEUSE": {"debroussailleuse"},
    "REGIE": {"regie", "regie_caps", "saint_etienne", "benne"},
    "régie": {"regie", "regie_caps", "saint_etienne", "benne"},
    "evreux": {"regie", "benne"},
    # Plurals.
    "tondeuse": {"tondeuse", "remorque", "script"},
    "tondeuses": {"tondeuse", "remorque", "script"},
    "espace vert": {"espace_vert", "ecologie"},
    "espaces verts": {"espace_vert", "ecologie"},
    "déchet vert": {"benne"},
    "autolaveuse": {"entretien_typo"},
    # Verb forms both stemmers conflate (not désherber/désherbage: see below).
    "réparer": {"reparation"},
    "répare": {"reparation"},
    "désherber": {"desherber"},
    "désherbé": {"desherber"},
    "désherbage": {"desherbage"},
    "francais": {"francais"},
    "Français": {"francais"},
    "salarié": {"francais", "oeuvre_ascii"},
    "salaries": {"francais", "oeuvre_ascii"},
    # Participles in -ée keep their e once unaccented, on both databases: not "réparation".
    "réparée": set(),
    "reparee": set(),
    # Elisions, with ' and ’, in the text and in the query.
    "entretien": {"entretien_ascii", "entretien_typo"},
    "l'entretien": {"entretien_ascii", "entretien_typo"},
    "l’entretien": {"entretien_ascii", "entretien_typo"},
    "outil": {"outil"},
    "l’outil": {"outil"},
    "d'Évreux": {"regie", "benne"},
    "insertion": {"pilotage", "francais"},
    # Words that must not match one another.
    "tondre": set(),
    "pile": {"pile"},
    "pilotage": {"pilotage"},
    "piles": {"pile"},
    # Hyphenated compounds, whole or in parts.
    "taille-haie": {"taille_haie"},
    "taille haie": {"taille_haie"},
    "haie": {"taille_haie"},
    "perceuse": {"pile"},
    "saint-étienne": {"saint_etienne"},
    "saint etienne": {"saint_etienne"},
    # Superscripts read as digits.
    "m3": {"benne"},
    "m³": {"benne"},
    # Ligature.
    "œuvre": {"oeuvre_ligature", "oeuvre_ascii"},
    "oeuvre": {"oeuvre_ligature", "oeuvre_ascii"},
    "OEUVRE": {"oeuvre_ligature", "oeuvre_ascii"},
    # Decomposed (NFD) accents, in the text and in the query.
    "pédagogie": {"nfd"},
    unicodedata.normalize("NFD", "pédagogie élèves"): {"nfd"},
    "eleves": {"nfd"},
    # Every word must match.
    "tondeuse thermique": {"tondeuse"},
    "thermique": {"tondeuse", "debroussailleuse", "desherbage"},
    "tondeuse vélo": set(),
    # Words in markup, URLs and e-mail addresses are words (PostgreSQL's parser would not
    # see them: the text it gets is split into words first).
    "alert": {"script"},
    "contact": {"benne"},
    # Stop words and punctuation alone: nothing, and no error.
    "de la": set(),
    "le": set(),
    "à": set(),
    "été": set(),
    "l'": set(),
    "qu'une": set(),
    "": set(),
    "   ": set(),
    "!!! ?": set(),
    "« »": set(),
}

# What users type as query syntax is read as words (or dropped as punctuation), never as
# FTS5 or tsquery syntax: these find what "tondeuse" finds.
LIKE_TONDEUSE = [
    '"tondeuse"',
    '"tondeuse',
    "tondeuse*",
    "^tondeuse",
    "-tondeuse",
    "+tondeuse",
    "(tondeuse)",
    "tondeuse)",
    "tondeuse:",
    "tondeuse & | ! <->",
    "tondeuse --",
    "tondeuse;",
    "TONDEUSE's",
]

# And these must not raise (nor, through the API, give a 500); what they find does not matter.
HOSTILE = [
    "title:tondeuse",
    "body:tondeuse",
    "kind:resource",
    "NEAR(tondeuse remorque)",
    "NEAR(tondeuse remorque, 2)",
    "tondeuse OR remorque",
    "tondeuse AND NOT remorque",
    "tondeuse or remorque",
    "tondeuse -remorque",
    "'; DROP TABLE search_index; --",
    "' OR 1=1 --",
    '" OR ""="',
    "\\",
    "tondeuse\\",
    "%_%",
    "tondeuse:*",
    "tondeuse:A",
    "'tondeuse':*",
    "*",
    "^",
    '"\'"',
    "rank:10",
    "{title body}: tondeuse",
    "x" * 200,
    "é" * 200,
    "tondeuse\u200b",
    "\U0001f69c tracteur",
]


@pytest.fixture
def corpus(ctx: None) -> dict[uuid.UUID, str]:
    """The corpus indexed in this test's transaction: its keys by record id."""
    keys = {uuid.uuid4(): key for key in CORPUS}
    for record_id, key in keys.items():
        search.index_record(KIND, record_id, *CORPUS[key])
    db.session.flush()
    return keys


def found(keys: dict[uuid.UUID, str], query: str, kind: str = KIND) -> set[str]:
    hits = search.matches(kind, query).subquery()
    return {keys[record_id] for record_id in db.session.scalars(select(hits.c.record_id))}


def ranked(keys: dict[uuid.UUID, str], query: str) -> list[str]:
    hits = search.matches(KIND, query).subquery()
    rows = db.session.execute(select(hits.c.record_id, hits.c.rank).order_by(hits.c.rank.desc()))
    return [keys[record_id] for record_id, _ in rows]


def backend() -> str:
    return db.session.get_bind().dialect.name


# --- The corpus, on whichever database the suite runs ---


@pytest.mark.parametrize(("query", "expected"), CASES.items(), ids=[repr(q) for q in CASES])
def test_corpus(corpus: dict[uuid.UUID, str], query: str, expected: set[str]) -> None:
    assert found(corpus, query) == expected


@pytest.mark.parametrize("query", LIKE_TONDEUSE)
def test_query_syntax_is_read_as_words(corpus: dict[uuid.UUID, str], query: str) -> None:
    assert found(corpus, query) == CASES["tondeuse"]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_never_raise(corpus: dict[uuid.UUID, str], query: str) -> None:
    found(corpus, query)
    ranked(corpus, query)


def test_boolean_words_are_words_not_operators(corpus: dict[uuid.UUID, str]) -> None:
    """ "or" is a French word (gold, now): it must be in the text, on both databases."""
    assert found(corpus, "tondeuse OR remorque") == set()
    assert found(corpus, "tondeuse -remorque") == {"remorque"}


def test_the_one_word_the_two_databases_stem_differently(corpus: dict[uuid.UUID, str]) -> None:
    """Snowball 3 (snowballstemmer, SQLite) stems "française" like "français"; the older
    Snowball in PostgreSQL 15 does not. Documented in docs/decisions.md; pinned here so that
    a change is noticed."""
    expected = {"francais"} if backend() == "sqlite" else set()

    assert found(corpus, "française") == expected


def test_kinds_are_kept_apart(corpus: dict[uuid.UUID, str]) -> None:
    assert found(corpus, "tondeuse", kind="another-kind") == set()


def test_record_ids_come_back_as_uuids(corpus: dict[uuid.UUID, str]) -> None:
    hits = search.matches(KIND, "pile").subquery()
    (record_id,) = db.session.scalars(select(hits.c.record_id))

    assert isinstance(record_id, uuid.UUID)
    assert corpus[record_id] == "pile"


def test_a_title_match_ranks_above_a_body_match(corpus: dict[uuid.UUID, str]) -> None:
    order = ranked(corpus, "tondeuse")

    assert order[0] == "tondeuse"
    assert set(order[1:]) == {"remorque", "script"}


def test_a_title_match_ranks_above_several_body_matches(ctx: None) -> None:
    keys = {uuid.uuid4(): "title", uuid.uuid4(): "body"}
    title_id, body_id = keys
    search.index_record(KIND, title_id, "Broyeur de végétaux", "Moteur thermique 6,5 ch.")
    search.index_record(
        KIND, body_id, "Remorque", "Pour le broyeur : le broyeur se charge à deux, broyeur."
    )

    assert ranked(keys, "broyeur") == ["title", "body"]


def test_index_record_replaces_the_previous_text(corpus: dict[uuid.UUID, str]) -> None:
    pile_id = next(k for k, v in corpus.items() if v == "pile")

    search.index_record(KIND, pile_id, "Batterie 36 V", "Pour la tondeuse à batterie.")

    assert found(corpus, "pile") == set()
    assert found(corpus, "batterie") == {"pile", "taille_haie"}
    assert "pile" in found(corpus, "tondeuse")
    assert index_rows(pile_id) == 1


def test_remove_record(corpus: dict[uuid.UUID, str]) -> None:
    pile_id = next(k for k, v in corpus.items() if v == "pile")

    search.remove_record(KIND, pile_id)
    search.remove_record(KIND, uuid.uuid4())  # not indexed: nothing happens

    assert found(corpus, "pile") == set()
    assert index_rows(pile_id) == 0


def index_rows(record_id: uuid.UUID) -> int:
    index = search._index  # the test looks under the module's hood on purpose
    stmt = select(func.count()).select_from(index).where(index.c.record_id == record_id)
    return db.session.scalar(stmt) or 0


# --- analyze, the SQLite side's analysis (pure Python) ---


@pytest.mark.parametrize(
    ("text", "stems"),
    [
        ("Débroussailleuse", "debroussaill"),
        ("L’entretien des espaces verts", "entretien espac vert"),
        ("l'outil d’Évreux qu'une", "outil evreux"),
        ("Tondeuses TONDEUSE tondeuse", "tondeux tondeux tondeux"),
        ("Œuvre oeuvre", "oeuvr oeuvr"),
        (unicodedata.normalize("NFD", "écologie"), "ecolog"),
        ("taille-haie", "taill hai"),
        ("de la à été", ""),
        ("Remorque 750 kg", "remorqu 750 kg"),
        ("snake_case", "snak cas"),
        ("", ""),
    ],
)
def test_analyze(text: str, stems: str) -> None:
    assert search.analyze(text) == stems


# --- highlight ---


def test_highlight_marks_every_form_of_the_query_words() -> None:
    snippet = search.highlight(
        "Tondeuse autotractée ; deux tondeuses, L’Entretien et l'entretien.", "tondeuse entretien"
    )

    assert snippet == (
        "<mark>Tondeuse</mark> autotractée ; deux <mark>tondeuses</mark>, "
        "L’<mark>Entretien</mark> et l&#x27;<mark>entretien</mark>."
    )


def test_highlight_escapes_the_text() -> None:
    snippet = search.highlight("<script>alert('tondeuse')</script> & <b>Tondeuse</b>", "tondeuse")

    assert "<script>" not in snippet
    assert "<b>" not in snippet
    assert snippet == (
        "&lt;script&gt;alert(&#x27;<mark>tondeuse</mark>&#x27;)&lt;/script&gt; &amp; "
        "&lt;b&gt;<mark>Tondeuse</mark>&lt;/b&gt;"
    )


def test_highlight_escapes_the_query_too() -> None:
    snippet = search.highlight("Un texte <i>sans</i> rapport.", "<script>x</script>")

    assert snippet == "Un texte &lt;i&gt;sans&lt;/i&gt; rapport."


def test_highlight_shows_the_part_with_the_most_query_words() -> None:
    text = (
        "Une tondeuse en début de texte. "
        + "Du texte sans rapport. " * 30
        + "Ici la débroussailleuse et la tondeuse thermique ensemble. "
        + "Encore du texte. " * 30
    )

    snippet = search.highlight(text, "tondeuse débroussailleuse", length=120)

    assert snippet.startswith("…")
    assert snippet.endswith("…")
    assert "<mark>débroussailleuse</mark> et la <mark>tondeuse</mark>" in snippet
    assert len(snippet.replace("<mark>", "").replace("</mark>", "")) <= 122
    assert "Une tondeuse" not in snippet


def test_highlight_of_a_word_longer_than_the_snippet() -> None:
    word = "tondeuse" + "x" * 300  # a pasted token, say, searched for itself
    text = f"Le jeton {word} est dans le texte, puis une tondeuse."

    snippet = search.highlight(text, word, length=120)

    assert snippet == f"…{word[:120]}…"  # the start of the word, unmarked since it is cut


def test_highlight_cuts_between_words() -> None:
    snippet = search.highlight("Alpha bravo charlie delta echo foxtrot golf", "golf", length=20)

    assert snippet == "…echo foxtrot <mark>golf</mark>"


def test_highlight_marks_whole_words_only_every_time() -> None:
    text = "Haies, haie_taille et bhaie\u00a0: une haie.\tHAIE2 haie"

    assert search.highlight(text, "haie") == (
        "<mark>Haies</mark>, <mark>haie</mark>_taille et bhaie : une <mark>haie</mark>. "
        "HAIE2 <mark>haie</mark>"
    )


def test_highlight_without_a_match_is_the_start_of_the_text() -> None:
    text = "Première phrase du document.\n\nSeconde   phrase, assez longue pour être coupée."

    assert search.highlight(text, "tondeuse", length=40) == "Première phrase du document. Seconde…"
    assert search.highlight(text, "de la") == (
        "Première phrase du document. Seconde phrase, assez longue pour être coupée."
    )
    assert search.highlight("", "tondeuse") == ""


def test_highlight_handles_decomposed_accents_and_ligatures() -> None:
    text = unicodedata.normalize("NFD", "Le second œuvre à Évreux")

    assert search.highlight(text, "oeuvre evreux") == (
        "Le second <mark>œuvre</mark> à <mark>Évreux</mark>"
    )


def test_highlight_finds_words_whose_stem_rewrites_their_end() -> None:
    # Snowball rewrites chevaux → cheval and heureuse → heureux: the words are still found.
    text = "Un cheval, des CHEVAUX ; une équipe heureuse et un heureux élagage."

    assert search.highlight(text, "chevaux heureux elagages") == (
        "Un <mark>cheval</mark>, des <mark>CHEVAUX</mark> ; une équipe <mark>heureuse</mark> "
        "et un <mark>heureux</mark> <mark>élagage</mark>."
    )


def test_highlight_keeps_its_positions_when_lower_case_is_longer() -> None:
    # "İ".lower() is two characters: the text is then searched without changing its case.
    text = "İstanbul : la tondeuse, puis la TONDEUSE."

    assert search.highlight(text, "tondeuses") == (
        "İstanbul : la <mark>tondeuse</mark>, puis la <mark>TONDEUSE</mark>."
    )


def test_highlight_is_markup_safe_for_templates() -> None:
    assert hasattr(search.highlight("tondeuse", "tondeuse"), "__html__")


# --- The index tables, for migrations ---


def test_index_tables_are_recognised() -> None:
    assert search.is_index_table("search_index")
    assert search.is_index_table("search_index_docsize")
    assert not search.is_index_table("resources")
    assert not search.is_index_table(None)


# --- Reindexing ---


def run(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


def resource_hits(app: Flask, query: str) -> set[uuid.UUID]:
    with app.app_context():
        hits = search.matches("resource", query).subquery()
        stmt = select(Resource.id).join(hits, hits.c.record_id == Resource.id)
        return set(db.session.scalars(stmt))


def test_flask_search_reindex_rebuilds_the_resources(app, make) -> None:
    manager = make.user("manager")
    mower = make.resource(manager, name="Tondeuse autotractée")
    trailer = make.resource(manager, name="Remorque", description="Pour deux tondeuses.")
    with app.app_context():
        db.session.execute(delete(table("search_index")))
        db.session.commit()
    assert resource_hits(app, "tondeuse") == set()

    output = run(app, "search", "reindex")

    assert "resource: 2 indexed" in output
    assert resource_hits(app, "tondeuses") == {mower.id, trailer.id}

    assert "resource: 2 indexed" in run(app, "search", "reindex", "--kind", "resource")
    assert resource_hits(app, "tondeuses") == {mower.id, trailer.id}, "no duplicates"


def test_flask_search_reindex_refuses_an_unknown_kind(app) -> None:
    result = app.test_cli_runner().invoke(args=["search", "reindex", "--kind", "nope"])

    assert result.exit_code != 0
    assert "nope" in result.output
    assert "resource" in result.output


def test_the_demo_data_is_searchable(app) -> None:
    """flask demo seed goes through the catalogue services, which index."""
    run(app, "demo", "seed")

    hits = resource_hits(app, "tondeuses")
    with app.app_context():
        names = set(db.session.scalars(select(Resource.name).where(Resource.id.in_(hits))))

    assert "Tondeuse autotractée thermique 53 cm" in names
    assert "Tondeuse autoportée (tracteur tondeuse) 102 cm" in names

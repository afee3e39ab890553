"""French full-text search, the same answers on SQLite and PostgreSQL.

Every searchable record (a catalogue resource, a library document) has one row in the
``search_index`` table, keyed by ``(kind, record_id)``, holding a title and a body; services
keep it up to date with ``index_record``/``remove_record`` in the transaction that changes the
record, and queries join ``matches(kind, q)`` to rank their records.

The two databases analyse French differently, so the index is built differently on each
(migration a7f3c2d19e04):

- **SQLite** has no French analysis. ``analyze`` does it in Python, identically for indexed
  text and queries: NFKC, case folding, typographic apostrophes made plain, elisions (l', d',
  qu'…) and French stop words dropped, accents stripped, then Snowball French stems
  (stemming before stripping accents would stem "autotractée" and "autotractee"
  differently). An FTS5 table (``unicode61 remove_diacritics 2``) holds the stems; a query
  is the AND of its stems, each quoted, so nothing the user types is read as FTS5 syntax.
  Ranked with bm25, a title match weighing ten times a body match.
- **PostgreSQL** analyses the words itself with the ``fr`` configuration: the same stop
  words (checked before accents are removed, as here), ``unaccent``, then ``french_stem``,
  into a stored tsvector (title weight A, body B) with a GIN index. Python only splits the
  text into words (normalised as above), because PostgreSQL's parser reads markup tags,
  URLs, e-mail addresses and file paths as tokens of their own. The query is the same words
  as on SQLite (stop words and elisions dropped), each quoted, given to
  ``websearch_to_tsquery``; ranked with ts_rank_cd and the same ten-to-one weights.

Both remove accents before stemming, with the same stop words, so they agree word for word
but for the few changes of newer Snowball releases (PostgreSQL 15 keeps "française" apart
from "français"); docs/decisions.md ("French search") has the measurements.

``highlight`` builds snippets in Python from the same analysis, so both databases show the
same snippet. The régie list still uses the older folded LIKE matching (``fold``,
``matches_all_words``): a small table, searched by name and town.
"""

import contextlib
import functools
import hashlib
import html
import itertools
import re
import threading
import unicodedata
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import snowballstemmer
from markupsafe import Markup
from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Select,
    String,
    Text,
    Uuid,
    and_,
    bindparam,
    column,
    delete,
    false,
    func,
    insert,
    literal,
    literal_column,
    select,
    table,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert

from sharing.extensions import db

# The full-text index (see migrations a7f3c2d19e04) lives outside the SQLAlchemy metadata:
# the table itself and, on SQLite, the shadow tables FTS5 keeps its data in.
INDEX_TABLES = frozenset(
    {
        "search_index",
        "search_index_data",
        "search_index_idx",
        "search_index_content",
        "search_index_docsize",
        "search_index_config",
    }
)

# PostgreSQL's French stop words (src/backend/snowball/stopwords/french.stop, from the
# Snowball project), so that both databases drop the same words.
_FRENCH_STOP = """
    au aux avec ce ces dans de des du elle en et eux il je la le leur lui ma mais me même mes
    moi mon ne nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes toi ton
    tu un une vos votre vous c d j l à m n s t y été étée étées étés étant étante étants
    étantes suis es est sommes êtes sont serai seras sera serons serez seront serais serait
    serions seriez seraient étais était étions étiez étaient fus fut fûmes fûtes furent sois
    soit soyons soyez soient fusse fusses fût fussions fussiez fussent ayant ayante ayantes
    ayants eu eue eues eus ai as avons avez ont aurai auras aura aurons aurez auront aurais
    aurait aurions auriez auraient avais avait avions aviez avaient eut eûmes eûtes eurent aie
    aies ait ayons ayez aient eusse eusses eût eussions eussiez eussent
"""
STOP_WORDS = frozenset(_FRENCH_STOP.split())

# Title matches weigh ten times body ones, on both databases.
TITLE_WEIGHT = 10.0
BODY_WEIGHT = 1.0

# Replaced with str.replace, not str.translate: a translation table takes a slow path on any
# text with a non-ASCII character (every French text), two seconds of a 17 000-record reindex.
_APOSTROPHES = (("’", "'"), ("‘", "'"), ("ʼ", "'"))
# Letters that Unicode does not decompose into a base letter and an accent, but that
# PostgreSQL's unaccent maps all the same.
_LIGATURES = (("œ", "oe"), ("æ", "ae"), ("ø", "o"), ("ł", "l"), ("đ", "d"))
# An elided article or pronoun at the start of a word: l'outil, d’Évreux, qu'une.
_ELISION = re.compile(r"\b(?:qu|[cdjlmnst])'(?=[^\W_])")
# Words are runs of letters and digits; the underscore separates, as in both databases.
_WORD = re.compile(r"[^\W_]+")

# The letters of a stem (no accents, ligatures spelt out) and how the text may write each: a
# character, or for a ligature a regular expression. Other letters are written as they are.
_FOLDED: dict[str, Iterable[str]] = {
    "a": "aàâäáãåæ",
    "c": "cç",
    "e": "eéèêë",
    "i": "iîïíì",
    "o": "oôöóòõøœ",  # œ too: a stem may stop after its o
    "u": "uùûüú",
    "y": "yÿý",
    "n": "nñ",
    "l": "lł",
    "d": "dđ",
    "œ": ("o[eéèêë]", "œ"),
    "æ": ("a[eéèêë]", "æ"),
}

_local = threading.local()
# The session's index changes waiting for the end of a ``deferred`` block.
_PENDING = "search_index_pending"

Loader = Callable[[], Iterable[tuple[uuid.UUID, str, str]]]
_loaders: dict[str, Loader] = {}

_index = table(
    "search_index",
    column("kind", String),
    column("record_id", Uuid),
    column("title", Text),
    column("body", Text),
)
# The same table on SQLite, with the FTS5 rowid we choose (``fts_rowid``).
_fts = table(
    "search_index",
    column("rowid", Integer),
    column("kind", String),
    column("record_id", Uuid),
    column("title", Text),
    column("body", Text),
)


# The statements that write the index, built once (they run for every record saved).
_FTS_INSERT = insert(_fts)
_FTS_DELETE = delete(_fts).where(_fts.c.rowid.in_(bindparam("rowids", expanding=True)))
_PG_DELETE = delete(_index).where(
    _index.c.kind == bindparam("kind"), _index.c.record_id == bindparam("record_id")
)
# Rows given as one array per column, unnested by PostgreSQL: one statement whatever their
# number. An executemany is one statement per row, and its Python loop waits on the server
# for each, which another thread's work (the sync reads its next page meanwhile) then delays
# a switch interval at a time.
_COLUMNS = ("kind", "record_id", "title", "body")
_pg_rows = (
    func.unnest(*(bindparam(name, type_=ARRAY(_index.c[name].type)) for name in _COLUMNS))
    .table_valued(*_COLUMNS)
    .render_derived()
)
_pg_insert = pg_insert(_index).from_select(_COLUMNS, select(_pg_rows))
_PG_UPSERT = _pg_insert.on_conflict_do_update(
    index_elements=["kind", "record_id"],
    set_={"title": _pg_insert.excluded.title, "body": _pg_insert.excluded.body},
)


def is_index_table(name: str | None) -> bool:
    """Whether ``name`` is one of the search index's tables, which autogenerate must ignore."""
    return name in INDEX_TABLES


def normalize(text: str) -> str:
    """The text as both databases receive it: NFKC (composed accents, and "m²" read as "m2",
    which PostgreSQL's parser would drop), typographic apostrophes made plain (PostgreSQL's
    parser and the elision rules only know the ASCII one)."""
    return _replace(unicodedata.normalize("NFKC", text), _APOSTROPHES)


def analyze(text: str) -> str:
    """The French analysis applied to indexed text and queries on SQLite: the space-joined
    Snowball stems of the words, accents removed, that are neither stop words nor elisions."""
    return " ".join(_stems(text))


def index_record(kind: str, record_id: uuid.UUID, title: str, body: str) -> None:
    """Put a record in the search index, or refresh it, in the current transaction."""
    row = _row(kind, record_id, title, body)
    pending = db.session.info.get(_PENDING)
    if pending is not None:
        pending[kind, record_id] = row
    else:
        _write({(kind, record_id): row})


def remove_record(kind: str, record_id: uuid.UUID) -> None:
    """Take a record out of the search index, in the current transaction."""
    pending = db.session.info.get(_PENDING)
    if pending is not None:
        pending[kind, record_id] = None
    else:
        _write({(kind, record_id): None})


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Index changes made inside the block are written at its end, a few statements for
    all of them instead of one or two per record: for a writer of many records at once (the
    federation sync applies a page of them). The last change of a record wins; the block's
    own queries do not see them yet."""
    if db.session.info.get(_PENDING) is not None:
        yield  # already deferred by an outer block, which writes everything
        return
    pending: dict[tuple[str, uuid.UUID], dict[str, Any] | None] = {}
    db.session.info[_PENDING] = pending
    try:
        yield
    finally:
        del db.session.info[_PENDING]
    _write(pending)


def _write(changes: dict[tuple[str, uuid.UUID], dict[str, Any] | None]) -> None:
    """Write index rows (a record's new row, or None to remove it) by record."""
    rows = [row for row in changes.values() if row is not None]
    if _backend() == "postgresql":
        removed = [{"kind": k, "record_id": r} for (k, r), row in changes.items() if row is None]
        if removed:
            db.session.execute(_PG_DELETE, removed)
        if rows:
            db.session.execute(_PG_UPSERT, {name: [row[name] for row in rows] for name in _COLUMNS})
        return
    # FTS5 columns have no index: rows are found by their rowid, not by a scan.
    rowids = [fts_rowid(kind, record_id) for kind, record_id in changes]
    for start in range(0, len(rowids), 500):  # SQLite takes a limited number of parameters
        db.session.execute(_FTS_DELETE, {"rowids": rowids[start : start + 500]})
    if rows:
        db.session.execute(_FTS_INSERT, rows)


def fts_rowid(kind: str, record_id: uuid.UUID) -> int:
    """The SQLite index row of a record: a 63-bit hash of its kind and id (collisions would
    need billions of records), so that refreshing or removing one is a lookup, not a scan."""
    digest = hashlib.blake2b(kind.encode() + b":" + record_id.bytes, digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


def matches(kind: str, query: str) -> Select[Any]:
    """Rows of ``(record_id, rank)`` for the records of ``kind`` that contain every word of
    ``query`` (stems, accents and case aside); a higher rank is a better match."""
    term = match_term(query)
    return matching(kind, None if term is None else literal(term, String))


def match_term(query: str) -> str | None:
    """What the database matches for ``query``: on SQLite the FTS5 expression of its stems,
    on PostgreSQL its words for ``websearch_to_tsquery``, each quoted so that nothing typed
    is read as query syntax; None when it has no searchable word."""
    words = _query_words(query)
    if not words:
        return None
    if _backend() == "postgresql":
        return " ".join(f'"{w}"' for w in words)
    return " ".join('"' + _stem(w).replace('"', '""') + '"' for w in words)


def matching(kind: str, term: ColumnElement[str] | None) -> Select[Any]:
    """``matches`` with the term as SQL: a bound parameter whose value ``match_term`` gives
    (for a statement built once and run with many terms). None matches nothing."""
    if _backend() == "postgresql":
        tsquery = func.websearch_to_tsquery(literal_column("'fr'::regconfig"), term)
        tsv: ColumnElement[Any] = literal_column("search_index.tsv")
        # ts_rank_cd's weights are listed {D, C, B, A}, at most 1; titles are A, bodies B.
        body = BODY_WEIGHT / TITLE_WEIGHT
        weights: ColumnElement[Any] = literal_column(f"'{{0, 0, {body}, 1}}'::float4[]")
        rank: ColumnElement[float] = func.ts_rank_cd(weights, tsv, tsquery, type_=Float)
        condition = tsv.op("@@")(tsquery) if term is not None else false()
    else:
        fts: ColumnElement[Any] = literal_column("search_index")
        # bm25 is lower for better matches, and weighs every column, unindexed ones included.
        rank = -func.bm25(fts, 0.0, 0.0, TITLE_WEIGHT, BODY_WEIGHT, type_=Float)
        condition = fts.op("MATCH")(term) if term is not None else false()
    return select(_index.c.record_id, rank.label("rank")).where(_index.c.kind == kind, condition)


def highlight(text: str, query: str, *, length: int = 240) -> str:
    """An HTML-safe snippet of about ``length`` characters of ``text`` around its best match
    for ``query``, the matching words in ``<mark>``; "…" where the text is cut. Without a
    match, the start of the text."""
    # Words are found in the normalised text, and shown as written: the two have the same
    # length, apostrophes being replaced one for one.
    # str.split() splits on the whitespace of \s, several times faster than a regex.
    text = " ".join(unicodedata.normalize("NFC", text).split())
    plain = _replace(text, _APOSTROPHES)
    wanted = frozenset(_stems(query))
    # Only the words that start like a wanted stem are stemmed (a regular expression finds
    # them): a Python step per word of the text cost a search 3 ms for a page of twenty
    # 2 KB bodies, and one per distinct word still 1 ms.
    hits = []
    if wanted:
        # In lower case, so that the expression needs no IGNORECASE (which makes it try every
        # position); a letter whose lower case is longer (İ) would shift them: keep the case.
        lowered = plain.lower()
        cased = len(lowered) != len(plain)
        if cased:
            lowered = plain
        for m in _prefilter(wanted, cased).finditer(lowered):
            start = m.start()
            if start and lowered[start - 1].isalnum():
                continue  # inside a word: words are runs of letters and digits (_WORD)
            stem = _stem_word(m.group())
            if stem in wanted:
                hits.append((start, m.end(), stem))
    start = _best_window(text, hits, length) if hits else 0
    end = min(len(text), start + length)
    if end < len(text):
        # Cut after a whole word, unless the window holds a single, very long one.
        space = text.rfind(" ", start, end + 1)
        end = space if space > start else end
    parts = ["…"] if start > 0 else []
    position = start
    for hit_start, hit_end, _ in hits:
        if hit_start < start or hit_end > end:
            continue
        parts.append(html.escape(text[position:hit_start]))
        parts.append(f"<mark>{html.escape(text[hit_start:hit_end])}</mark>")
        position = hit_end
    parts.append(html.escape(text[position:end]))
    if end < len(text):
        parts.append("…")
    return Markup("".join(parts))


def register_kind(kind: str, loader: Loader) -> None:
    """Declare a searchable kind: ``loader`` yields ``(id, title, body)`` for every record of
    that kind, for ``reindex``."""
    _loaders[kind] = loader


def registered_kinds() -> list[str]:
    """The kinds ``reindex`` knows how to rebuild."""
    return sorted(_loaders)


def reindex(kinds: Iterable[str] | None = None) -> dict[str, int]:
    """Rebuild the index of the given kinds (all registered ones by default) from their
    records, in the current transaction; how many records each kind now has indexed."""
    counts = {}
    for kind in sorted(kinds) if kinds is not None else registered_kinds():
        db.session.execute(delete(_index).where(_index.c.kind == kind))
        counts[kind] = 0
        rows = (_row(kind, *record) for record in _loaders[kind]())
        while batch := list(itertools.islice(rows, 500)):
            db.session.execute(insert(_index if _backend() == "postgresql" else _fts), batch)
            counts[kind] += len(batch)
    return counts


def fold(text: str) -> str:
    """Lower-case ``text`` and strip its accents: "Écologie" → "ecologie"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.replace("œ", "oe").replace("æ", "ae").replace("’", "'")


def like_pattern(word: str) -> str:
    """A LIKE pattern matching ``word`` anywhere, with LIKE's wildcards escaped."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def searchable(*parts: str | None) -> str:
    """The folded text stored for a record, built from its searchable fields."""
    return fold(" ".join(p for p in parts if p))


def matches_all_words(column: Any, query: str) -> ColumnElement[bool]:
    """Every word of ``query`` occurs in ``column`` (a folded text column)."""
    words = fold(query).split()
    if not words:
        return true()
    return and_(*(column.like(like_pattern(w), escape="\\") for w in words))


def _backend() -> str:
    """``postgresql`` or ``sqlite``: the database the session talks to."""
    return db.session.get_bind().dialect.name


def _row(kind: str, record_id: uuid.UUID, title: str, body: str) -> dict[str, Any]:
    """A record's row of the index: its words on PostgreSQL, the analysed text (and the row's
    rowid) on SQLite."""
    if _backend() == "postgresql":
        return {"kind": kind, "record_id": record_id, "title": _words(title), "body": _words(body)}
    return {
        "rowid": fts_rowid(kind, record_id),
        "kind": kind,
        "record_id": record_id,
        "title": analyze(title),
        "body": analyze(body),
    }


def _words(text: str) -> str:
    """The words of ``text`` as written, one space apart, for PostgreSQL to analyse: its
    parser would otherwise take markup tags (skipping a <script>'s content), URLs, e-mail
    addresses, host names and file paths for tokens of their own, where SQLite sees words."""
    return " ".join(_WORD.findall(normalize(text)))


def _query_words(query: str) -> list[str]:
    """The searchable words of ``query``, folded but not stemmed: no stop words, no elided
    articles, no punctuation, so no query syntax either."""
    text = _ELISION.sub(" ", _replace(normalize(query).casefold(), _LIGATURES))
    return [w for w in _WORD.findall(text) if w not in STOP_WORDS]


def _stems(text: str) -> list[str]:
    return [_stem(w) for w in _query_words(text)]


@functools.lru_cache(maxsize=100_000)
def _stem_word(word: str) -> str | None:
    """The stem of one word of a text, or None for a stop word. Cached like ``_stem``:
    ``highlight`` asks it for every word of every document of a page of results."""
    folded = _replace(normalize(word).casefold(), _LIGATURES)
    return None if folded in STOP_WORDS else _stem(folded)


def _replace(text: str, pairs: tuple[tuple[str, str], ...]) -> str:
    """``text`` with each character of ``pairs`` replaced by its substitute."""
    for old, new in pairs:
        if old in text:
            text = text.replace(old, new)
    return text


@functools.lru_cache(maxsize=100_000)
def _stem(word: str) -> str:
    """The Snowball stem of ``word`` once its accents are removed, as PostgreSQL's unaccent
    does before french_stem: stemming the accented word would make "autotractee" and
    "autotractée" different stems ('autotracte', 'autotract'). Cached: the pure-Python
    stemmer takes most of the time of indexing, and a vocabulary is small."""
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:  # Snowball stemmers keep state while they work: one per thread.
        stemmer = _local.stemmer = snowballstemmer.stemmer("french")
    decomposed = unicodedata.normalize("NFD", word)
    unaccented = "".join(c for c in decomposed if not unicodedata.combining(c))
    stem: str = stemmer.stemWord(unicodedata.normalize("NFC", unaccented))
    return stem


@functools.lru_cache(maxsize=2048)
def _prefilter(stems: frozenset[str], cased: bool) -> re.Pattern[str]:
    """The words that may have one of ``stems`` (in lower case unless ``cased``), and some
    ends of words, which the caller leaves out: those that start as a stem does but for its
    last two letters, which Snowball may rewrite (chevaux → cheval, publication → publiqu),
    accents and ligatures aside (cœur → coeur). The first two letters are always the word's:
    Snowball's French rules only change a word after them (in its regions RV, R1 and R2)."""
    branches = []
    for stem in stems:
        kept = max(len(stem) - 2, min(len(stem), 2))
        prefix = stem[:kept].replace("oe", "œ").replace("ae", "æ")
        rest = "".join(_letter(c) for c in prefix[1:])
        # One branch for each way of writing the first letter, so that every branch starts
        # with a plain character: the engine then skips to where one of them is, twice as
        # fast as trying a class of them at every position.
        branches += [first + rest for first in _spellings(prefix[0])]
    return re.compile(rf"(?:{'|'.join(branches)})[^\W_]*", re.IGNORECASE if cased else 0)


def _spellings(letter: str) -> list[str]:
    """The ways the text may write a letter of a stem (``_FOLDED``), as regular expressions."""
    return list(_FOLDED.get(letter, [re.escape(letter)]))


def _letter(letter: str) -> str:
    """A regular expression for a letter of a stem as the text may write it."""
    spellings = _spellings(letter)
    if all(len(spelling) == 1 for spelling in spellings):
        return f"[{''.join(spellings)}]"
    return f"(?:{'|'.join(spellings)})"


def _best_window(text: str, hits: list[tuple[int, int, str]], length: int) -> int:
    """Where a snippet of ``length`` characters should start to show the most distinct
    matching words (the earliest such place), with some context before the first one."""
    anchor, last, best = 0, 0, (-1, -1)
    # A window from each hit in turn: hits[i:end], those that end within ``length`` of its
    # start (hits come in the text's order), with the count of each of their stems.
    stems: Counter[str] = Counter()
    end = 0
    for i, (first, _, stem) in enumerate(hits):
        if end == i:  # a window holds its first hit, even a word longer than the window
            stems[stem] += 1
            end += 1
        while end < len(hits) and hits[end][1] <= first + length:
            stems[hits[end][2]] += 1
            end += 1
        score = (len(stems), end - i)
        if score > best:
            anchor, last, best = first, hits[end - 1][1], score
        stems[stem] -= 1
        if not stems[stem]:
            del stems[stem]
    slack = max(0, length - (last - anchor))
    if anchor <= slack:
        return 0  # everything fits from the start of the text
    # Some context before the first word, more if the text ends soon after the last one.
    start = min(anchor - min(slack, length // 3), len(text) - length)
    space = text.find(" ", start, anchor)
    return space + 1 if space != -1 else start

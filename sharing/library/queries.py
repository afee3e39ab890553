"""Read-only queries over the library: the filtered list, its page and its facet counts.

A search (``q``) ranks, counts and facets at most ``CANDIDATES`` documents: the first ones the
full-text index yields, in its own order, once the filters are applied. Ranking and counting
every match made a search cost grow with the library (ten times the documents, four times
the time); beyond the cap the total is a lower bound (docs/decisions.md, "Library")."""

import functools
import uuid
from typing import Any

from sqlalchemy import (
    CTE,
    Select,
    String,
    bindparam,
    cast,
    func,
    literal_column,
    null,
    select,
    union_all,
)

from sharing import search
from sharing.extensions import db
from sharing.library.models import SEARCH_KIND, Document, DocumentTag, DocumentTheme
from sharing.regies.models import Regie

# How many matching documents a search ranks, counts and facets at most: every three-word
# search of the benchmark's network library (3,000 documents, 300 to 760 matches) but one is
# exact; ten times the library costs a search less than twice the time (docs/decisions.md).
CANDIDATES = 750

FACETS = ("theme", "type", "regie", "instance")
# How many values a facet lists at most, the most frequent (as CKAN's search.facets.limit):
# only the régie facet can have more, and a list of hundreds of régies helps nobody narrow a
# search, while reading and sending them took a seventh of a search of a large network.
# Every type is always listed (there are six), which ``total`` relies on.
FACET_VALUES = 50


def documents(*, regie: uuid.UUID | None = None) -> Select[Any]:
    """The library's documents (only ``regie``'s with it), the latest changed first."""
    stmt = select(Document).where(Document.deleted_at.is_(None))
    if regie:
        stmt = stmt.where(Document.regie_id == regie)
    return stmt.order_by(Document.updated_at.desc(), Document.id)


def search_statement(
    q: str | None = None, page: int = 1, per_page: int = 50, **filters: Any
) -> tuple[Select[Any], dict[str, Any]]:
    """The one statement of a library search (see ``results``: the page's ids and every
    facet of the filtered library; with ``q``, of at most ``CANDIDATES`` matches) and the
    parameters to run it with. The statement is built once for each kind of search (which
    filters, with ``q`` or not) and its values are bound when it runs: building it, and
    working out its cache key, cost more than the database's work for a small library."""
    bound: dict[str, Any] = {"per_page": per_page, "offset": (page - 1) * per_page}
    shape = set()
    if q and q.strip():
        bound["term"] = search.match_term(q)
        shape.add("q" if bound["term"] is not None else "q_without_words")
    for name in ("theme", "type", "tag", "regie"):
        if filters.get(name):
            shape.add(name)
            bound[name] = filters[name]
    if "tag" in bound:
        bound["tag"] = bound["tag"].strip().casefold()
    instance = filters.get("instance")
    if instance == "local":
        shape.add("local")
    elif instance:
        shape.add("instance")
        bound["instance"] = uuid.UUID(instance)
    bind = db.session.get_bind()
    return _search_statement(bind.dialect.name, frozenset(shape), CANDIDATES, FACET_VALUES), bound


@functools.lru_cache(maxsize=256)
def _search_statement(
    dialect: str, shape: frozenset[str], cap: int, facet_values: int
) -> Select[Any]:
    """The search statement of one kind of search (``dialect`` keeps the databases' apart)."""
    searched = bool(shape & {"q", "q_without_words"})
    return results(_candidates(shape, cap), ranked=searched, facet_values=facet_values)


def _candidates(shape: frozenset[str], cap: int) -> Select[Any]:
    """What ``results`` pages and counts: rows of ``(id, type, regie_id, origin_instance_id,
    rank, updated_at)`` of the filtered library, unordered; with ``q``, only the documents
    that match it (``rank``: higher is better), at most ``cap`` of them, else every document
    (``rank`` null)."""
    columns = (Document.id, Document.type, Document.regie_id, Regie.origin_instance_id)
    if not shape & {"q", "q_without_words"}:
        stmt = select(*columns, null().label("rank"), Document.updated_at).select_from(Document)
        stmt = stmt.join(Document.regie).where(Document.deleted_at.is_(None))
        return _filtered(stmt, shape)
    term = bindparam("term", type_=String) if "q" in shape else None
    matches = search.matching(SEARCH_KIND, term).subquery()
    record_id, rank = matches.c[0], matches.c[1]
    stmt = select(*columns, rank.label("rank"), Document.updated_at).select_from(matches)
    stmt = stmt.join(Document, Document.id == record_id).join(Document.regie)
    stmt = stmt.where(Document.deleted_at.is_(None))
    return _filtered(stmt, shape).limit(cap)


def _filtered(stmt: Select[Any], shape: frozenset[str]) -> Select[Any]:
    """``stmt`` (over documents joined to their régie) restricted by the filters in
    ``shape``, their values bound by name."""
    if "theme" in shape:
        themed = select(DocumentTheme.document_id).where(DocumentTheme.theme == bindparam("theme"))
        stmt = stmt.where(Document.id.in_(themed))
    if "type" in shape:
        stmt = stmt.where(Document.type == bindparam("type"))
    if "tag" in shape:
        tagged = select(DocumentTag.document_id).where(DocumentTag.tag == bindparam("tag"))
        stmt = stmt.where(Document.id.in_(tagged))
    if "regie" in shape:
        stmt = stmt.where(Document.regie_id == bindparam("regie"))
    if "local" in shape:
        stmt = stmt.where(Regie.origin_instance_id.is_(None))
    elif "instance" in shape:
        stmt = stmt.where(Regie.origin_instance_id == bindparam("instance"))
    return stmt


def results(filtered: Select[Any], *, ranked: bool, facet_values: int) -> Select[Any]:
    """One statement for a page of ``filtered`` (``_candidates``) and every facet: rows of
    ``(facet, theme, type, regie, instance, documents, id, position)``. The page's documents
    are the rows whose facet is ``page``, with their ``id`` and ``position`` (ascending);
    best match first when ``ranked``, else the latest changed. For each facet, how many of
    the documents ``filtered`` selects (all its pages) have each value, most frequent first,
    ``facet_values`` values at most; a row's value is in the column named after its facet,
    the others are null.

    ``filtered`` (with ``q``, the full-text match) runs once, in a common table expression
    that both databases materialise since it is read five times."""
    matched = filtered.cte("matched")
    first = matched.c.rank.desc() if ranked else matched.c.updated_at.desc()
    order = (first, matched.c.id)
    values: dict[str, Any] = {
        "theme": DocumentTheme.theme,
        "type": matched.c.type,
        "regie": matched.c.regie_id,
        "instance": matched.c.origin_instance_id,
    }
    groups = [_page(matched, order, values)]
    for facet, grouped in values.items():
        stmt = select(
            literal_column(f"'{facet}'").label("facet"),
            *_only(values, grouped),
            func.count().label("documents"),
            cast(null(), Document.id.type).label("id"),
            cast(null(), Document.version.type).label("position"),
        )
        if facet == "theme":
            # IN rather than a join: SQLite then reads the themes of the matched documents by
            # their key, where a join had it scan every theme row in the theme index's order.
            stmt = stmt.where(DocumentTheme.document_id.in_(select(matched.c.id)))
        else:
            stmt = stmt.select_from(matched)
        stmt = stmt.group_by(grouped).order_by(func.count().desc(), grouped).limit(facet_values)
        groups.append(select(stmt.subquery()))  # a subquery: SQLite's UNION takes no LIMIT
    rows = union_all(*groups).subquery()
    return select(rows).order_by(
        rows.c.facet, rows.c.documents.desc(), *(rows.c[name] for name in values), rows.c.position
    )


def _page(matched: CTE, order: tuple[Any, ...], values: dict[str, Any]) -> Select[Any]:
    """The page's rows of ``results``: the ids of one page of ``matched``, in ``order`` (its
    size and start bound as ``per_page`` and ``offset``)."""
    cut = (
        select(matched.c.id, func.row_number().over(order_by=order).label("position"))
        .order_by(*order)
        .limit(bindparam("per_page"))
        .offset(bindparam("offset"))
        .subquery()
    )
    return select(
        literal_column("'page'").label("facet"),
        *_only(values, None),
        cast(null(), Document.version.type).label("documents"),
        cut.c.id,
        cut.c.position,
    )


def _only(values: dict[str, Any], kept: Any) -> list[Any]:
    """The facet columns, each null but ``kept``."""
    return [
        (column if column is kept else cast(null(), column.type)).label(name)
        for name, column in values.items()
    ]


# What a result list shows of the documents ``ids`` (bound at execution): their row, their
# body for snippets, their régie, and their themes and tags each as one string, the labels
# joined by ``LABELS_SEPARATOR``. Built once, since every search reads a page of them, and
# read as rows rather than ORM objects. ``deleted_at`` is read rather than filtered: SQLite
# would then scan its index instead of looking the ids up.
# Never in a theme (a slug) nor in a tag: Tag turns any run of whitespace, which this is to
# Python, into one space.
LABELS_SEPARATOR = "\x1f"


def _labels(column: Any) -> Any:
    """The values of ``column`` (of document_themes or document_tags) for the listed document,
    joined by ``LABELS_SEPARATOR``; null when it has none."""
    table = column.class_
    joined = func.aggregate_strings(column, LABELS_SEPARATOR)
    return select(joined).where(table.document_id == Document.id).scalar_subquery()


LISTED = (
    select(
        Document.id,
        Document.title,
        Document.summary,
        Document.body,
        Document.type,
        Document.licence,
        Document.version,
        Document.created_at,
        Document.updated_at,
        Document.deleted_at,
        Regie.id.label("regie_id"),
        Regie.name.label("regie_name"),
        Regie.slug.label("regie_slug"),
        Regie.origin_instance_id,
        _labels(DocumentTheme.theme).label("themes"),
        _labels(DocumentTag.tag).label("tags"),
    )
    .join(Document.regie)
    .where(Document.id.in_(bindparam("ids", expanding=True)))
)

"""Read-only queries over the library: the filtered list and its facet counts."""

import uuid
from typing import Any

from sqlalchemy import Select, cast, func, literal_column, null, select, union_all

from sharing import search
from sharing.library.models import SEARCH_KIND, Document, DocumentTag, DocumentTheme, DocumentType
from sharing.regies.models import Regie


def documents(
    *,
    q: str | None = None,
    theme: str | None = None,
    type: DocumentType | None = None,
    tag: str | None = None,
    regie: uuid.UUID | None = None,
    instance: str | None = None,
) -> Select[Any]:
    """The library, filtered: best match first with ``q``, else the latest changes first."""
    stmt = select(Document).join(Document.regie).where(Document.deleted_at.is_(None))
    if q and q.strip():
        matches = search.matches(SEARCH_KIND, q).subquery()
        record_id, rank = matches.c[0], matches.c[1]
        stmt = stmt.join(matches, record_id == Document.id).order_by(rank.desc(), Document.id)
    else:
        stmt = stmt.order_by(Document.updated_at.desc(), Document.id)
    if theme:
        themed = select(DocumentTheme.document_id).where(DocumentTheme.theme == theme)
        stmt = stmt.where(Document.id.in_(themed))
    if type:
        stmt = stmt.where(Document.type == type)
    if tag:
        tagged = select(DocumentTag.document_id).where(DocumentTag.tag == tag.strip().casefold())
        stmt = stmt.where(Document.id.in_(tagged))
    if regie:
        stmt = stmt.where(Document.regie_id == regie)
    if instance == "local":
        stmt = stmt.where(Regie.origin_instance_id.is_(None))
    elif instance:
        stmt = stmt.where(Regie.origin_instance_id == uuid.UUID(instance))
    return stmt


def page_ids(filtered: Select[Any], page: int, per_page: int) -> Select[Any]:
    """The ids of one page of ``filtered``, in its order. The page is cut on ids alone and its
    documents read afterwards, so that whole rows (bodies included) never go through the sort
    of every match."""
    return filtered.with_only_columns(Document.id).limit(per_page).offset((page - 1) * per_page)


FACETS = ("theme", "type", "regie", "instance")


def facet_counts(filtered: Select[Any]) -> Select[Any]:
    """Rows of ``(facet, theme, type, regie, instance, documents)``: for each facet, how many of
    the documents ``filtered`` selects (all its pages) have each value, most frequent first;
    a row's value is in the column named after its facet, the others are null.

    One statement: the filtered documents (with ``q``, the full-text match) are found once,
    in a common table expression that both databases materialise since it is read four
    times, then grouped four ways."""
    matched = (
        filtered.with_only_columns(
            Document.id, Document.type, Document.regie_id, Regie.origin_instance_id
        )
        .order_by(None)
        .cte("matched")
    )
    values: dict[str, Any] = {
        "theme": DocumentTheme.theme,
        "type": matched.c.type,
        "regie": matched.c.regie_id,
        "instance": matched.c.origin_instance_id,
    }
    groups = []
    for facet, grouped in values.items():
        columns: list[Any] = [
            (column if column is grouped else cast(null(), column.type)).label(name)
            for name, column in values.items()
        ]
        count = func.count().label("documents")
        stmt = select(literal_column(f"'{facet}'").label("facet"), *columns, count)
        if facet == "theme":
            stmt = stmt.join_from(DocumentTheme, matched, DocumentTheme.document_id == matched.c.id)
        else:
            stmt = stmt.select_from(matched)
        groups.append(stmt.group_by(grouped))
    counts = union_all(*groups).subquery()
    return select(counts).order_by(
        counts.c.facet, counts.c.documents.desc(), *(counts.c[name] for name in values)
    )

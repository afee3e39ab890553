"""Read-only queries over the library: the filtered list and its facet counts."""

import uuid
from typing import Any

from sqlalchemy import Select, func, select

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


def facet_counts(filtered: Select[Any]) -> dict[str, Select[Any]]:
    """For each facet, rows of ``(value, count)`` over every document ``filtered`` selects
    (all its pages), most frequent first."""
    ids = filtered.with_only_columns(Document.id).order_by(None)
    count = func.count(Document.id)
    by_theme = (
        select(DocumentTheme.theme, func.count(DocumentTheme.document_id))
        .where(DocumentTheme.document_id.in_(ids))
        .group_by(DocumentTheme.theme)
        .order_by(func.count(DocumentTheme.document_id).desc(), DocumentTheme.theme)
    )
    return {
        "theme": by_theme,
        "type": _count_by(Document.type, ids, count),
        "regie": _count_by(Document.regie_id, ids, count),
        "instance": _count_by(Regie.origin_instance_id, ids, count),
    }


def _count_by(column: Any, ids: Select[Any], count: Any) -> Select[Any]:
    return (
        select(column, count)
        .select_from(Document)
        .join(Regie, Regie.id == Document.regie_id)
        .where(Document.id.in_(ids))
        .group_by(column)
        .order_by(count.desc(), column)
    )

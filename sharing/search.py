"""Text search shared by the catalogue and the régie list.

For now a record keeps a folded copy of its searchable text (lower case, no accents) and each
word of the query must appear in it. The library's French full-text search will replace the
matching behind ``matches_all_words`` without changing its callers.
"""

import unicodedata
from typing import Any

from sqlalchemy import ColumnElement, and_, true

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


def is_index_table(name: str | None) -> bool:
    """Whether ``name`` is one of the search index's tables, which autogenerate must ignore."""
    return name in INDEX_TABLES


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

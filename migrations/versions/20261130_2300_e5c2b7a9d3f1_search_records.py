"""Faster library searches on a large library.

- SQLite: the FTS5 table keeps only the text (title, body) of each index row, and a plain
  table, ``search_records``, which record the row stands for (its kind and id, under the
  same rowid). A search used to read each match's kind and record id from the FTS5 table,
  which reads the row's whole stored text: a scattered page of a large table per match. The
  rows are moved as they are (no reindex needed).
- Both databases: an index on documents holding what a search reads of each matching
  document (``ix_documents_listed``), so that SQLite does not read every matching row, each
  with its body.

Revision ID: e5c2b7a9d3f1
Revises: d4e8a1f0c2b9
Create Date: 2026-11-30 23:00:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "e5c2b7a9d3f1"
down_revision = "d4e8a1f0c2b9"
branch_labels = None
depends_on = None

_LISTED = ["id", "deleted_at", "type", "regie_id", "updated_at"]
_TOKENIZE = "tokenize = 'unicode61 remove_diacritics 2'"


def upgrade():
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_index("ix_documents_listed", _LISTED)
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(
        "CREATE TABLE search_records ("
        "rowid INTEGER PRIMARY KEY, kind VARCHAR(40) NOT NULL, record_id CHAR(32) NOT NULL)"
    )
    op.execute(
        "INSERT INTO search_records (rowid, kind, record_id)"
        " SELECT rowid, kind, record_id FROM search_index"
    )
    op.execute("ALTER TABLE search_index RENAME TO search_index_before")
    op.execute(f"CREATE VIRTUAL TABLE search_index USING fts5(title, body, {_TOKENIZE})")
    op.execute(
        "INSERT INTO search_index (rowid, title, body)"
        " SELECT rowid, title, body FROM search_index_before"
    )
    op.execute("DROP TABLE search_index_before")


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE search_index RENAME TO search_index_after")
        op.execute(
            "CREATE VIRTUAL TABLE search_index USING fts5("
            f"kind UNINDEXED, record_id UNINDEXED, title, body, {_TOKENIZE})"
        )
        op.execute(
            "INSERT INTO search_index (rowid, kind, record_id, title, body)"
            " SELECT t.rowid, r.kind, r.record_id, t.title, t.body"
            " FROM search_index_after AS t JOIN search_records AS r ON r.rowid = t.rowid"
        )
        op.execute("DROP TABLE search_index_after")
        op.execute("DROP TABLE search_records")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index("ix_documents_listed")

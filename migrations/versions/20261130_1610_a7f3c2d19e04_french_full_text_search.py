"""French full-text search: one ``search_index`` table, built differently on each database,
that sharing/search.py fills and queries for every searchable kind (resources, documents).

- SQLite has no French analysis of its own, so the application analyses the text in Python
  (elisions, stop words, Snowball French stems, accents stripped) and stores the stems in an
  FTS5 virtual table (``unicode61 remove_diacritics 2``), ranked with bm25. FTS5 keeps its
  data in shadow tables (search_index_data, _idx, _content, _docsize, _config).
- PostgreSQL analyses the words itself (the application only splits the text into words, so
  that the parser never takes markup, URLs or e-mail addresses for tokens): a text search
  configuration ``fr``, the built-in ``french`` one where words with non-ASCII letters go
  through the French stop words, ``unaccent``, then ``french_stem``, and words with digits
  through ``unaccent`` and ``french_stem``; a stored, weighted tsvector (title A, body B)
  and a GIN index on it.

Neither table is in the SQLAlchemy metadata; migrations/env.py leaves them out of
autogenerate. The index starts empty: run ``flask search reindex`` after upgrading (a
migration never imports application code, and the analysis lives there).

This revision also drops ``resources.search_text``, the folded copy that the catalogue's
LIKE search used before. Downgrading puts the column back, filled with a lower-cased copy of
the same fields (SQL's lower(), so accents are not folded until each resource is saved again).

Revision ID: a7f3c2d19e04
Revises: 90a191ad2ba3
Create Date: 2026-11-30 16:10:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a7f3c2d19e04"
down_revision = "90a191ad2ba3"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
        # French stop words are checked before unaccent, else the accented ones ("à", "été",
        # "même") come out of it unrecognised and are indexed; SQLite's analysis drops them.
        op.execute(
            "CREATE TEXT SEARCH DICTIONARY fr_stop"
            " (TEMPLATE = simple, STOPWORDS = french, ACCEPT = false)"
        )
        op.execute("CREATE TEXT SEARCH CONFIGURATION fr (COPY = french)")
        op.execute(
            "ALTER TEXT SEARCH CONFIGURATION fr"
            " ALTER MAPPING FOR hword, hword_part, word WITH fr_stop, unaccent, french_stem"
        )
        # Words with digits ("2ème", "18V") are stemmed too, as on SQLite, not just lowered.
        op.execute(
            "ALTER TEXT SEARCH CONFIGURATION fr ALTER MAPPING FOR numword WITH unaccent, french_stem"
        )
        op.execute(
            """
            CREATE TABLE search_index (
                kind VARCHAR(40) NOT NULL,
                record_id UUID NOT NULL,
                title TEXT NOT NULL DEFAULT '',
                body TEXT NOT NULL DEFAULT '',
                tsv TSVECTOR GENERATED ALWAYS AS (
                    setweight(to_tsvector('fr', coalesce(title, '')), 'A')
                    || setweight(to_tsvector('fr', coalesce(body, '')), 'B')
                ) STORED,
                CONSTRAINT pk_search_index PRIMARY KEY (kind, record_id)
            )
            """
        )
        op.execute("CREATE INDEX ix_search_index_tsv ON search_index USING gin (tsv)")
    else:
        op.execute(
            "CREATE VIRTUAL TABLE search_index USING fts5("
            "kind UNINDEXED, record_id UNINDEXED, title, body,"
            " tokenize = 'unicode61 remove_diacritics 2')"
        )

    with op.batch_alter_table("resources", schema=None) as batch_op:
        batch_op.drop_column("search_text")


def downgrade():
    with op.batch_alter_table("resources", schema=None) as batch_op:
        batch_op.add_column(sa.Column("search_text", sa.Text(), nullable=False, server_default=""))
    op.execute(
        "UPDATE resources SET search_text = lower("
        "name || ' ' || description || ' ' || location || ' ' || requirements)"
    )
    with op.batch_alter_table("resources", schema=None) as batch_op:
        batch_op.alter_column("search_text", server_default=None)

    op.execute("DROP TABLE search_index")
    if op.get_bind().dialect.name == "postgresql":
        # The unaccent extension stays: it may have been there before, for other uses.
        op.execute("DROP TEXT SEARCH CONFIGURATION fr")
        op.execute("DROP TEXT SEARCH DICTIONARY fr_stop")

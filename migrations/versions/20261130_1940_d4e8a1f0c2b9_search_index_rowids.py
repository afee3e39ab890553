"""SQLite search index: every row gets the rowid ``sharing.search.fts_rowid`` computes from its
kind and record id, so that refreshing or removing a record's row is a lookup by rowid (FTS5
columns have no index: deleting by kind and record id scanned the whole index, once per
record saved). PostgreSQL's index is a table with a primary key: nothing to do.

Also an index on the change feed's (op, changed_at): purging old tombstones then reads only
them, however many old upserts the feed holds.

Revision ID: d4e8a1f0c2b9
Revises: be0c1dbd73a1
Create Date: 2026-11-30 19:40:00.000000

"""

import hashlib
import uuid

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d4e8a1f0c2b9"
down_revision = "be0c1dbd73a1"
branch_labels = None
depends_on = None


def _rowid(kind, record_id):
    # The same function as sharing.search.fts_rowid, frozen here as migrations must be.
    digest = hashlib.blake2b(kind.encode() + b":" + record_id.bytes, digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


def upgrade():
    with op.batch_alter_table("federation_changes", schema=None) as batch_op:
        batch_op.create_index("ix_federation_changes_op_changed_at", ["op", "changed_at"])
    connection = op.get_bind()
    if connection.dialect.name != "sqlite":
        return
    rows = connection.execute(sa.text("SELECT rowid, kind, record_id FROM search_index")).all()
    for rowid, kind, record_id in rows:
        wanted = _rowid(kind, uuid.UUID(str(record_id)))
        if wanted != rowid:
            connection.execute(
                sa.text("UPDATE search_index SET rowid = :wanted WHERE rowid = :rowid"),
                {"wanted": wanted, "rowid": rowid},
            )


def downgrade():
    # Any rowid will do for the older code.
    with op.batch_alter_table("federation_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_federation_changes_op_changed_at")

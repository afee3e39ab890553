"""An index on documents holding what a library search reads of each matching document
(``ix_documents_listed``): without it SQLite reads every matching row, each with its whole
body, a scattered page of a large table per match.

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


def upgrade():
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_documents_listed", ["id", "deleted_at", "type", "regie_id", "updated_at"]
        )


def downgrade():
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index("ix_documents_listed")

"""An index on resources.name: the catalogue is ordered by name, and its first page (no
search words) sorted every resource of the network to show fifty; with the index the
databases read the first fifty in order (14 000 resources: 19 ms → 1 ms on PostgreSQL).

Revision ID: c1f37626396b
Revises: ff9f2589b9a3
Create Date: 2026-11-30 17:28:57.245307

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "c1f37626396b"
down_revision = "ff9f2589b9a3"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("resources", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_resources_name"), ["name"], unique=False)


def downgrade():
    with op.batch_alter_table("resources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resources_name"))

"""Cross-instance bookings (docs/federation.md §9): the federation outbox, and on bookings
the idempotency key, the origin's booking id and version, and a cancellation asked of the
origin.

The no-overlap guard now covers only the bookings this instance decides: a booking of a
resource another instance owns is a mirror of the origin's (``remote_booking_id`` set), the
origin's database guards it, and mirrored statuses may arrive out of order.

Revision ID: ae3b6567dcb7
Revises: 63d505ba8f01
Create Date: 2026-11-30 18:44:16.019743

"""
import sqlalchemy as sa
from alembic import op

ACTIVE = "('requested', 'approved', 'picked_up')"


def _sqlite_check(mirrors_excluded: bool) -> str:
    own = " AND NEW.remote_booking_id IS NULL" if mirrors_excluded else ""
    other = " AND other.remote_booking_id IS NULL" if mirrors_excluded else ""
    return f"""
    WHEN NEW.status IN {ACTIVE}{own}
    BEGIN
        SELECT RAISE(ABORT, 'booking_overlap')
        WHERE EXISTS (
            SELECT 1 FROM bookings AS other
            WHERE other.resource_id = NEW.resource_id
              AND other.id != NEW.id
              AND other.status IN {ACTIVE}{other}
              AND other.starts_at < NEW.ends_at
              AND NEW.starts_at < other.ends_at
        );
    END
"""


def _drop_guard() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE bookings DROP CONSTRAINT IF EXISTS bookings_no_overlap")
    else:
        op.execute("DROP TRIGGER IF EXISTS bookings_no_overlap_insert")
        op.execute("DROP TRIGGER IF EXISTS bookings_no_overlap_update")


def _create_guard(mirrors_excluded: bool) -> None:
    if op.get_bind().dialect.name == "postgresql":
        mirrors = " AND remote_booking_id IS NULL" if mirrors_excluded else ""
        op.execute(
            "ALTER TABLE bookings ADD CONSTRAINT bookings_no_overlap EXCLUDE USING gist "
            "(resource_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
            f"WHERE (status IN {ACTIVE}{mirrors})"
        )
    else:
        check = _sqlite_check(mirrors_excluded)
        columns = "status, starts_at, ends_at, resource_id"
        if mirrors_excluded:
            columns += ", remote_booking_id"
        op.execute("CREATE TRIGGER bookings_no_overlap_insert BEFORE INSERT ON bookings" + check)
        op.execute(
            f"CREATE TRIGGER bookings_no_overlap_update BEFORE UPDATE OF {columns} ON bookings"
            + check
        )


# revision identifiers, used by Alembic.
revision = 'ae3b6567dcb7'
down_revision = '63d505ba8f01'
branch_labels = None
depends_on = None


def upgrade():
    _drop_guard()  # SQLite's batch mode rebuilds the table, which drops its triggers anyway
    op.create_table('federation_outbox',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('peer_id', sa.Uuid(), nullable=False),
    sa.Column('booking_id', sa.Uuid(), nullable=False),
    sa.Column('request_id', sa.Uuid(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_federation_outbox_booking_id_bookings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['peer_id'], ['federation_peers.id'], name=op.f('fk_federation_outbox_peer_id_federation_peers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_federation_outbox'))
    )
    with op.batch_alter_table('federation_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_federation_outbox_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_federation_outbox_next_attempt_at'), ['next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_federation_outbox_peer_id'), ['peer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_federation_outbox_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_federation_outbox_sent_at'), ['sent_at'], unique=False)

    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('remote_booking_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('remote_version', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('cancel_requested_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_bookings_request_id'), ['request_id'])

    _create_guard(mirrors_excluded=True)


def downgrade():
    _drop_guard()
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_bookings_request_id'), type_='unique')
        batch_op.drop_column('cancel_requested_at')
        batch_op.drop_column('remote_version')
        batch_op.drop_column('remote_booking_id')
        batch_op.drop_column('request_id')

    with op.batch_alter_table('federation_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_federation_outbox_sent_at'))
        batch_op.drop_index(batch_op.f('ix_federation_outbox_request_id'))
        batch_op.drop_index(batch_op.f('ix_federation_outbox_peer_id'))
        batch_op.drop_index(batch_op.f('ix_federation_outbox_next_attempt_at'))
        batch_op.drop_index(batch_op.f('ix_federation_outbox_booking_id'))

    op.drop_table('federation_outbox')
    _create_guard(mirrors_excluded=False)

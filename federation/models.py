"""Federation tables: this instance's identity, its peers, the nonce replay cache, and the
signature failures and peer key changes an administrator must see.

Keys are stored as the wire encoding (standard base64 of the raw 32 bytes), so that what an
administrator compares, what the instance document says and what the database holds are the
same strings. The private key is not here: see ``federation.keys``.
"""

import uuid
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from federation import keys
from sharing.db import Base, UTCDateTime, created_at, utcnow, uuid_pk


class Instance(Base):
    """This instance's identity. At most one row (``singleton`` is unique and always 1)."""

    __tablename__ = "federation_instance"
    __table_args__ = (CheckConstraint("singleton = 1", name="singleton"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)  # the instance_id
    singleton: Mapped[int] = mapped_column(Integer, default=1, unique=True)
    url: Mapped[str] = mapped_column(String(500))
    name: Mapped[str] = mapped_column(String(200))
    key_id: Mapped[str] = mapped_column(String(120))
    public_key: Mapped[str] = mapped_column(String(64))
    # The key replaced by the last rotation, kept for the record (and the status page).
    previous_key_id: Mapped[str | None] = mapped_column(String(120))
    previous_public_key: Mapped[str | None] = mapped_column(String(64))
    key_rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Changes when this instance's history is reset (restore, new database): peers then
    # resync fully. Used by the change feed.
    epoch: Mapped[uuid.UUID] = mapped_column(Uuid, default=uuid.uuid4)
    created_at: Mapped[created_at]

    @property
    def verifying_key(self) -> Ed25519PublicKey:
        return keys.decode_public_key(self.public_key)

    @property
    def fingerprint(self) -> str:
        return keys.fingerprint(self.verifying_key)

    def __repr__(self) -> str:
        return f"<Instance {self.id} {self.url}>"


class Peer(Base):
    """Another instance we paired with: its identity and the key we pinned.

    Removing a peer keeps its row (``removed_at``) so that its history and, later, its
    replicas stay explained; a removed peer's signatures are refused like unknown ones.
    """

    __tablename__ = "federation_peers"

    id: Mapped[uuid_pk]
    instance_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    url: Mapped[str] = mapped_column(String(500), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    key_id: Mapped[str] = mapped_column(String(120), index=True)
    public_key: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64))
    paired_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When an unknown key id last made us refetch its instance document: such refreshes are
    # rate-limited from it (FEDERATION_KEY_REFRESH_INTERVAL_SECONDS).
    key_refresh_attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Key rotation: the key replaced by the last refresh stays valid until
    # previous_key_valid_until, for requests signed just before the peer rotated.
    previous_key_id: Mapped[str | None] = mapped_column(String(120))
    previous_public_key: Mapped[str | None] = mapped_column(String(64))
    previous_key_valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Sync state and counters, kept by the pull job (federation.sync).
    epoch: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    cursor: Mapped[str | None] = mapped_column(String(100))
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    records_added: Mapped[int] = mapped_column(Integer, default=0)
    records_updated: Mapped[int] = mapped_column(Integer, default=0)
    records_deleted: Mapped[int] = mapped_column(Integer, default=0)
    records_quarantined: Mapped[int] = mapped_column(Integer, default=0)
    records_rejected: Mapped[int] = mapped_column(Integer, default=0)
    # The peer's head seq at our last pull, for the lag (head minus our cursor's seq).
    head_seq: Mapped[int | None] = mapped_column(BigInteger)
    # A full resync in progress (cursor expired, new epoch): what we hold of this origin and
    # the feed does not list is deleted at its end, unless that is a mass deletion.
    resyncing: Mapped[bool] = mapped_column(Boolean, default=False)

    @property
    def is_active(self) -> bool:
        return self.removed_at is None

    def __repr__(self) -> str:
        return f"<Peer {self.url}>"

    @property
    def cursor_seq(self) -> int:
        return int(self.cursor.rpartition(":")[2]) if self.cursor else 0

    @property
    def lag(self) -> int | None:
        return None if self.head_seq is None else max(self.head_seq - self.cursor_seq, 0)


class SeenNonce(Base):
    """The replay cache: a nonce is accepted once per key until the signature expires.

    A table rather than process memory, so that every gunicorn worker shares it; the unique
    constraint makes the check and the insert one atomic step.
    """

    __tablename__ = "federation_nonces"
    __table_args__ = (UniqueConstraint("key_id", "nonce", name="uq_federation_nonces_key_nonce"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key_id: Mapped[str] = mapped_column(String(120))
    nonce: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class SignatureFailure(Base):
    """A signed request we refused, for the administrator (who got it wrong, and why)."""

    __tablename__ = "federation_signature_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    peer_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("federation_peers.id", ondelete="SET NULL"), index=True
    )
    key_id: Mapped[str | None] = mapped_column(String(120))
    reason: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(String(500), default="")
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    # created minus our clock, in seconds, when the signature said when it was made.
    skew_seconds: Mapped[int | None] = mapped_column(Integer)

    peer: Mapped[Peer | None] = relationship()


class PeerKeyChange(Base):
    """A peer's key replaced by a refresh of its identity (rotation): the administrator is
    told, since a key change is also what an impersonation would look like."""

    __tablename__ = "federation_peer_key_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    peer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("federation_peers.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    old_key_id: Mapped[str] = mapped_column(String(120))
    old_fingerprint: Mapped[str] = mapped_column(String(64))
    new_key_id: Mapped[str] = mapped_column(String(120))
    new_fingerprint: Mapped[str] = mapped_column(String(64))
    # What made us refetch: "unknown_key" (a signature with a new key id) or "admin".
    trigger: Mapped[str] = mapped_column(String(40))

    peer: Mapped[Peer] = relationship()


# The change feed (docs/federation.md §7) --------------------------------------------------


class FeedCounter(Base):
    """The last sequence number handed out. Taking the next one updates this single row,
    which locks it until the writing transaction ends: numbers are handed out in commit
    order, so a reader that saw seq N never misses a change committed later (it gets more
    than N). See ``federation.feed``."""

    __tablename__ = "federation_feed_counter"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    # Every tombstone up to this seq has been purged: a cursor below it may have missed one.
    purged_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class Change(Base):
    """The latest change of one record this instance owns: the feed is compacted, one row per
    record, moved to a new seq each time the record changes."""

    __tablename__ = "federation_changes"
    # Purging reads the old tombstones only, however many old upserts the feed holds.
    __table_args__ = (Index("ix_federation_changes_op_changed_at", "op", "changed_at"),)

    record_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    record_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    op: Mapped[str] = mapped_column(String(10))  # "upsert" or "delete"
    version: Mapped[int] = mapped_column(Integer)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


# Replicas (docs/federation.md §8) ---------------------------------------------------------


class ReplicaTombstone(Base):
    """A replicated record its origin deleted, with the deleting version: an older upsert
    arriving late (reordered, replayed) cannot bring it back."""

    __tablename__ = "federation_replica_tombstones"

    record_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    record_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    origin_instance_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    version: Mapped[int] = mapped_column(Integer)
    deleted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QuarantinedRecord(Base):
    """A record a peer sent that failed validation: kept with its error for the
    administrator, without blocking the cursor or the rest of the page. Replaced when the
    same record arrives again (fixed or not)."""

    __tablename__ = "federation_quarantine"
    __table_args__ = (UniqueConstraint("peer_id", "record_type", "record_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    peer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("federation_peers.id", ondelete="CASCADE"), index=True
    )
    record_type: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(Text)
    data: Mapped[Any] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    peer: Mapped[Peer] = relationship()


class ResyncSeen(Base):
    """During a full resync of a peer, the records its feed listed so far; whatever of that
    origin is not here at the end was deleted there."""

    __tablename__ = "federation_resync_seen"

    peer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("federation_peers.id", ondelete="CASCADE"), primary_key=True
    )
    record_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    record_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)


# Cross-instance bookings (docs/federation.md §9) ------------------------------------------


class OutboxMessage(Base):
    """A booking message for a peer, written in the transaction that made it necessary and
    sent after it commits, until the peer answers (see ``federation.bookings``).

    ``kind``: ``request`` (ask the origin for a booking), ``cancel`` (ask it to cancel one),
    ``status`` (tell the borrower's instance what became of its request). A message is sent
    by the one job that claimed it (``claimed_by``, a conditional UPDATE); it is done when
    ``sent_at`` is set, given up when ``failed_at`` is (a permanent refusal, shown to the
    administrator with ``last_error``).
    """

    __tablename__ = "federation_outbox"

    id: Mapped[uuid_pk]
    kind: Mapped[str] = mapped_column(String(20))
    peer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("federation_peers.id", ondelete="CASCADE"), index=True
    )
    booking_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), index=True
    )
    request_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    payload: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[created_at]
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)

    peer: Mapped[Peer] = relationship()

"""The one place where SQLite and PostgreSQL differ for bookings.

The guarantee: two active bookings of one resource never overlap, whatever the concurrency,
and the database itself refuses it.

- PostgreSQL: an exclusion constraint ``bookings_no_overlap`` over ``resource_id`` and
  ``tstzrange(starts_at, ends_at, '[)')`` for active statuses (migration, with ``btree_gist``).
- SQLite: triggers ``bookings_no_overlap_insert/update`` raise ``booking_overlap``.

The application checks first, to answer 409 with the busy periods: ``lock_resource`` (or
``lock_resource_status``, the same lock) makes the check and the insert one atomic step
(``SELECT … FOR UPDATE`` on the resource row; on SQLite ``BEGIN IMMEDIATE``, which takes the
database's write lock before the check reads anything).
The constraint is the backstop if anything ever writes around the service.
"""

import uuid
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.exc import IntegrityError

from sharing.catalogue.models import Resource, ResourceStatus
from sharing.extensions import db


def lock_resource(resource_id: uuid.UUID) -> Resource | None:
    """Serialise every booking write for this resource until the transaction ends; the
    resource as it is now."""
    stmt = select(Resource).where(Resource.id == resource_id)
    if _rows_lock():
        stmt = stmt.with_for_update(of=Resource)
    return db.session.scalar(stmt.execution_options(populate_existing=True))


def lock_resource_status(resource_id: uuid.UUID) -> ResourceStatus | None:
    """The same lock as ``lock_resource``, reading only the resource's status (all that a new
    request needs to know again once it holds the lock)."""
    return db.session.scalar(_status(for_update=_rows_lock()), {"resource_id": resource_id})


def _rows_lock() -> bool:
    """On SQLite, take the database's write lock now and answer False; elsewhere answer True:
    the query that reads the resource locks its row."""
    connection = db.session.connection()
    if connection.dialect.name != "sqlite":
        return True
    dbapi = connection.connection.dbapi_connection
    if dbapi is not None and not dbapi.in_transaction:
        dbapi.execute("BEGIN IMMEDIATE")
    return False


@cache
def _status(for_update: bool) -> Select[Any]:
    # Built once: it runs on every booking request, under the lock.
    stmt = select(Resource.status).where(Resource.id == bindparam("resource_id"))
    return stmt.with_for_update(of=Resource) if for_update else stmt


def is_overlap_violation(error: IntegrityError) -> bool:
    """True when the database refused an overlapping booking."""
    text = str(error.orig)
    return "bookings_no_overlap" in text or "booking_overlap" in text

"""What the replica services of every domain share: the outcome of applying a record that
another instance owns, the refusal of a record its sender does not own, finding the replica
a record describes, and adding many new replicas at once."""

import enum
import uuid
from collections.abc import Mapping
from typing import Any, Protocol, TypeVar, cast

import psycopg
from sqlalchemy import Connection, Table, insert
from sqlalchemy.exc import DBAPIError

from sharing.db import Base, utcnow
from sharing.errors import Forbidden, Invalid
from sharing.extensions import db
from sharing.regies.models import Regie


class _OwnedByARegie(Protocol):
    regie: Regie
    version: int

    def __init__(self, **fields: Any) -> None: ...


R = TypeVar("R", bound=_OwnedByARegie)


class Applied(enum.StrEnum):
    ADDED = "added"
    UPDATED = "updated"
    UNCHANGED = "unchanged"  # the same or an older version: nothing to do
    DELETED = "deleted"


class NotTheOrigin(Forbidden):
    """The sender is not the instance that owns this record (docs/federation.md §2.3)."""

    code = "origin_mismatch"


def require_origin(current: uuid.UUID | None, origin: uuid.UUID, what: str) -> None:
    """A record may only be changed by the instance it came from; local ones never."""
    if current != origin:
        owner = "cette instance" if current is None else f"l'instance {current}"
        raise NotTheOrigin(f"{what} appartient à {owner}, pas à l'instance {origin}.")


def owning_regie(origin: uuid.UUID, data: dict[str, Any], regie: Regie | None, what: str) -> Regie:
    """The régie a resource or document record belongs to, which ``origin`` must host."""
    regie = regie if regie is not None else db.session.get(Regie, data["regie_id"])
    if regie is None:
        raise Invalid("Régie inconnue.", fields={"regie_id": ["Régie inconnue."]})
    require_origin(regie.origin_instance_id, origin, what)
    return regie


def held_or_new(
    model: type[R],
    origin: uuid.UUID,
    data: dict[str, Any],
    known: Mapping[uuid.UUID, R] | None,
    what: str,
) -> tuple[R, Applied]:
    """The replica ``data`` describes: the one held here (UNCHANGED when ``data`` is not
    newer, UPDATED otherwise), or a new one added to the session (ADDED)."""
    record = known.get(data["id"]) if known is not None else db.session.get(model, data["id"])
    if record is not None:
        require_origin(record.regie.origin_instance_id, origin, what)
        newer = data["version"] > record.version
        return record, Applied.UPDATED if newer else Applied.UNCHANGED
    record = model(id=data["id"], created_at=data.get("created_at") or utcnow())
    db.session.add(record)
    return record, Applied.ADDED


class NewReplicas:
    """Replicas new to this instance, kept as rows of their tables until ``write`` inserts
    them, one statement per table. For a writer of many records at once: a sync page adds
    hundreds, and building then flushing an ORM object for each took more of the page's time
    than anything else (docs/decisions.md, "Benchmarks").

    The rows bypass the session, so the change feed does not see them (``federation.feed``
    listens to flushes): right for replicas only, which this instance never publishes."""

    def __init__(self) -> None:
        self._records: set[uuid.UUID] = set()
        self._rows: dict[Table, list[dict[str, Any]]] = {}

    def __contains__(self, record_id: object) -> bool:
        """Whether the record ``record_id`` waits here."""
        return record_id in self._records

    def add(self, record_id: uuid.UUID, rows: Mapping[type[Base], list[dict[str, Any]]]) -> None:
        """Hold the rows of a new record, by model: its own row first, then its children's.
        A row names every column of its table: no default is applied."""
        self._records.add(record_id)
        for model, model_rows in rows.items():
            self._rows.setdefault(model.__table__, []).extend(model_rows)  # type: ignore[arg-type]

    def write(self) -> None:
        """Insert the rows: after the session's flush (the régies they belong to may be new
        objects there), a table after those it refers to (tables come in the order they were
        first given rows, and a record's own row comes before its children's)."""
        db.session.flush()
        connection = db.session.connection()
        for table, rows in self._rows.items():
            if not rows:
                continue
            if connection.dialect.name == "postgresql":
                _copy(connection, table, rows)
            else:
                connection.execute(insert(table), rows)
        self._records.clear()
        self._rows.clear()


def _copy(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` with PostgreSQL's COPY: half the time of an INSERT per row, and
    no wait on the server for each (a thread working beside this one, as the sync's
    read-ahead does, made each such wait last a switch interval). Values go through the
    columns' types as in an INSERT; an error is SQLAlchemy's, as an INSERT's would be."""
    dialect = connection.dialect
    columns = list(table.columns)
    convert = [column.type.dialect_impl(dialect).bind_processor(dialect) for column in columns]
    quote = dialect.identifier_preparer
    names = ", ".join(quote.format_column(column) for column in columns)
    statement = f"COPY {quote.format_table(table)} ({names}) FROM STDIN"
    raw = cast("psycopg.Connection[Any]", connection.connection.dbapi_connection)
    try:
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                values = (row[column.name] for column in columns)
                copy.write_row([f(v) if f else v for f, v in zip(convert, values, strict=True)])
    except psycopg.Error as error:
        raise DBAPIError.instance(statement, None, error, psycopg.Error) from None

"""Sequence numbers in commit order (docs/federation.md §7): a change that commits after a
reader saw seq N gets a seq greater than N, so a reader paging from its cursor never skips one.

Real concurrent transactions on separate connections (each thread has its own application
context, so its own session and connection):

* a transaction T1 changes a record, takes its seq and stays open; T2 changes another record
  and tries to commit; a reader reads; T1 commits; the reader, from its cursor, gets T1's
  change. With the counter row T2 waits for T1 (on PostgreSQL we see it wait on the lock).
* the power of that test: the same scenario with numbers from a database sequence (taken
  outside the writer's transaction, as ``nextval`` is) skips T1's change for ever. On
  PostgreSQL the real feed is run with its counter replaced by a sequence; on both databases
  a scratch table fed by a sequence shows the skip.
* a stress run: writer threads with random pauses while they hold their seq, and a reader that
  pages continuously; the union of what the reader saw holds every record's final version.

On SQLite writers are serialised by the database lock anyway (T2 waits on it); the tests run
and check the same guarantees there.
"""

import os
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session

from federation import feed, services
from federation.models import Change, Instance
from sharing.extensions import db
from sharing.regies import services as regies
from sharing.regies.models import Regie
from tests.factories import Factories

POSTGRES = os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")
HOLD = "test_hold_after_seq"  # session.info key: called in before_commit after the feed's
LIVENESS_SECONDS = 30  # a guard against a hung test, never a timed assertion


@pytest.fixture(autouse=True)
def _hold_hook() -> Iterator[None]:
    """Lets a test pause a transaction after the feed took its seq and before it commits
    (registered after ``feed.install``, so it runs after ``feed._write_changes``)."""

    def hold(session: Session) -> None:
        pause = session.info.get(HOLD)
        if pause is not None:
            pause()

    event.listen(Session, "before_commit", hold)
    yield
    event.remove(Session, "before_commit", hold)


def read(app: Flask, cursor: str | None, limit: int = 100) -> tuple[list[dict[str, Any]], str]:
    """Every change after ``cursor`` (as many pages as needed), and the cursor after them."""
    seen: list[dict[str, Any]] = []
    with app.app_context():
        identity = services.require_identity()
        while True:
            page = feed.read_page(identity, cursor, limit)
            db.session.rollback()  # each page in its own transaction, as requests are
            seen += page.changes
            cursor = page.next
            if not page.has_more:
                return seen, cursor


def change_city(
    app: Flask, regie_id: uuid.UUID, city: str, pause: Callable[[], None] | None = None
) -> None:
    with app.app_context():
        try:
            regie = db.session.get(Regie, regie_id, with_for_update=True)
            assert regie is not None
            regie.city = city
            regie.version = Regie.version + 1  # in SQL: no lost update between writers
            if pause is not None:
                db.session.info[HOLD] = pause
            db.session.commit()
        finally:
            db.session.info.pop(HOLD, None)
            db.session.remove()


class Writer(threading.Thread):
    def __init__(self, work: Callable[[], None]):
        super().__init__(daemon=True)
        self.work = work
        self.error: BaseException | None = None
        self.done = threading.Event()

    def run(self) -> None:
        try:
            self.work()
        except BaseException as error:  # reported by the test
            self.error = error
        finally:
            self.done.set()

    def finish(self) -> None:
        self.join(LIVENESS_SECONDS)
        assert not self.is_alive(), "a writer hung"
        if self.error is not None:
            raise self.error


def wait_for_a_lock_wait(app: Flask) -> None:
    """PostgreSQL: until a session of this database waits on a lock (T2 on the counter)."""
    deadline = time.monotonic() + LIVENESS_SECONDS
    with app.app_context():
        while True:
            waiting = db.session.scalar(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
            db.session.rollback()
            if waiting:
                return
            assert time.monotonic() < deadline, "the second writer never waited for the first"
            time.sleep(0.01)


def t1_holds_while_t2_commits(app: Flask, make: Factories, *, t2_may_commit: bool) -> dict:
    """The scenario: T1 changes A and holds its seq; T2 changes B; a reader reads; T1
    commits; the reader reads from its cursor. What the reader saw, before and after."""
    a, b = make.regie(name="A"), make.regie(name="B")
    _, cursor = read(app, None)
    holding, release = threading.Event(), threading.Event()

    def pause() -> None:
        holding.set()
        release.wait(LIVENESS_SECONDS)

    t1 = Writer(lambda: change_city(app, a.id, "Lyon", pause))
    t1.start()
    assert holding.wait(LIVENESS_SECONDS), "T1 never reached its commit"
    t2 = Writer(lambda: change_city(app, b.id, "Bron"))
    t2.start()
    if t2_may_commit:
        t2.finish()  # nothing stops it: it commits while T1 holds a lower number
    elif POSTGRES:
        wait_for_a_lock_wait(app)  # T2 is blocked on the counter row T1 locked
    else:
        time.sleep(0.2)  # SQLite: let T2 reach the database lock (it cannot pass it)
    before, cursor_between = read(app, cursor)
    t2_committed_before_t1 = t2.done.is_set()
    release.set()
    t1.finish()
    t2.finish()
    after, _ = read(app, cursor_between)
    with app.app_context():
        a_seq = db.session.scalar(sa.select(Change.seq).where(Change.record_id == a.id))
    return {
        "a": str(a.id),
        "b": str(b.id),
        "a_seq": a_seq,
        "before": before,
        "cursor_between": int(cursor_between.rpartition(":")[2]),
        "after": after,
        "t2_committed_before_t1": t2_committed_before_t1,
    }


def test_a_writer_holding_its_seq_makes_the_next_one_wait_and_nothing_is_skipped(
    app: Flask, make: Factories, identity: Instance
) -> None:
    seen = t1_holds_while_t2_commits(app, make, t2_may_commit=False)

    assert seen["before"] == []  # T1 not committed, T2 waiting behind it
    assert not seen["t2_committed_before_t1"]
    after = {(c["id"], c["version"], c["data"]["city"]) for c in seen["after"]}
    assert after == {(seen["a"], 2, "Lyon"), (seen["b"], 2, "Bron")}
    assert seen["a_seq"] > seen["cursor_between"]


@pytest.fixture
def sequence_numbers(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The naive feed: ``feed._take_numbers`` replaced by a database sequence, whose numbers
    are handed out at once, outside the writer's transaction, and never wait for a commit."""
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE SEQUENCE naive_feed_seq START 1000"))

    def take(session: Session, count: int) -> int:
        with engine.begin() as conn:
            numbers = [
                conn.execute(sa.text("SELECT nextval('naive_feed_seq')")).scalar_one()
                for _ in range(count)
            ]
        assert numbers == list(range(numbers[0], numbers[0] + count))
        return int(numbers[-1])

    monkeypatch.setattr(feed, "_take_numbers", take)
    yield
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SEQUENCE naive_feed_seq"))
    engine.dispose()


if POSTGRES:  # SQLite has no sequences (and serialises writers): see the scratch table below

    def test_the_same_scenario_with_a_database_sequence_skips_a_change(
        app: Flask, make: Factories, identity: Instance, sequence_numbers: None
    ) -> None:
        """The power of the test above: with numbers from a sequence T2 does not wait, the
        reader sees B's higher seq, and A's change, committed later with a lower seq, is
        behind the reader's cursor for ever."""
        seen = t1_holds_while_t2_commits(app, make, t2_may_commit=True)

        assert [c["id"] for c in seen["before"]] == [seen["b"]]
        assert seen["a_seq"] < seen["cursor_between"]  # committed below the cursor
        assert seen["a"] not in {c["id"] for c in seen["after"]}  # skipped


# A scratch table fed like a naive outbox: the same skip on both databases --------------


@pytest.fixture
def scratch(app: Flask) -> Iterator[sa.Engine]:
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE naive_changes (seq INTEGER PRIMARY KEY, rec TEXT)"))
        conn.execute(sa.text("CREATE TABLE naive_counter (n INTEGER)"))
        conn.execute(sa.text("INSERT INTO naive_counter VALUES (0)"))
    yield engine
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE naive_changes"))
        conn.execute(sa.text("DROP TABLE naive_counter"))
    engine.dispose()


def next_number(engine: sa.Engine) -> int:
    """A sequence: a number handed out in its own short transaction (like nextval)."""
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE naive_counter SET n = n + 1"))
        return int(conn.execute(sa.text("SELECT n FROM naive_counter")).scalar_one())


def read_scratch(engine: sa.Engine, after: int) -> list[tuple[int, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT seq, rec FROM naive_changes WHERE seq > :after ORDER BY seq"),
            {"after": after},
        )
        return [(int(seq), str(rec)) for seq, rec in rows]


def test_a_naive_sequence_skips_a_change_committed_late(scratch: sa.Engine) -> None:
    """T1 takes number 1 and commits late; T2 takes 2 and commits at once; the reader who
    read 2 never sees 1. (On PostgreSQL T1 even holds its inserted row open; on SQLite it
    cannot, since writers are serialised, so it writes after T2: the numbering is the same.)"""
    t1 = scratch.connect()
    t1_number = next_number(scratch)
    t1_tx = t1.begin()
    if POSTGRES:
        t1.execute(sa.text("INSERT INTO naive_changes VALUES (:n, 'A')"), {"n": t1_number})
    with scratch.begin() as t2:
        t2.execute(
            sa.text("INSERT INTO naive_changes VALUES (:n, 'B')"), {"n": next_number(scratch)}
        )
    seen = read_scratch(scratch, 0)
    cursor = seen[-1][0]
    if not POSTGRES:
        t1.execute(sa.text("INSERT INTO naive_changes VALUES (:n, 'A')"), {"n": t1_number})
    t1_tx.commit()
    t1.close()
    seen += read_scratch(scratch, cursor)

    assert [rec for _, rec in seen] == ["B"]  # A was skipped
    assert read_scratch(scratch, 0) == [(1, "A"), (2, "B")]  # though it is there


# Stress: many writers, one reader paging all the time ------------------------------------

WRITERS = 4
TRANSACTIONS = 12


def test_a_reader_paging_during_concurrent_writes_misses_no_final_version(
    app: Flask, make: Factories, identity: Instance
) -> None:
    regie_ids = [make.regie(name=f"Régie {n}").id for n in range(6)]
    stop = threading.Event()
    seen: set[tuple[str, int, str]] = set()
    pages = [0]
    rng = random.Random(20261130)

    def pause() -> None:  # holding the seq (the counter row, or SQLite's lock)
        time.sleep(rng.random() * 0.005)

    def write(writer: int) -> None:
        for number in range(TRANSACTIONS):
            with app.app_context():
                try:
                    if number % 5 == 4:
                        regies.create_regie(
                            None,
                            {
                                "name": f"Nouvelle {writer}-{number}",
                                "slug": f"nouvelle-{writer}-{number}",
                                "city": f"w{writer}-{number}",
                                "postcode": "69000",
                                "timezone": "Europe/Paris",
                            },
                        )
                    else:
                        for regie_id in sorted(rng.sample(regie_ids, rng.randint(1, 2))):
                            regie = db.session.get(Regie, regie_id, with_for_update=True)
                            assert regie is not None
                            regie.city = f"w{writer}-{number}"
                            regie.version = Regie.version + 1
                    time.sleep(rng.random() * 0.003)
                    db.session.info[HOLD] = pause
                    db.session.commit()
                finally:
                    db.session.info.pop(HOLD, None)
                    db.session.remove()

    def page_continuously() -> None:
        cursor: str | None = None
        last_seq = 0
        with app.app_context():
            identity = services.require_identity()
            while True:
                finished = stop.is_set()  # read once more after the writers stopped
                while True:
                    page = feed.read_page(identity, cursor, 3)
                    db.session.rollback()
                    pages[0] += 1
                    for change in page.changes:
                        assert change["seq"] > last_seq  # the cursor only moves forward
                        last_seq = change["seq"]
                        seen.add((change["id"], change["version"], change["data"]["city"]))
                    cursor = page.next
                    if not page.has_more:
                        break
                if finished:
                    return

    reader = Writer(page_continuously)
    reader.start()
    writers = [Writer(lambda w=w: write(w)) for w in range(WRITERS)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.finish()
    stop.set()
    reader.finish()

    with app.app_context():
        final = {
            (str(regie.id), regie.version, regie.city)
            for regie in db.session.scalars(sa.select(Regie))
        }
    assert len(final) == 6 + WRITERS * (TRANSACTIONS // 5)
    assert final <= seen, f"missed: {sorted(final - seen)}"
    print(f"commit order stress: {len(seen)} versions seen in {pages[0]} pages")

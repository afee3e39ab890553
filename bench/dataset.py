"""A network-scale dataset for the benchmarks, written fast.

``generate(url, scale)`` migrates an empty database and fills it: 140 régies of 100 resources
each (14 000, named and described from the demo equipment list), 3 000 library documents of
about 2 KB of French text, 50 000 past bookings (returned or cancelled, never overlapping on a
resource) with their history, two accounts per régie with an API token each, and the
federation change feed that publishes the régies, resources and documents (as if they had been
written through the application); ``Scale.times(10)`` is the growth variant (1 400 régies,
140 000 resources, 30 000 documents, 500 000 bookings).

Rows go in with ``insert(Model)`` and a list of parameter sets (the ORM's bulk INSERT, one
executemany), one transaction per batch, never one ORM object at a time. The search index is
then rebuilt by ``sharing.search.reindex``, the code behind ``flask search reindex``, so that
it holds exactly what the application itself writes. Every choice comes from a
``random.Random`` seeded with ``seed``: the same scale gives the same text and the same ids.

    python -m bench.dataset sqlite:///bench/.data/network.sqlite
    python -m bench.dataset postgresql+psycopg://postgres@127.0.0.1:5432/test --scale 10

For PostgreSQL the URL names an existing database next to which a fresh one is created (as
tests/conftest.py does); its URL is printed with the manifest.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import random
import re
import secrets
import sys
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade
from werkzeug.security import generate_password_hash

from bench import corpus
from federation.models import Change, FeedCounter
from sharing import create_app, search
from sharing.accounts.models import ApiToken, Role, User, hash_token
from sharing.catalogue.models import CATEGORIES, Condition, Resource, ResourceStatus
from sharing.db import UTCDateTime
from sharing.demo_data import EQUIPMENT, REGIES, DemoItem
from sharing.extensions import db
from sharing.library.models import (
    DEFAULT_LICENCE,
    LICENCES,
    THEMES,
    Document,
    DocumentTag,
    DocumentTheme,
    DocumentType,
    DocumentVersion,
)
from sharing.loans.models import Booking, BookingEvent, BookingStatus
from sharing.regies.models import Regie
from sharing.search import searchable

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = str(ROOT / "migrations")
DOMAIN = "bench.regies.example"
PASSWORD = "bench-2026"
BATCH = 5_000

# The table the bare single-INSERT route writes to: a booking's shape, none of its rules.
bench_metadata = sa.MetaData()
bench_writes = sa.Table(
    "bench_writes",
    bench_metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("resource_id", sa.Uuid, nullable=False),
    sa.Column("starts_at", UTCDateTime, nullable=False),
    sa.Column("ends_at", UTCDateTime, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)


@dataclass(frozen=True)
class Scale:
    regies: int = 140
    resources_per_regie: int = 100
    documents: int = 3_000
    bookings: int = 50_000

    def times(self, factor: float) -> Scale:
        """The network ``factor`` times larger (more régies of the same size)."""
        return Scale(
            regies=max(2, round(self.regies * factor)),
            resources_per_regie=self.resources_per_regie,
            documents=max(1, round(self.documents * factor)),
            bookings=round(self.bookings * factor),
        )

    @property
    def resources(self) -> int:
        return self.regies * self.resources_per_regie


@dataclass
class Manifest:
    """What the load clients need to know about a generated database."""

    url: str
    scale: dict[str, int]
    seed: int
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    # Bearer tokens of members of the first régies, for the load clients.
    tokens: list[str] = field(default_factory=list)
    # Available resources that anyone may book from two days on, for the booking figure.
    hot_resources: list[str] = field(default_factory=list)
    # A resource whose page the page figure loads (it has bookings in its history).
    page_resource: str = ""
    search_queries: list[str] = field(default_factory=list)
    catalogue_queries: list[list[str]] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2)


# --- Databases --------------------------------------------------------------------------------


def fresh_database(target: str, name: str) -> str:
    """A new empty database: a file ``name``.sqlite in the directory of a ``sqlite:///`` URL
    (the URL's own file when it names one ending in .sqlite), or on PostgreSQL a new database
    ``name`` next to the one the URL names."""
    url = sa.make_url(target)
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "").resolve()
        if path.suffix != ".sqlite":
            path = path / f"{name}.sqlite"
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def drop_database(target: str) -> None:
    """Remove a database made by ``fresh_database``."""
    url = sa.make_url(target)
    if url.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{url.database}{suffix}").unlink(missing_ok=True)
        return
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    admin.dispose()


def bench_app(url: str) -> Flask:
    """The real application on ``url``, as the benchmark servers configure it (a relative
    SQLite path is taken from the current directory, not from the instance folder)."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        url = f"sqlite:///{Path(parsed.database).resolve()}"
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-secret",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "INSTANCE_URL": "http://127.0.0.1",
        }
    )


# --- Generation -------------------------------------------------------------------------------


def generate(
    url: str, scale: Scale, seed: int = 2026, log: Callable[[str], None] = print
) -> Manifest:
    """Migrate the empty database at ``url`` and fill it; returns the manifest."""
    app = bench_app(url)
    manifest = Manifest(url=url, scale=asdict(scale), seed=seed)
    with app.app_context():
        started = time.perf_counter()
        upgrade(directory=MIGRATIONS)
        bench_metadata.create_all(db.engine)
        manifest.seconds["migrate"] = time.perf_counter() - started
        _Generator(scale, seed, manifest, log).run()
        db.session.remove()
        db.engine.dispose()
    return manifest


class _Generator:
    def __init__(self, scale: Scale, seed: int, manifest: Manifest, log: Callable[[str], None]):
        self.scale, self.manifest, self.log = scale, manifest, log
        self.rng = random.Random(seed)
        # Whole seconds: the same instant on both engines, in every row.
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.regies: list[dict[str, Any]] = []
        self.managers: list[uuid.UUID] = []
        self.members: list[uuid.UUID] = []
        self.resources: list[dict[str, Any]] = []

    def _uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def _ago(self, low_days: float, high_days: float) -> datetime:
        return self.now - timedelta(seconds=round(self.rng.uniform(low_days, high_days) * 86400))

    def run(self) -> None:
        self._stage("regies", self._insert_regies)
        self._stage("users", self._insert_users)
        self._stage("resources", self._insert_resources)
        self._stage("bookings", self._insert_bookings)
        self._stage("documents", self._insert_documents)
        self._stage("federation_feed", self._publish_feed)
        self._stage("search_index", self._reindex)
        self._stage("analyze", self._analyze)
        self.manifest.search_queries = list(corpus.SEARCH_QUERIES)
        self.manifest.catalogue_queries = [list(q) for q in corpus.CATALOGUE_QUERIES]

    def _stage(self, name: str, work: Callable[[], int]) -> None:
        started = time.perf_counter()
        count = work()
        seconds = time.perf_counter() - started
        self.manifest.seconds[name] = round(seconds, 3)
        if count:
            self.manifest.counts[name] = count
            self.log(f"  {name}: {count} rows in {seconds:.1f} s ({count / seconds:,.0f}/s)")
        else:
            self.log(f"  {name}: {seconds:.1f} s")

    # Régies and accounts ----------------------------------------------------------------------

    def _insert_regies(self) -> int:
        names = [(spec.name, spec.city, spec.postcode, spec.timezone) for spec in REGIES]
        for (town, postcode, zone), quarter in itertools.product(
            corpus.TOWNS, corpus.NEIGHBOURHOODS
        ):
            names.append((f"Régie de Quartier {town} {quarter}", town, postcode, zone))
        seen = {spec.name for spec in REGIES}
        rest = [n for n in names[len(REGIES) :] if n[0] not in seen]
        self.rng.shuffle(rest)
        chosen = (names[: len(REGIES)] + rest)[: self.scale.regies]
        if len(chosen) < self.scale.regies:
            raise ValueError(f"at most {len(names)} régies can be named")
        for name, city, postcode, zone in chosen:
            slug = _slugify(name.removeprefix("Régie de Quartier ").removeprefix("Régie de "))
            created = self._ago(400, 1500)
            self.regies.append(
                {
                    "id": self._uuid(),
                    "name": name,
                    "slug": slug,
                    "city": city,
                    "postcode": postcode,
                    "timezone": zone,
                    "contact_email": f"contact@{slug}.{DOMAIN}",
                    "contact_phone": f"09 77 {self.rng.randrange(10, 99)} "
                    f"{self.rng.randrange(10, 99)} {self.rng.randrange(10, 99)}",
                    "calendar_token": secrets.token_urlsafe(24),
                    "search_text": searchable(name, city, slug, postcode),
                    "origin_instance_id": None,
                    "version": 1,
                    "created_at": created,
                    "updated_at": created,
                }
            )
        _bulk(Regie, self.regies)
        return len(self.regies)

    def _insert_users(self) -> int:
        password_hash = generate_password_hash(PASSWORD, "pbkdf2:sha256:1000")
        users, tokens = [], []
        for index, regie in enumerate(self.regies):
            people = [(f"responsable@{regie['slug']}.{DOMAIN}", Role.MANAGER)]
            people.append((f"equipe@{regie['slug']}.{DOMAIN}", Role.MEMBER))
            if index == 0:
                people.append((f"admin@{DOMAIN}", Role.ADMIN))
            for email, role in people:
                user_id = self._uuid()
                name = f"{self.rng.choice(corpus.FIRST_NAMES)} {self.rng.choice(corpus.LAST_NAMES)}"
                users.append(
                    {
                        "id": user_id,
                        "email": email,
                        "name": name,
                        "password_hash": password_hash,
                        "role": role,
                        "regie_id": regie["id"],
                        "is_enabled": True,
                        "created_at": regie["created_at"],
                    }
                )
                secret = token_for(email)
                tokens.append(
                    {
                        "id": self._uuid(),
                        "user_id": user_id,
                        "label": "bench",
                        "token_hash": hash_token(secret),
                        "created_at": self.now,
                        "revoked_at": None,
                    }
                )
                if role is Role.MANAGER:
                    self.managers.append(user_id)
                elif role is Role.MEMBER:
                    self.members.append(user_id)
                    if len(self.manifest.tokens) < 64:
                        self.manifest.tokens.append(secret)
        _bulk(User, users)
        _bulk(ApiToken, tokens)
        return len(users) + len(tokens)

    # Resources --------------------------------------------------------------------------------

    def _insert_resources(self) -> int:
        by_category: dict[str, list[DemoItem]] = {}
        for item in EQUIPMENT:
            by_category.setdefault(item.category, []).append(item)
        categories = list(CATEGORIES)
        batch: list[dict[str, Any]] = []
        total = 0
        for regie in self.regies:
            focus = self.rng.sample([c for c in categories if c in by_category], 4)
            names: dict[str, int] = {}
            for _ in range(self.scale.resources_per_regie):
                if self.rng.random() < 0.7:
                    item = self.rng.choice(by_category[self.rng.choice(focus)])
                else:
                    item = self.rng.choice(EQUIPMENT)
                names[item.name] = names.get(item.name, 0) + 1
                name = item.name if names[item.name] == 1 else f"{item.name} n° {names[item.name]}"
                row = self._resource(regie, item, name)
                self.resources.append(
                    {
                        "id": row["id"],
                        "regie_index": len(self.resources) // self.scale.resources_per_regie,
                        "status": row["status"],
                        "max_loan_days": item.max_loan_days,
                        "min_notice_hours": item.min_notice_hours,
                    }
                )
                batch.append(row)
                if len(batch) >= BATCH:
                    total += _bulk(Resource, batch)
                    batch = []
        total += _bulk(Resource, batch)
        hot = [
            r
            for r in self.resources
            if r["status"] is ResourceStatus.AVAILABLE
            and r["min_notice_hours"] <= 48
            and r["max_loan_days"] >= 3
        ]
        # Resources of the last régies: the token holders (the first ones) borrow them.
        self.manifest.hot_resources = [str(r["id"]) for r in hot[-20:]]
        return total

    def _resource(self, regie: dict[str, Any], item: DemoItem, name: str) -> dict[str, Any]:
        rng = self.rng
        condition = rng.choices(list(Condition), weights=[15, 55, 27, 3])[0]
        draw = rng.random()
        if condition is Condition.DAMAGED or draw < 0.02:
            status = ResourceStatus.MAINTENANCE
        elif draw < 0.03:
            status = ResourceStatus.RETIRED
        else:
            status = ResourceStatus.AVAILABLE
        factor = Decimal(rng.choice(["0.9", "1", "1", "1.1"]))
        value = int((item.replacement_value * factor / 10).to_integral_value()) * 10
        note = rng.choice(corpus.RESOURCE_NOTES)
        created = self._ago(30, 1000)
        return {
            "id": self._uuid(),
            "regie_id": regie["id"],
            "name": name,
            "description": f"{item.description} {note}",
            "category": item.category,
            "condition": condition,
            "location": rng.choice(corpus.PLACES),
            "status": status,
            "deposit_eur": Decimal(item.deposit),
            "replacement_value_eur": Decimal(value),
            "max_loan_days": item.max_loan_days,
            "min_notice_hours": item.min_notice_hours,
            "requirements": item.requirements,
            "version": 1,
            "created_at": created,
            "updated_at": created,
        }

    # Bookings ---------------------------------------------------------------------------------

    def _insert_bookings(self) -> int:
        """Past loans, returned or cancelled, laid back to back into the past on each resource
        (popular resources have many), with their history."""
        rng = self.rng
        hot = set(self.manifest.hot_resources)
        weights = [rng.paretovariate(1.5) for _ in self.resources]
        picks = rng.choices(range(len(self.resources)), weights=weights, k=self.scale.bookings)
        per_resource: dict[int, int] = {}
        for index in picks:
            per_resource[index] = per_resource.get(index, 0) + 1
        bookings: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        total = 0
        page_resource = max(per_resource, key=lambda i: (per_resource[i], -i))
        self.manifest.page_resource = str(self.resources[page_resource]["id"])
        for index, count in sorted(per_resource.items()):
            resource = self.resources[index]
            if str(resource["id"]) in hot:
                continue  # the booking figure starts them empty
            cursor = self.now - timedelta(days=rng.uniform(1, 5))
            lender = resource["regie_index"]
            for _ in range(count):
                ends_at = (cursor - timedelta(days=rng.uniform(0.5, 20))).replace(
                    minute=0, second=0
                )
                days = rng.randint(1, max(1, min(7, resource["max_loan_days"])))
                starts_at = ends_at - timedelta(days=days, hours=rng.choice([0, 2, 4]))
                cursor = starts_at
                borrower = rng.randrange(len(self.regies) - 1)
                borrower += borrower >= lender  # another régie
                self._booking(bookings, events, resource, lender, borrower, starts_at, ends_at)
            if len(bookings) >= BATCH:
                total += self._flush_bookings(bookings, events)
        total += self._flush_bookings(bookings, events)
        return total

    def _booking(
        self,
        bookings: list[dict[str, Any]],
        events: list[dict[str, Any]],
        resource: dict[str, Any],
        lender: int,
        borrower: int,
        starts_at: datetime,
        ends_at: datetime,
    ) -> None:
        rng = self.rng
        booking_id = self._uuid()
        requested_at = starts_at - timedelta(hours=rng.randint(48, 24 * 30))
        requester = self.members[borrower]
        manager, staff = self.managers[lender], self.members[lender]
        cancelled = rng.random() < 0.15
        steps = [(None, BookingStatus.REQUESTED, requester, requested_at)]
        approved_at = requested_at + timedelta(hours=rng.randint(1, 40))
        steps.append((BookingStatus.REQUESTED, BookingStatus.APPROVED, manager, approved_at))
        picked_up = returned = None
        if cancelled:
            at = approved_at + (starts_at - approved_at) / 2
            steps.append((BookingStatus.APPROVED, BookingStatus.CANCELLED, requester, at))
            status = BookingStatus.CANCELLED
        else:
            picked_up, returned = starts_at, ends_at - timedelta(hours=rng.randint(0, 3))
            steps.append((BookingStatus.APPROVED, BookingStatus.PICKED_UP, staff, picked_up))
            steps.append((BookingStatus.PICKED_UP, BookingStatus.RETURNED, staff, returned))
            status = BookingStatus.RETURNED
        condition = rng.choices([Condition.GOOD, Condition.WORN], weights=[80, 20])[0]
        bookings.append(
            {
                "id": booking_id,
                "resource_id": resource["id"],
                "borrower_regie_id": self.regies[borrower]["id"],
                "lender_regie_id": self.regies[lender]["id"],
                "requested_by_id": requester,
                "starts_at": starts_at,
                "ends_at": ends_at,
                "status": status,
                "expires_at": None,
                "note": "",
                "pickup_condition": None if cancelled else condition,
                "pickup_notes": None if cancelled else "",
                "picked_up_at": picked_up,
                "return_condition": None if cancelled else condition,
                "return_notes": None if cancelled else "",
                "returned_at": returned,
                "sequence": len(steps) - 1,
                "created_at": requested_at,
                "updated_at": steps[-1][3],
            }
        )
        for from_status, to_status, by, at in steps:
            events.append(
                {
                    "id": self._uuid(),
                    "booking_id": booking_id,
                    "at": at,
                    "by_id": by,
                    "from_status": from_status,
                    "to_status": to_status,
                    "note": "",
                }
            )

    def _flush_bookings(self, bookings: list[dict[str, Any]], events: list[dict[str, Any]]) -> int:
        count = len(bookings)
        with _transaction():
            _insert(Booking, bookings)
            _insert(BookingEvent, events)
        bookings.clear()
        events.clear()
        return count

    # Documents --------------------------------------------------------------------------------

    def _insert_documents(self) -> int:
        total = 0
        rows: list[dict[str, Any]] = []
        themes: list[dict[str, Any]] = []
        tags: list[dict[str, Any]] = []
        versions: list[dict[str, Any]] = []
        licences = list(LICENCES)
        for _ in range(self.scale.documents):
            rng = self.rng
            author = rng.randrange(len(self.regies))
            doc_themes = rng.sample(list(THEMES), rng.choice([1, 1, 2, 2, 3]))
            doc_type = rng.choice(list(DocumentType))
            tag_pool = sorted({t for theme in doc_themes for t in corpus.THEME_TAGS[theme]})
            doc_tags = sorted(rng.sample(tag_pool, min(len(tag_pool), rng.randint(1, 4))))
            title = self._title(doc_themes[0], doc_type)
            summary = " ".join(self._sentence(doc_themes) for _ in range(2))
            body = self._body(doc_themes)
            licence = DEFAULT_LICENCE if rng.random() < 0.7 else rng.choice(licences)
            created = self._ago(1, 1000)
            document_id = self._uuid()
            rows.append(
                {
                    "id": document_id,
                    "regie_id": self.regies[author]["id"],
                    "title": title,
                    "summary": summary,
                    "body": body,
                    "type": doc_type,
                    "licence": licence,
                    "version": 1,
                    "created_at": created,
                    "updated_at": created,
                    "deleted_at": None,
                }
            )
            themes.extend({"document_id": document_id, "theme": t} for t in doc_themes)
            tags.extend({"document_id": document_id, "tag": t} for t in doc_tags)
            versions.append(
                {
                    "id": self._uuid(),
                    "document_id": document_id,
                    "number": 1,
                    "title": title,
                    "summary": summary,
                    "body": body,
                    "themes": doc_themes,
                    "tags": doc_tags,
                    "type": doc_type,
                    "licence": licence,
                    "author_id": self.managers[author],
                    "created_at": created,
                }
            )
            if len(rows) >= 1_000:
                total += self._flush_documents(rows, themes, tags, versions)
        total += self._flush_documents(rows, themes, tags, versions)
        return total

    def _flush_documents(self, *tables: list[dict[str, Any]]) -> int:
        count = len(tables[0])
        with _transaction():
            for model, rows in zip(
                (Document, DocumentTheme, DocumentTag, DocumentVersion), tables, strict=True
            ):
                _insert(model, rows)
        for rows in tables:
            rows.clear()
        return count

    def _title(self, theme: str, doc_type: DocumentType) -> str:
        topic = self.rng.choice(corpus.THEME_OBJECTS[theme])
        title = corpus.TITLE_PREFIXES[doc_type.value] + topic + self.rng.choice(corpus.TITLE_ANGLES)
        return title[:200]

    def _sentence(self, themes: list[str]) -> str:
        rng = self.rng
        if rng.random() < 0.8:
            obj = rng.choice(corpus.THEME_OBJECTS[rng.choice(themes)])
        else:
            obj = rng.choice(corpus.GENERIC_OBJECTS)
        opener = rng.choice(corpus.OPENERS)
        subject = rng.choice(corpus.SUBJECTS)
        text = (
            f"{opener}{subject} {rng.choice(corpus.VERBS)} {obj} {rng.choice(corpus.COMPLEMENTS)}."
        )
        return text[0].upper() + text[1:]

    def _body(self, themes: list[str]) -> str:
        rng = self.rng
        target = rng.randint(1_700, 2_300)
        headings = rng.sample(corpus.HEADINGS, len(corpus.HEADINGS))
        parts: list[str] = []
        size = 0
        for heading in itertools.cycle(headings):
            if size >= target:
                break
            sentences = [self._sentence(themes) for _ in range(rng.randint(2, 4))]
            if rng.random() < 0.4:
                sentences.append(rng.choice(corpus.EXTRAS))
            section = f"## {heading}\n\n{' '.join(sentences)}"
            if rng.random() < 0.3:
                items = (self._sentence(themes) for _ in range(3))
                section += "\n\n" + "\n".join(f"- {item}" for item in items)
            parts.append(section)
            size += len(section) + 2
        return "\n\n".join(parts) + "\n"

    # The federation change feed ----------------------------------------------------------------

    def _publish_feed(self) -> int:
        """One change per local record in ``federation_changes`` (régies, then resources, then
        documents, seqs from 1) and the counter row, as migration 63d505ba8f01 publishes the
        records that existed before it: the rows above bypassed the ORM, so the session
        listener that feeds the change feed (federation/feed.py) never saw them."""
        sources = {
            "regie": sa.select(Regie.id, Regie.version)
            .where(Regie.origin_instance_id.is_(None))
            .order_by(Regie.id),
            "resource": sa.select(Resource.id, Resource.version)
            .join(Regie, Regie.id == Resource.regie_id)
            .where(Regie.origin_instance_id.is_(None))
            .order_by(Resource.id),
            "document": sa.select(Document.id, Document.version)
            .join(Regie, Regie.id == Document.regie_id)
            .where(Regie.origin_instance_id.is_(None), Document.deleted_at.is_(None))
            .order_by(Document.id),
        }
        seq = 0
        for record_type, query in sources.items():
            rows = []
            for record_id, version in db.session.execute(query).all():
                seq += 1
                rows.append(
                    {
                        "record_type": record_type,
                        "record_id": record_id,
                        "seq": seq,
                        "op": "upsert",
                        "version": version,
                        "changed_at": self.now,
                    }
                )
            for batch in _batches(rows, BATCH):
                with _transaction():
                    _insert(Change, batch)
        if seq:
            with _transaction():
                _insert(FeedCounter, [{"id": 1, "last_seq": seq, "purged_seq": 0}])
        return seq

    # The search index and the planner's statistics --------------------------------------------

    def _reindex(self) -> int:
        counts = search.reindex()
        db.session.commit()
        return sum(counts.values())

    def _analyze(self) -> int:
        db.session.remove()
        if db.engine.dialect.name == "postgresql":
            # What autovacuum would do soon after a bulk load, done before anything is measured.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("VACUUM ANALYZE"))
        else:
            with db.engine.begin() as conn:
                conn.execute(sa.text("PRAGMA wal_checkpoint(TRUNCATE)"))
        return 0


def _insert(model: Any, rows: list[dict[str, Any]]) -> None:
    """One Core executemany (the ORM's bulk INSERT would split rows whose None values differ
    into many statements)."""
    if rows:
        db.session.execute(model.__table__.insert(), rows)


class _transaction:
    """One commit for everything inserted inside; a rollback on error."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, error: Any, traceback: Any) -> None:
        if kind is None:
            db.session.commit()
        else:
            db.session.rollback()


def _bulk(model: Any, rows: list[dict[str, Any]]) -> int:
    for batch in _batches(rows, BATCH):
        with _transaction():
            _insert(model, batch)
    return len(rows)


def _batches(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def token_for(email: str) -> str:
    """The API token the generator gives the account ``email`` (every account has one)."""
    return "rqt_bench_" + hashlib.sha256(email.encode()).hexdigest()[:32]


def _slugify(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    ascii_text = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.replace("œ", "oe")).strip("-")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="sqlite:///path(.sqlite) or a PostgreSQL URL")
    parser.add_argument("--scale", type=float, default=1.0, help="10 for the growth variant")
    parser.add_argument("--name", default=None, help="database name (default: bench_<scale>)")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    scale = Scale().times(args.scale)
    name = args.name or f"bench_x{args.scale:g}".replace(".", "_")
    url = fresh_database(args.url, name)
    print(f"Generating {scale} into {sa.make_url(url).render_as_string()}", file=sys.stderr)
    manifest = generate(url, scale, args.seed, log=lambda line: print(line, file=sys.stderr))
    print(manifest.to_json())
    return 0


if __name__ == "__main__":
    os.environ.setdefault("FLASK_APP", "wsgi.py")
    sys.exit(main())

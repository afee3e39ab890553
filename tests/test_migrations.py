"""The migrations build the schema the models describe, on an empty SQLite file and, when
TEST_DATABASE_URL is set, on a fresh PostgreSQL database; they go down and up again."""

import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import downgrade, upgrade

from sharing import create_app
from sharing.extensions import db
from sharing.regies.models import Regie
from sharing.search import is_index_table

MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")
ENGINES = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


@pytest.fixture(params=ENGINES)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a database with no table at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite'}"
        return
    server = sa.create_engine(os.environ["TEST_DATABASE_URL"], isolation_level="AUTOCOMMIT")
    name = f"sharing_migrations_{secrets.token_hex(4)}"
    with server.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@pytest.fixture
def fresh_app(empty_database: str) -> Iterator[Flask]:
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": empty_database}
    )
    yield app
    with app.app_context():
        db.engine.dispose()


def tables(app: Flask) -> set[str]:
    """The database's tables, but for the search index's (not in the models, see below)."""
    with app.app_context():
        return {t for t in sa.inspect(db.engine).get_table_names() if not is_index_table(t)}


def index_tables(app: Flask) -> set[str]:
    with app.app_context():
        return {t for t in sa.inspect(db.engine).get_table_names() if is_index_table(t)}


def not_index_table(obj: Any, name: str | None, type_: str, reflected: bool, other: Any) -> bool:
    """The filter migrations/env.py gives autogenerate: the search index is built by hand."""
    return not (type_ == "table" and is_index_table(name))


def drift(app: Flask) -> list[Any]:
    """What autogenerate would write in a new migration: nothing, if models and migrations
    agree."""
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": not_index_table}
        )
        return list(compare_metadata(context, db.metadata))


def script_directory() -> ScriptDirectory:
    config = Config(os.path.join(MIGRATIONS, "alembic.ini"))
    config.set_main_option("script_location", MIGRATIONS)
    return ScriptDirectory.from_config(config)


def test_there_is_exactly_one_head() -> None:
    heads = script_directory().get_heads()

    assert len(heads) == 1, f"several heads, merge them: {heads}"


def test_revisions_form_one_line_from_base_to_head() -> None:
    scripts = script_directory()
    revisions = list(scripts.walk_revisions())

    assert [r for r in revisions if r.down_revision is None] == [revisions[-1]]
    assert all(not r.is_merge_point for r in revisions)


def test_revision_files_are_date_prefixed() -> None:
    for revision in script_directory().walk_revisions():
        filename = os.path.basename(revision.path)
        assert re.match(r"^\d{8}_\d{4}_[0-9a-f]+_\w+\.py$", filename), filename


def test_head_upgrades_an_empty_database_to_the_models(fresh_app: Flask) -> None:
    assert tables(fresh_app) == set()

    with fresh_app.app_context():
        upgrade(directory=MIGRATIONS)

    assert tables(fresh_app) == set(db.metadata.tables) | {"alembic_version"}
    assert "search_index" in index_tables(fresh_app)
    assert drift(fresh_app) == []
    with fresh_app.app_context():
        version = db.session.scalar(sa.text("SELECT version_num FROM alembic_version"))
    assert version == script_directory().get_current_head()


def test_flask_db_check_finds_nothing_to_migrate(fresh_app: Flask) -> None:
    with fresh_app.app_context():
        upgrade(directory=MIGRATIONS)

    result = fresh_app.test_cli_runner().invoke(args=["db", "check"])

    assert result.exit_code == 0, result.output
    assert result.exception is None


def test_downgrade_to_base_then_upgrade_again(fresh_app: Flask) -> None:
    with fresh_app.app_context():
        upgrade(directory=MIGRATIONS)
        downgrade(directory=MIGRATIONS, revision="base")

    assert tables(fresh_app) <= {"alembic_version"}
    assert index_tables(fresh_app) == set()

    with fresh_app.app_context():
        upgrade(directory=MIGRATIONS)

    assert tables(fresh_app) == set(db.metadata.tables) | {"alembic_version"}
    assert drift(fresh_app) == []


def test_each_revision_goes_down_and_up_again(fresh_app: Flask) -> None:
    """Step by step, so that every downgrade() is exercised against its own upgrade()."""
    revisions = [r.revision for r in reversed(list(script_directory().walk_revisions()))]

    with fresh_app.app_context():
        for revision in revisions:
            upgrade(directory=MIGRATIONS, revision=revision)
            downgrade(directory=MIGRATIONS, revision="-1")
            upgrade(directory=MIGRATIONS, revision=revision)

    assert drift(fresh_app) == []


def test_data_survives_the_round_trip_of_the_latest_revision(fresh_app: Flask) -> None:
    """Downgrading the newest revision must not touch tables created by older ones."""
    with fresh_app.app_context():
        upgrade(directory=MIGRATIONS)
        db.session.add(Regie(name="Régie de Vierzon", slug="vierzon", city="Vierzon"))
        db.session.commit()
        downgrade(directory=MIGRATIONS, revision="-1")
        upgrade(directory=MIGRATIONS)
        regie = db.session.scalars(sa.select(Regie)).one()

    assert regie.slug == "vierzon"
    assert regie.calendar_token  # refilled by the migration for existing régies

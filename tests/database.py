"""Emptying a test database: between tests, and for the tests that wipe an instance."""

import sqlalchemy as sa
from flask import Flask

from sharing.extensions import db


def empty(app: Flask) -> None:
    """Every row gone, the search index's too (the tables stay)."""
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
            conn.execute(sa.text("DELETE FROM search_index"))  # not a model: the search index

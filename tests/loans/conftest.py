"""Fixtures shared by the loans tests: the régies and people involved in a loan."""

import pytest
from werkzeug.security import generate_password_hash

from sharing.accounts import models as accounts_models
from tests.loans.helpers import Parties


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch):
    """Nobody logs in with a password here, and scrypt makes each test user cost a quarter
    of a second: hash these test users' passwords cheaply (still a real, checkable hash)."""
    monkeypatch.setattr(
        accounts_models,
        "generate_password_hash",
        lambda password: generate_password_hash(password, "pbkdf2:sha256:1000"),
    )


@pytest.fixture
def parties(make) -> Parties:
    """A lending régie (manager, member), a borrowing one (manager, member) and a third one."""
    return Parties(make)


@pytest.fixture
def resource(make, parties):
    """A trailer of the lending régie, lent for up to 30 days, bookable at short notice."""
    return make.resource(
        parties.lender, name="Remorque plateau 750 kg", category="vehicules", max_loan_days=30
    )

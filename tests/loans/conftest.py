"""Fixtures shared by the loans tests: the régies and people involved in a loan."""

import pytest

from tests.loans.helpers import Parties


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

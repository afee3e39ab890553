"""API fuzzing: schemathesis generates requests for every operation of the OpenAPI document
(valid ones and deliberately invalid ones), sent authenticated as a manager of a régie that
has resources, documents and bookings. Every answer must be one the document declares, with
the declared content type and body schema, and never a 5xx.

The number of examples per operation and mode is small (``FUZZ_EXAMPLES``, 25 by default)
so that the suite stays quick; raise it locally (``FUZZ_EXAMPLES=500 pytest
tests/test_api_fuzz.py``) for a deeper run. The test prints how many requests it sent.
"""

import os
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from sharing.db import utcnow
from tests.factories import Factories

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def api_schema(app: Flask) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture
def manager_headers(app: Flask, make: Factories, client) -> dict[str, str]:
    """A manager whose régie owns a resource, has a document and a booking of another's."""
    manager = make.user("manager")
    lender = make.user("manager")
    make.resource(manager, name="Autolaveuse compacte")
    lent = make.resource(lender, name="Remorque plateau 750 kg", category="vehicules")
    headers = make.auth(manager)
    start = (utcnow() + timedelta(days=3)).replace(microsecond=0)
    booked = client.post(
        "/api/v1/bookings",
        json={
            "resource_id": str(lent.id),
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(days=1)).isoformat(),
        },
        headers=headers,
    )
    assert booked.status_code == 201, booked.json
    made = client.post(
        "/api/v1/documents",
        json={"title": "Guide du prêt de matériel", "themes": ["espaces-verts"], "type": "guide"},
        headers=headers,
    )
    assert made.status_code == 201, made.json
    return headers


def test_every_operation_answers_as_documented(api_schema, manager_headers) -> None:
    """Valid and invalid requests for each operation; the failures of all operations are
    collected and reported together."""
    failures: dict[str, str] = {}
    sent: Counter[str] = Counter()
    for result in api_schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                sent[operation.label] += fuzz(operation, mode, manager_headers)
            except Exception as error:
                failures[f"{operation.label} ({mode.value})"] = str(error)[:2000]
    print(f"\nfuzzing: {sum(sent.values())} requests over {len(sent)} operations")
    assert len(sent) > 30, "the OpenAPI document lost its operations"
    assert not failures, "\n\n".join(f"{name}:\n{error}" for name, error in failures.items())


def fuzz(operation: Any, mode: GenerationMode, headers: dict[str, str]) -> int:
    """Send ``EXAMPLES`` generated requests to one operation; how many were sent."""
    sent = 0

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case: schemathesis.Case) -> None:
        nonlocal sent
        sent += 1
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()
    return sent

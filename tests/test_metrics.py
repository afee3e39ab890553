"""/metrics: Prometheus' text format, per endpoint and never per path, with the bookings and
the peers' sync state counted from the database, and not open to the public."""

import os
import subprocess
import sys
import textwrap
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from sharing.db import utcnow
from sharing.extensions import db
from sharing.loans.models import Booking, BookingStatus
from tests.test_health import add_peer

LOCAL = {"REMOTE_ADDR": "127.0.0.1"}


def scrape(client, **kwargs) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", environ_base=LOCAL, **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def requests_of(samples, endpoint: str, method: str = "GET", status: str = "2xx") -> float:
    key = (
        "sharing_http_requests_total",
        (("endpoint", endpoint), ("method", method), ("status", status)),
    )
    return samples.get(key, 0.0)


def test_requests_are_counted_per_endpoint_method_and_status_class(client):
    before = scrape(client)
    client.get("/healthz")
    client.get("/healthz")
    client.get(f"/api/v1/resources/{uuid.uuid4()}")  # 401 or 404: a 4xx either way
    after = scrape(client)

    assert requests_of(after, "meta.healthz") - requests_of(before, "meta.healthz") == 2
    latency = (
        "sharing_http_request_duration_seconds_count",
        (("endpoint", "meta.healthz"), ("method", "GET"), ("status", "2xx")),
    )
    assert after[latency] - before.get(latency, 0) == 2
    four = [k for k in after if k[0] == "sharing_http_requests_total" and ("status", "4xx") in k[1]]
    assert four


def test_labels_never_hold_a_raw_path(client):
    for _ in range(3):
        client.get(f"/no/such/page/{uuid.uuid4()}")
    samples = scrape(client)

    assert requests_of(samples, "none", status="4xx") >= 3
    assert not any("/no/such" in value for _, labels in samples for _, value in labels)


def test_bookings_are_counted_by_status_at_scrape_time(client, make, app):
    resource = make.resource()
    borrower = make.user("member")
    statuses = (BookingStatus.REQUESTED, BookingStatus.REQUESTED, BookingStatus.RETURNED)
    with app.app_context():
        for day, status in enumerate(statuses, start=1):
            starts = utcnow() + timedelta(days=day)
            db.session.add(
                Booking(
                    resource_id=resource.id,
                    borrower_regie_id=borrower.regie_id,
                    lender_regie_id=resource.regie_id,
                    requested_by_id=borrower.id,
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=1),
                    status=status,
                )
            )
        db.session.commit()

    samples = scrape(client)

    assert samples[("sharing_bookings", (("status", "requested"),))] == 2
    assert samples[("sharing_bookings", (("status", "returned"),))] == 1


def test_peers_sync_state_is_reported_per_peer(client, app):
    add_peer(app, synced_ago=timedelta(minutes=3), head_seq=50, cursor="e:45")
    with app.app_context():
        from federation.models import Peer

        peer = db.session.scalars(db.select(Peer)).one()
        peer.records_rejected = 4
        url, synced = peer.url, peer.last_success_at
        db.session.commit()

    samples = scrape(client)

    labels = (("peer", url),)
    assert samples[("sharing_federation_sync_lag_changes", labels)] == 5
    assert samples[("sharing_federation_records_rejected", labels)] == 4
    assert samples[("sharing_federation_last_success_timestamp_seconds", labels)] == pytest.approx(
        synced.timestamp()
    )


def test_metrics_are_hidden_from_other_addresses_without_a_token(client):
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})

    assert response.status_code == 404


def test_with_a_token_configured_only_the_token_opens_metrics(app, client):
    app.config["METRICS_TOKEN"] = "scrape-secret"
    try:
        assert client.get("/metrics", environ_base=LOCAL).status_code == 404
        wrong = {"Authorization": "Bearer nope"}
        assert client.get("/metrics", headers=wrong, environ_base=LOCAL).status_code == 404
        right = {"Authorization": "Bearer scrape-secret"}
        remote = {"REMOTE_ADDR": "203.0.113.9"}
        assert client.get("/metrics", headers=right, environ_base=remote).status_code == 200
    finally:
        app.config["METRICS_TOKEN"] = None


def test_metrics_set_no_session_cookie(client):
    response = client.get("/metrics", environ_base=LOCAL)

    assert "Set-Cookie" not in response.headers


def test_multiprocess_mode_adds_up_every_process(tmp_path: Path, database_url: str):
    """Two processes count into PROMETHEUS_MULTIPROC_DIR; a third one's /metrics sums them
    (prometheus_client picks its mode at import, hence fresh interpreters)."""
    script = textwrap.dedent(
        """
        import sys
        from sharing import create_app
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": sys.argv[1]})
        client = app.test_client()
        if sys.argv[2] == "count":
            for _ in range(3):
                client.get("/healthz")
        else:
            print(client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_data(
                as_text=True
            ))
        """
    )
    env = os.environ | {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    root = Path(__file__).resolve().parents[1]
    for _ in range(2):
        subprocess.run(
            [sys.executable, "-c", script, database_url, "count"], env=env, cwd=root, check=True
        )
    output = subprocess.run(
        [sys.executable, "-c", script, database_url, "scrape"],
        env=env,
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout

    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(output)
        for s in family.samples
    }
    assert requests_of(samples, "meta.healthz") == 6
    assert ("sharing_bookings", (("status", "requested"),)) not in samples  # no booking yet

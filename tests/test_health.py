"""The health endpoint that load balancers and monitoring poll."""

import uuid
from datetime import timedelta

from federation.models import Peer
from sharing import create_app
from sharing.db import utcnow
from sharing.extensions import db


def add_peer(app, *, synced_ago: timedelta | None, head_seq: int | None = None, cursor=None):
    with app.app_context():
        n = uuid.uuid4().hex[:8]
        db.session.add(
            Peer(
                instance_id=uuid.uuid4(),
                url=f"https://{n}.example.org",
                name=f"Instance {n}",
                key_id=f"{n}#key",
                public_key="A" * 44,
                fingerprint="F" * 64,
                paired_at=utcnow() - timedelta(days=30),
                last_success_at=None if synced_ago is None else utcnow() - synced_ago,
                head_seq=head_seq,
                cursor=cursor,
            )
        )
        db.session.commit()


def test_healthz_answers_ok_when_the_database_answers(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.is_json
    assert response.json["status"] == "ok"
    assert response.json["database"] == "up"
    assert response.json["database_ms"] >= 0
    assert response.json["federation"] == {
        "peers": 0,
        "stale_peers": 0,
        "worst_lag": None,
        "oldest_sync_age_seconds": None,
    }


def test_healthz_reports_the_worst_lag_and_the_oldest_sync(app, client):
    add_peer(app, synced_ago=timedelta(minutes=5), head_seq=120, cursor="e1:100")
    add_peer(app, synced_ago=timedelta(minutes=20), head_seq=10, cursor="e2:10")

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json["status"] == "ok"
    federation = response.json["federation"]
    assert federation["peers"] == 2
    assert federation["worst_lag"] == 20
    assert 20 * 60 <= federation["oldest_sync_age_seconds"] < 21 * 60
    assert federation["stale_peers"] == 0


def test_healthz_is_degraded_but_200_when_a_peer_has_not_synced_for_long(app, client):
    add_peer(app, synced_ago=timedelta(minutes=5))
    add_peer(app, synced_ago=timedelta(hours=2))

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json["status"] == "degraded"
    assert response.json["federation"]["stale_peers"] == 1


def test_a_peer_that_never_synced_is_stale_once_paired_for_long(app, client):
    add_peer(app, synced_ago=None)

    response = client.get("/healthz")

    assert response.json["status"] == "degraded"
    assert response.json["federation"]["stale_peers"] == 1


def test_healthz_needs_no_sign_in_and_sets_no_session(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


def test_healthz_answers_503_when_the_database_is_unreachable(tmp_path):
    broken = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/no/such/dir/db.sqlite",
        }
    )

    response = broken.test_client().get("/healthz")

    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    assert response.json["database"] == "down"

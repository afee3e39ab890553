"""The health endpoint that load balancers and monitoring poll."""

from sharing import create_app


def test_healthz_answers_ok_when_the_database_answers(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.is_json
    assert response.json == {"status": "ok"}


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

"""Request-level guards of the API: body media type, tokens beside sessions, racing writes."""

import json
import threading
import urllib.error
import urllib.request

from tests.factories import PASSWORD


def test_a_body_that_is_not_json_is_415(client, make):
    manager = make.user("manager")
    response = client.post(
        "/api/v1/resources",
        data="name=Tondeuse&category=espaces-verts",
        content_type="application/x-www-form-urlencoded",
        headers=make.auth(manager),
    )
    assert response.status_code == 415
    assert response.json["error"]["code"] == "unsupported_media_type"


def test_a_bad_token_is_refused_even_beside_a_valid_session(client, make):
    user = make.user("member")
    page = client.get("/connexion").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    client.post("/connexion", data={"csrf_token": token, "email": user.email, "password": PASSWORD})
    assert client.get("/api/v1/me").status_code == 200  # the session works on its own
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer rqt_forged"})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_token"
    other = make.user("manager")
    as_token = client.get("/api/v1/me", headers=make.auth(other))
    assert as_token.json["email"] == other.email  # a valid token speaks for its owner


def test_racing_creations_of_one_slug_give_one_201_and_no_500(live_server, make):
    admin = make.user("admin")
    headers = make.auth(admin) | {"Content-Type": "application/json"}
    body = json.dumps({"name": "Régie du Val", "slug": "val", "city": "Dole"}).encode()
    statuses: list[int] = []
    start = threading.Barrier(8)

    def create() -> None:
        request = urllib.request.Request(
            f"{live_server}/api/v1/regies", data=body, headers=headers, method="POST"
        )
        start.wait()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                statuses.append(response.status)
        except urllib.error.HTTPError as error:
            statuses.append(error.code)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses.count(201) == 1
    assert set(statuses) <= {201, 409, 422}, statuses

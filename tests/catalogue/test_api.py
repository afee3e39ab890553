"""The catalogue API, through HTTP and a real database."""

from sharing.catalogue.models import Resource


def test_manager_creates_resource_with_french_amounts(client, make):
    manager = make.user("manager")
    response = client.post(
        "/api/v1/resources",
        json={
            "name": "Débroussailleuse thermique 1,5 kW + harnais",
            "category": "espaces-verts",
            "deposit_eur": "1 200,50 €",
            "max_loan_days": 7,
        },
        headers=make.auth(manager),
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert body["deposit_eur"] == 1200.5
    assert body["version"] == 1
    assert body["regie_id"] == str(manager.regie_id)
    assert body["origin"]["is_local"] is True
    assert make.get(Resource, __import__("uuid").UUID(body["id"])).name.startswith("Débrous")


def test_search_is_accent_and_case_insensitive(client, make):
    manager = make.user("manager")
    make.resource(manager, name="Désherbeur thermique à gaz", category="zero-phyto")
    make.resource(manager, name="Monobrosse 430 mm", category="proprete")
    headers = make.auth(manager)
    names = [
        r["name"]
        for r in client.get("/api/v1/resources?q=DESHERBEUR", headers=headers).json["items"]
    ]
    assert names == ["Désherbeur thermique à gaz"]


def test_patch_bumps_version_and_other_regie_is_forbidden(client, make):
    manager = make.user("manager")
    resource = make.resource(manager)
    url = f"/api/v1/resources/{resource.id}"
    ok = client.patch(url, json={"location": "Atelier"}, headers=make.auth(manager))
    assert ok.status_code == 200
    assert ok.json["version"] == 2
    stranger = make.user("manager")
    denied = client.patch(url, json={"location": "Ailleurs"}, headers=make.auth(stranger))
    assert denied.status_code == 403
    assert denied.json["error"]["code"] == "forbidden"

"""The browsable API reference, rendered from the OpenAPI document."""

import html

from sharing.extensions import api


def test_api_docs_list_every_operation_with_its_schemas(client, app):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    with app.app_context():
        spec = api.spec.to_dict()
    for path, item in spec["paths"].items():
        for method in ("get", "post", "put", "patch", "delete"):
            if method in item:
                assert f"{method.upper()}</span> <code>{path}</code>" in page, (method, path)
                assert item[method].get("summary", "") in page
    # Request and response schemas, their fields, parameters and the schema index.
    assert 'id="schema-ResourceArgs"' in page
    assert '<a href="#schema-Resource"><code>Resource</code></a>' in page
    assert "<code>deposit_eur</code>" in page
    assert "<code>available_from</code>" in page  # a query parameter of GET /resources
    assert "<code>resource_id</code>" in page  # a path parameter
    assert "longueur ≤ 200" in page
    assert "/api/v1/openapi.json" in page
    assert len(response.data) < 100_000


def test_api_docs_need_no_sign_in(client):
    assert client.get("/api/v1/docs").status_code == 200

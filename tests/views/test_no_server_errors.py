"""No request may produce a 500: odd query strings and form values get a French page."""

from tests.views.conftest import csrf_token

ODD_VALUES = ["\x00", "x" * 5000, "é" * 300, "%", "\\", "' OR 1=1 --", "١٢", "-1", "1e400"]


def test_odd_query_strings_never_fail(client, as_user, make):
    as_user("admin")
    for path in ("/catalogue", "/ma-regie/materiel", "/admin/regies", "/admin/utilisateurs"):
        for name in ("q", "page", "per_page", "category", "regie", "status", "available_from"):
            for value in ODD_VALUES:
                response = client.get(path, query_string={name: value})
                assert response.status_code in (200, 400), (path, name, value)


def test_odd_form_values_never_fail(client, as_user, make):
    manager = as_user("admin")
    resource = make.resource(make.user("manager", regie=manager.regie))
    forms = {
        "/materiel/nouveau": ("name", "category", "deposit_eur", "max_loan_days", "status"),
        f"/materiel/{resource.id}/modifier": ("name", "category", "replacement_value_eur"),
        "/admin/regies/nouvelle": ("name", "slug", "postcode", "timezone", "contact_email"),
        "/admin/utilisateurs/nouveau": ("email", "regie_id", "role", "password"),
    }
    for url, names in forms.items():
        token = csrf_token(client, url)
        for name in names:
            for value in ODD_VALUES:
                response = client.post(url, data={"csrf_token": token, name: value})
                assert response.status_code == 422, (url, name, value, response.status_code)

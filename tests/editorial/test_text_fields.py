"""Names and titles are checked as sent, then trimmed; PATCH errors point at the field.

Found by schemathesis: lengths were checked after stripping blanks (a 301-character title
with a trailing space passed `maxLength: 300`, a title of spaces failed `minLength: 1`), and
a bad value in a PATCH was reported once per member of a hidden union
(`["body", "url", "function-after[check_http_url(), str]"]` and `["body", "url", "none"]`).
"""

import pytest

from tests.core.problems import assert_problem, error_locations

NEW = {
    "tags": ({"name": "x"}, "name", 200),
    "sources": ({"name": "x"}, "name", 200),
    "actions": ({"title": "x", "url": "https://act.example/"}, "title", 300),
    "authors": ({"name": "x"}, "name", 200),
    "articles": ({"title": "x", "body_markdown": "Text."}, "title", 300),
}
kinds = pytest.mark.parametrize("kind", list(NEW))


@kinds
def test_a_name_over_the_limit_with_a_trailing_blank_is_422(client, as_, kind):
    body, field, limit = NEW[kind]
    long = {**body, field: "a" * limit + " "}
    response = client.post(f"/v1/admin/{kind}", json=long, headers=as_("editor"))
    assert error_locations(assert_problem(response, 422)) == [["body", field]]
    exact = {**body, field: "a" * limit}
    assert client.post(f"/v1/admin/{kind}", json=exact, headers=as_("editor")).status_code == 201


@kinds
def test_a_blank_name_is_422_saying_so(client, as_, kind):
    body, field, _ = NEW[kind]
    response = client.post(
        f"/v1/admin/{kind}", json={**body, field: " \t\u3000"}, headers=as_("editor")
    )
    problem = assert_problem(response, 422)
    assert problem["errors"] == [{"loc": ["body", field], "msg": "Value error, must not be blank"}]


@kinds
def test_blanks_around_a_name_are_trimmed(client, as_, kind):
    body, field, _ = NEW[kind]
    response = client.post(
        f"/v1/admin/{kind}", json={**body, field: "  Padded name\n"}, headers=as_("editor")
    )
    assert response.status_code == 201, response.text
    assert response.json()["data"][field] == "Padded name"


@pytest.mark.parametrize("name", ["two words", " leading", "trailing\t"])
def test_a_token_name_with_a_blank_is_422(client, as_, name):
    response = client.post(
        "/v1/admin/tokens", json={"name": name, "role": "editor"}, headers=as_("admin")
    )
    assert error_locations(assert_problem(response, 422)) == [["body", "name"]]


@pytest.mark.parametrize(
    ("change", "field"),
    [({"url": ""}, "url"), ({"url": "ftp://act.example/"}, "url"), ({"title": None}, "title")],
)
def test_a_bad_patch_value_is_one_error_at_its_field(client, as_, change, field):
    created = client.post("/v1/admin/actions", json=NEW["actions"][0], headers=as_("editor"))
    url = f"/v1/admin/actions/{created.json()['data']['id']}"
    headers = {**as_("editor"), "If-Match": created.headers["ETag"]}
    response = client.patch(url, json=change, headers=headers)
    assert error_locations(assert_problem(response, 422)) == [["body", field]]

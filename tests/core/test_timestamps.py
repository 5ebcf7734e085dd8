"""Times sent to the API are RFC 3339 `date-time`s with an offset, as the document says.

Found by schemathesis: `published_at: 0` published an article at 1970-01-01, and a date alone
or a time without offset was read too, although the document says `format: date-time`.
"""

import pytest

from tests.core.problems import assert_problem, error_locations
from tests.factories import bundle, tag

LOOSE = [0, "0", "1700000000", "2026-07-01", "2026-07-01T00:00:00", "2026-07-01 00:00:00Z"]


def new_article(client, headers):
    created = client.post(
        "/v1/admin/articles", json={"title": "A story", "body_markdown": "Text."}, headers=headers
    )
    assert created.status_code == 201, created.text
    return created.json()["data"]["id"]


@pytest.mark.parametrize("value", LOOSE)
def test_publish_with_a_loose_time_is_422_and_publishes_nothing(client, as_, value):
    article_id = new_article(client, as_("editor"))
    url = f"/v1/admin/articles/{article_id}"
    response = client.post(f"{url}/publish", json={"published_at": value}, headers=as_("editor"))
    assert error_locations(assert_problem(response, 422)) == [["body", "published_at"]]
    assert client.get(url, headers=as_("editor")).json()["data"]["status"] == "draft"


def test_publish_time_is_kept_in_utc(client, as_):
    article_id = new_article(client, as_("editor"))
    response = client.post(
        f"/v1/admin/articles/{article_id}/publish",
        json={"published_at": "2027-01-01t02:00:00+02:00"},
        headers=as_("editor"),
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["published_at"] == "2027-01-01T00:00:00Z"


def test_a_time_utc_cannot_hold_is_422_saying_so(client, as_):
    article_id = new_article(client, as_("editor"))
    response = client.post(
        f"/v1/admin/articles/{article_id}/publish",
        json={"published_at": "0001-01-01T00:00:00+01:00"},
        headers=as_("editor"),
    )
    body = assert_problem(response, 422)
    assert "0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z" in body["errors"][0]["msg"]


@pytest.mark.parametrize("value", LOOSE)
def test_action_window_with_a_loose_time_is_422(client, as_, value):
    action = {"title": "Sign", "url": "https://act.example/", "starts_at": value}
    response = client.post("/v1/admin/actions", json=action, headers=as_("editor"))
    assert error_locations(assert_problem(response, 422)) == [["body", "starts_at"]]


@pytest.mark.parametrize("value", LOOSE)
def test_token_expiry_with_a_loose_time_is_422(client, as_, value):
    token = {"name": "partner", "role": "content", "expires_at": value}
    response = client.post("/v1/admin/tokens", json=token, headers=as_("admin"))
    assert error_locations(assert_problem(response, 422)) == [["body", "expires_at"]]


def test_bundle_with_a_loose_time_is_422_pointing_at_the_item(client, as_):
    loose = bundle(tags=[tag("rights", created_at="2017-04-14")])
    response = client.post("/v1/admin/import", json=loose, headers=as_("editor"))
    assert error_locations(assert_problem(response, 422)) == [["body", "tags", 0, "created_at"]]
    assert client.get("/v1/tags").json()["data"] == []


@pytest.mark.parametrize("value", [0, "0", "2026-12-01T00:00:00Z", "2026-12-1"])
def test_report_day_with_a_loose_value_is_422(client, as_, value):
    action = {"title": "Sign", "url": "https://act.example/"}
    action_id = client.post("/v1/admin/actions", json=action, headers=as_("editor")).json()
    url = f"/v1/admin/actions/{action_id['data']['id']}/report"
    assert client.get(url, params={"to": "2026-12-01"}, headers=as_("editor")).status_code == 200
    response = client.get(url, params={"to": value}, headers=as_("editor"))
    assert error_locations(assert_problem(response, 422)) == [["query", "to"]]

"""Integers are bounded to what both databases store; 405 names every method of the path."""

from typing import Any

import pytest


@pytest.mark.parametrize("number", ["9223372036854775808", "2147483648", "0", "-1"])
def test_a_revision_number_out_of_range_is_422(client: Any, as_: Any, number: str) -> None:
    editor = as_("editor")
    article = client.post(
        "/v1/admin/articles", json={"title": "Bounds", "body_html": "<p>x</p>"}, headers=editor
    ).json()["data"]
    response = client.post(
        f"/v1/admin/articles/{article['id']}/revisions/{number}/restore", headers=editor
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == ["path", "number"]


def test_405_lists_every_method_of_the_path(client: Any, as_: Any) -> None:
    response = client.put("/v1/admin/articles", json={}, headers=as_("editor"))
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, OPTIONS, POST"
    item = client.put("/v1/admin/tags/abc", json={}, headers=as_("editor"))
    assert item.status_code == 405
    assert item.headers["allow"] == "DELETE, GET, HEAD, OPTIONS, PATCH"


def test_nul_in_any_json_string_is_422_naming_the_field(client: Any, as_: Any) -> None:
    editor = as_("editor")
    cases = [
        ("/v1/admin/articles", {"title": "a\x00b", "body_html": "<p>x</p>"}, ["body", "title"]),
        (
            "/v1/admin/articles",
            {"title": "ok", "body_html": "<p>x</p>", "tags": ["fine", "bad\x00tag"]},
            ["body", "tags", 1],
        ),
        ("/v1/admin/tags", {"name": "x", "description": "\x00"}, ["body", "description"]),
        ("/v1/subscriptions", {"email": "a@example.com", "consent": True, "source": "\x00"},
         ["body", "source"]),
    ]  # fmt: skip
    for path, body, loc in cases:
        response = client.post(path, json=body, headers=editor)
        assert response.status_code == 422, (path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["loc"] == loc
    assert client.get("/v1/admin/articles", headers=editor).json()["data"] == []


def test_metrics_can_be_restricted_by_token_and_network(settings: Any, engine: Any) -> None:
    from fastapi.testclient import TestClient

    from api.main import create_app

    token = "s" * 24
    locked = create_app(settings.model_copy(update={"metrics_token": token}), engine=engine)
    with TestClient(locked, raise_server_exceptions=False) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        scraped = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert scraped.status_code == 200
        assert "masthead_http_requests_total" in scraped.text
    fenced = create_app(
        settings.model_copy(update={"metrics_allow": ["10.0.0.0/8"]}), engine=engine
    )
    with TestClient(fenced, raise_server_exceptions=False, client=("192.0.2.1", 1)) as outside:
        assert outside.get("/metrics").status_code == 403
    with TestClient(fenced, raise_server_exceptions=False, client=("10.1.2.3", 1)) as inside:
        assert inside.get("/metrics").status_code == 200

"""Guessing tokens is limited per client address; tokens cannot be born expired."""

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.cli import app as cli
from api.main import create_app
from tests.auth.tokens import bearer
from tests.conftest import FIXED_NOW
from tests.factories import iso


def _client(settings: Any, engine: Any, address: str) -> TestClient:
    app = create_app(settings.model_copy(update={"auth_failure_limit": 5}), engine=engine)
    app.state.clock = lambda: FIXED_NOW
    return TestClient(app, raise_server_exceptions=False, client=(address, 50000))


def test_failed_authentication_is_limited_per_address(settings: Any, engine: Any, tokens: Any):
    with _client(settings, engine, "203.0.113.9") as guesser:
        statuses = [
            guesser.get("/v1/admin/articles", headers=bearer(f"mh_wrong{n}")).status_code
            for n in range(12)
        ]
        assert statuses[:5] == [401] * 5
        assert set(statuses[5:]) == {429}
        refused = guesser.get("/v1/admin/articles", headers=bearer(tokens["editor"]))
        # While over the limit even a right token is refused: guessing learns nothing.
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.headers["content-type"] == "application/problem+json"
        # Another address of the same worker (same counters) is not affected.
    with TestClient(
        guesser.app, raise_server_exceptions=False, client=("198.51.100.7", 50000)
    ) as other:
        ok = other.get("/v1/admin/articles", headers=bearer(tokens["editor"]))
        assert ok.status_code == 200
    # Once the window has passed, the first address may try again.
    guesser.app.state.clock = lambda: FIXED_NOW + timedelta(hours=1)
    with TestClient(
        guesser.app, raise_server_exceptions=False, client=("203.0.113.9", 50000)
    ) as again:
        assert again.get("/v1/admin/articles", headers=bearer(tokens["editor"])).status_code == 200


def test_a_token_with_a_past_expiry_is_refused(client: Any, as_: Any) -> None:
    for moment in (FIXED_NOW - timedelta(seconds=1), FIXED_NOW):
        response = client.post(
            "/v1/admin/tokens",
            json={"name": f"late-{moment.second}", "role": "editor", "expires_at": iso(moment)},
            headers=as_("admin"),
        )
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["loc"] == ["body", "expires_at"]
    names = [t["name"] for t in client.get("/v1/admin/tokens", headers=as_("admin")).json()["data"]]
    assert not [n for n in names if n.startswith("late-")]


def test_cli_refuses_a_past_expiry_and_an_existing_name(engine: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("MASTHEAD_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    runner = CliRunner()
    past = runner.invoke(
        cli, ["tokens", "create", "--name", "x", "--role", "editor", "--expires-at", "2001-01-01"]
    )
    assert past.exit_code == 1
    assert "expires_at" in past.output
    assert (
        runner.invoke(cli, ["tokens", "create", "--name", "y", "--role", "editor"]).exit_code == 0
    )
    again = runner.invoke(cli, ["tokens", "create", "--name", "y", "--role", "editor"])
    assert again.exit_code == 1
    assert "revoke" in again.output


def test_failed_content_keys_are_limited_per_address_like_tokens(
    settings: Any, engine: Any, tokens: Any
) -> None:
    keyed = settings.model_copy(update={"auth_failure_limit": 5, "content_keys_required": True})
    app = create_app(keyed, engine=engine)
    app.state.clock = lambda: FIXED_NOW
    with TestClient(app, raise_server_exceptions=False, client=("203.0.113.9", 50000)) as guesser:
        # A request without any key is not a guess; it is not counted.
        assert [guesser.get("/v1/articles").status_code for _ in range(8)] == [401] * 8
        statuses = [
            guesser.get("/v1/articles", headers={"X-Masthead-Key": f"mh_wrong{n}"}).status_code
            for n in range(8)
        ]
        assert statuses[:5] == [401] * 5
        assert set(statuses[5:]) == {429}
        refused = guesser.get(f"/v1/articles?key={tokens['content']}")
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["type"].endswith("/rate-limited")
        # Bearer guesses and key guesses share the address's count.
        assert (
            guesser.get("/v1/admin/articles", headers=bearer(tokens["editor"])).status_code == 429
        )
    with TestClient(app, raise_server_exceptions=False, client=("198.51.100.7", 50000)) as other:
        assert other.get(f"/v1/articles?key={tokens['content']}").status_code == 200


def test_failed_keys_on_the_ghost_content_api_are_limited_too(
    settings: Any, engine: Any, tokens: Any
) -> None:
    app = create_app(settings.model_copy(update={"auth_failure_limit": 5}), engine=engine)
    app.state.clock = lambda: FIXED_NOW
    posts = "/ghost/api/content/posts/"
    with TestClient(app, raise_server_exceptions=False, client=("203.0.113.9", 50000)) as guesser:
        statuses = [guesser.get(f"{posts}?key={n:026x}").status_code for n in range(8)]
        assert statuses[:5] == [401] * 5
        assert set(statuses[5:]) == {429}
        refused = guesser.get(f"{posts}?key={tokens['content']}")
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.json()["errors"][0]["type"] == "TooManyRequestsError"
    with TestClient(app, raise_server_exceptions=False, client=("198.51.100.7", 50000)) as other:
        assert other.get(f"{posts}?key={tokens['content']}").status_code == 200


# What each bad body gets once the caller may use the route.
BAD_BODIES = {
    b'{"name": ': 422,  # malformed JSON
    b"\xff\xfe\xfd": 400,  # not UTF-8
    b'{"name": "a\\u0000b", "role": "editor"}': 422,  # NUL in a string
    b'{"name": 5, "role": "nobody"}': 422,  # wrong types
}


def test_admin_bodies_are_judged_only_after_authentication(client: Any, as_: Any) -> None:
    json_type = {"Content-Type": "application/json"}
    for body, judged in BAD_BODIES.items():
        for headers, status in (
            ({}, 401),
            (bearer("mh_" + "x" * 43), 401),
            (as_("editor"), 403),  # tokens need the admin role
            (as_("admin"), judged),
        ):
            answer = client.post("/v1/admin/tokens", content=body, headers={**json_type, **headers})
            assert answer.status_code == status, (body, headers, answer.text)
            assert answer.headers["content-type"] == "application/problem+json"
        patch = client.patch("/v1/admin/articles/" + "0" * 32, content=body, headers=json_type)
        assert patch.status_code == 401, (body, patch.text)

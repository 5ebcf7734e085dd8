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

"""Every kind of token records its last use (admin tokens to the minute: at most one write a
minute per token, none per request), and `masthead tokens` shows it; a name in use is
refused with what to do instead."""

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from api.auth.models import ApiToken
from api.cli import app as cli
from api.main import create_app
from tests.conftest import FIXED_NOW
from tests.factories import article, bundle, load


def last_used(engine: Engine, name: str) -> Any:
    with engine.connect() as connection:
        return connection.scalar(select(ApiToken.last_used_at).where(ApiToken.name == name))


def token_writes(counter: Any) -> list[str]:
    return [s for s in counter.statements if s.lstrip().upper().startswith("UPDATE API_TOKENS")]


def test_an_admin_token_notes_its_use_at_most_once_a_minute(
    client, app, engine, as_, count_statements
):
    assert last_used(engine, "editor") is None
    with count_statements() as first:
        assert client.get("/v1/admin/articles", headers=as_("editor")).status_code == 200
    assert len(token_writes(first)) == 1
    assert last_used(engine, "editor") == FIXED_NOW
    assert last_used(engine, "admin") is None

    app.state.clock = lambda: FIXED_NOW + timedelta(seconds=59)
    with count_statements() as within_the_minute:
        for _ in range(3):
            assert client.get("/v1/admin/articles", headers=as_("editor")).status_code == 200
    assert token_writes(within_the_minute) == []
    assert last_used(engine, "editor") == FIXED_NOW

    later = FIXED_NOW + timedelta(minutes=5)
    app.state.clock = lambda: later
    assert client.get("/v1/admin/tags", headers=as_("editor")).status_code == 200
    assert last_used(engine, "editor") == later
    listed = client.get("/v1/admin/tokens", headers=as_("admin")).json()["data"]
    by_name = {token["name"]: token for token in listed}
    assert by_name["editor"]["last_used_at"] == later.isoformat().replace("+00:00", "Z")
    assert by_name["contributor"]["last_used_at"] is None


def test_a_refused_token_notes_no_use(client, engine, as_):
    assert client.get("/v1/admin/articles", headers=as_("revoked")).status_code == 401
    assert last_used(engine, "revoked") is None


def test_a_content_key_notes_its_use(settings, engine, tokens):
    load(engine, bundle(articles=[article("story")]))
    app = create_app(settings.model_copy(update={"content_keys_required": True}), engine=engine)
    app.state.clock = lambda: FIXED_NOW
    with TestClient(app) as client:
        assert client.get("/v1/articles", headers={"X-Masthead-Key": tokens["content"]}).is_success
    assert last_used(engine, "content") == FIXED_NOW


@pytest.fixture
def runner(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("MASTHEAD_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    return CliRunner()


def test_tokens_list_shows_the_last_use_of_every_kind(client, engine, as_, tokens, runner):
    load(engine, bundle(articles=[article("story")]))
    assert client.get("/v1/admin/articles", headers=as_("admin")).status_code == 200
    app = create_app(
        client.app.state.settings.model_copy(update={"content_keys_required": True}), engine
    )
    app.state.clock = lambda: FIXED_NOW
    with TestClient(app) as keyed:
        assert keyed.get(f"/v1/articles?key={tokens['content']}").status_code == 200
    listed = runner.invoke(cli, ["tokens", "list"])
    assert listed.exit_code == 0, listed.output
    rows = {line.split("\t")[0]: line.split("\t") for line in listed.stdout.splitlines()}
    assert rows["admin"][3] == "last_used=2026-06-01T12:00:00Z"
    assert rows["content"][3] == "last_used=2026-06-01T12:00:00Z"
    assert rows["content"][4] == "uses=1"
    assert rows["editor"][3] == "last_used=never"


def test_a_token_name_in_use_is_refused_with_what_to_do_instead(runner):
    create = ["tokens", "create", "--name", "alice", "--role", "editor"]
    assert runner.invoke(cli, create).exit_code == 0
    again = runner.invoke(cli, create)
    assert again.exit_code == 1
    [line] = again.stderr.strip().splitlines()
    assert "'alice'" in line and "active" in line and "--name" in line
    assert "masthead tokens revoke alice" in line
    assert runner.invoke(cli, ["tokens", "revoke", "alice"]).exit_code == 0
    revoked = runner.invoke(cli, create)
    assert revoked.exit_code == 1
    assert "revoked" in revoked.stderr and "pick another --name" in revoked.stderr

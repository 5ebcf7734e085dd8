from datetime import timedelta

from sqlalchemy import select
from typer.testing import CliRunner

from api.auth.models import ApiToken
from api.auth.service import hash_token
from api.cli import app as cli
from tests.auth.tokens import bearer
from tests.conftest import FIXED_NOW
from tests.factories import article, bundle, iso, load


def test_admin_issues_a_token_shown_once_and_stored_hashed(client, as_, session):
    response = client.post(
        "/v1/admin/tokens", json={"name": "desk", "role": "editor"}, headers=as_("admin")
    )
    assert response.status_code == 201, response.text
    token = response.json()["data"]["token"]
    assert token.startswith("mh_") and len(token) >= 43
    row = session.scalars(select(ApiToken).where(ApiToken.name == "desk")).one()
    assert row.token_hash == hash_token(token) and token not in row.token_hash
    listed = client.get("/v1/admin/tokens", headers=as_("admin"))
    assert token not in listed.text
    assert "desk" in [t["name"] for t in listed.json()["data"]]
    assert client.get("/v1/admin/articles", headers=bearer(token)).status_code == 200
    again = client.post(
        "/v1/admin/tokens", json={"name": "desk", "role": "editor"}, headers=as_("admin")
    )
    assert again.status_code == 409
    revoked = client.delete(f"/v1/admin/tokens/{row.id}", headers=as_("admin"))
    assert revoked.status_code == 200 and revoked.json()["data"]["revoked_at"]
    assert client.get("/v1/admin/articles", headers=bearer(token)).status_code == 401


def test_expiring_token_stops_working(client, app, as_):
    response = client.post(
        "/v1/admin/tokens",
        json={"name": "temp", "role": "editor", "expires_at": iso(FIXED_NOW + timedelta(hours=1))},
        headers=as_("admin"),
    )
    token = response.json()["data"]["token"]
    assert client.get("/v1/admin/articles", headers=bearer(token)).status_code == 200
    app.state.clock = lambda: FIXED_NOW + timedelta(hours=2)
    assert client.get("/v1/admin/articles", headers=bearer(token)).status_code == 401


def test_unknown_role_is_422(client, as_):
    response = client.post(
        "/v1/admin/tokens", json={"name": "x", "role": "root"}, headers=as_("admin")
    )
    assert response.status_code == 422


def test_cli_create_list_revoke(engine, monkeypatch):
    monkeypatch.setenv("MASTHEAD_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    runner = CliRunner()
    created = runner.invoke(cli, ["tokens", "create", "--name", "ci", "--role", "editor"])
    assert created.exit_code == 0, created.output
    token = created.output.strip().splitlines()[-1]
    assert token.startswith("mh_") and " " not in token
    listed = runner.invoke(cli, ["tokens", "list"])
    assert listed.exit_code == 0 and "ci\teditor\tactive" in listed.output
    assert token not in listed.output
    duplicate = runner.invoke(cli, ["tokens", "create", "--name", "ci", "--role", "editor"])
    assert duplicate.exit_code == 1
    assert runner.invoke(cli, ["tokens", "revoke", "ci"]).exit_code == 0
    assert "ci\teditor\trevoked" in runner.invoke(cli, ["tokens", "list"]).output
    assert runner.invoke(cli, ["tokens", "revoke", "nobody"]).exit_code == 1


def test_audit_log_records_who_did_what(client, as_):
    created = client.post("/v1/admin/tags", json={"name": "Rights"}, headers=as_("editor"))
    tag_id = created.json()["data"]["id"]
    client.delete(f"/v1/admin/tags/{tag_id}", headers=as_("editor"))
    failed = client.post(
        "/v1/admin/tags", json={"name": "Rights", "id": "x"}, headers=as_("editor")
    )
    assert failed.status_code == 422
    entries = client.get("/v1/admin/audit", headers=as_("admin")).json()["data"]
    assert [(e["action"], e["token_name"], e["entity_id"]) for e in entries] == [
        ("tag.delete", "editor", tag_id),
        ("tag.create", "editor", tag_id),
    ]
    assert client.get("/v1/admin/audit", headers=as_("editor")).status_code == 403


def test_audit_entry_is_rolled_back_with_a_failed_write(client, engine, as_):
    load(engine, bundle(articles=[article("taken")]))
    response = client.post("/v1/admin/articles", json={"title": "Taken"}, headers=as_("editor"))
    assert response.status_code == 409
    assert client.get("/v1/admin/audit", headers=as_("admin")).json()["data"] == []

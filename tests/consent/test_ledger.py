"""The consent ledger: every sign-up, confirmation, unsubscribe and erasure appends a
hash-chained event; `masthead consent verify` names the first event edited afterwards."""

import hashlib
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.consent.ledger import event_hash, wording_hash
from tests.cli.live import masthead, operator_env
from tests.conftest import FIXED_NOW
from tests.subscriptions.conftest import CLIENT_ADDRESS, Inbox, deliver, links, signup

NETWORK = "203.0.113.0/24"
LATER = FIXED_NOW + timedelta(days=2)


def verify(engine: Engine, tmp_path: Path) -> Any:
    url = engine.url.render_as_string(hide_password=False)
    return masthead("consent", "verify", env=operator_env(url), cwd=tmp_path)


def subscriber_id(client: TestClient, as_: Any, email: str) -> str:
    listed = client.get("/v1/admin/subscribers", headers=as_("admin")).json()["data"]
    return next(s["id"] for s in listed if s["email"] == email)


def detail(client: TestClient, as_: Any, id_: str) -> dict[str, Any]:
    response = client.get(f"/v1/admin/subscribers/{id_}", headers=as_("admin"))
    assert response.status_code == 200, response.text
    return dict(response.json()["data"])


def a_whole_history(client: TestClient, app: Any, inbox: Inbox) -> None:
    """reader@ signs up, confirms, signs up again for another list, unsubscribes."""
    assert signup(client, "reader@example.com", lists=["weekly"]).status_code == 202
    deliver(app)
    mail = links(inbox.messages[0])
    assert client.get(mail["confirm"]).status_code == 200
    app.state.clock = lambda: LATER
    assert signup(client, "reader@example.com", policy_version="2026-07").status_code == 202
    assert client.post(mail["unsubscribe"]).status_code == 200
    assert client.post(mail["unsubscribe"]).status_code == 200  # repeated: no new event


def test_each_step_appends_a_chained_event(
    client: TestClient, app: Any, inbox: Inbox, as_: Any, tmp_path: Path, engine: Engine
) -> None:
    a_whole_history(client, app, inbox)
    item = detail(client, as_, subscriber_id(client, as_, "reader@example.com"))
    ledger = item["ledger"]
    assert [(e["seq"], e["kind"]) for e in ledger] == [
        (1, "given"),
        (2, "confirmed"),
        (3, "given"),
        (4, "withdrawn"),
    ]
    given, confirmed, again, withdrawn = ledger
    assert given["prev_hash"] is None
    assert [e["prev_hash"] for e in ledger[1:]] == [e["hash"] for e in ledger[:-1]]
    assert item["ledger_head"] == withdrawn["hash"]
    wording = app.state.settings.subscription_consent_wording
    assert (given["policy_version"], given["source"], given["lists"]) == (
        "2026-01",
        "/articles/clean-air",
        ["weekly"],
    )
    assert given["wording_hash"] == hashlib.sha256(wording.encode()).hexdigest()
    assert given["consent_id"] == confirmed["consent_id"] != again["consent_id"]
    assert confirmed["source"] == "confirmation-link"
    assert again["policy_version"] == "2026-07"
    assert withdrawn["source"] == "unsubscribe" and withdrawn["consent_id"] is None
    # The client address only as its /24, and the hash covers it through the commitment.
    assert {e["client_network"] for e in ledger} == {NETWORK}
    assert CLIENT_ADDRESS not in json.dumps(item)
    for event in ledger:
        nonce = event["client_nonce"]
        moment = datetime.fromisoformat(event["occurred_at"])
        commitment = hashlib.sha256(f"{nonce}|{NETWORK}".encode()).hexdigest()
        assert event["client_commitment"] == commitment
        assert (
            event_hash({**event, "subscriber_id": item["id"], "occurred_at": moment})
            == (event["hash"])
        )
    result = verify(engine, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "verified: 4 events of 1 subscribers" in result.stdout


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        ("UPDATE consent_events SET policy_version = '2025-01' WHERE seq = 1", "content"),
        ("UPDATE consent_events SET source = '/elsewhere' WHERE seq = 2", "content"),
        ("UPDATE consent_events SET client_network = '198.51.100.0/24' WHERE seq = 3", "network"),
        ("DELETE FROM consent_events WHERE seq = 2", "missing"),
        ("DELETE FROM consent_events WHERE seq = 4", "head"),
    ],
)
def test_an_edit_made_with_sql_is_named_by_verify(
    client: TestClient,
    app: Any,
    inbox: Inbox,
    engine: Engine,
    tmp_path: Path,
    tamper: str,
    reason: str,
) -> None:
    a_whole_history(client, app, inbox)
    signup(client, "other@example.com")  # an intact chain beside the broken one
    assert verify(engine, tmp_path).returncode == 0
    with engine.begin() as connection:
        victim = connection.execute(
            text("SELECT id FROM subscribers WHERE email = 'reader@example.com'")
        ).scalar_one()
        ids = dict(
            connection.execute(
                text("SELECT seq, id FROM consent_events WHERE subscriber_id = :s"), {"s": victim}
            ).all()
        )
        connection.execute(text(tamper + " AND subscriber_id = :s"), {"s": victim})
    result = verify(engine, tmp_path)
    assert result.returncode == 1, result.stdout
    [line] = result.stderr.strip().splitlines()
    assert f"subscriber {victim}" in line
    expected = {
        "content": "does not match its hash",
        "network": "does not match its commitment",
        "missing": "an event is missing",
        "head": "the subscriber's head names 4 event(s)",
    }[reason]
    assert expected in line, line
    if reason in ("content", "network"):
        seq = int(tamper.rsplit("=", 1)[1])
        assert f"event {seq} ({ids[seq]})" in line


def test_erasure_keeps_a_verifiable_chain_without_the_network(
    client: TestClient, app: Any, inbox: Inbox, as_: Any, engine: Engine, tmp_path: Path
) -> None:
    a_whole_history(client, app, inbox)
    id_ = subscriber_id(client, as_, "reader@example.com")
    assert client.delete(f"/v1/admin/subscribers/{id_}", headers=as_("admin")).status_code == 204
    assert client.delete(f"/v1/admin/subscribers/{id_}", headers=as_("admin")).status_code == 204
    item = detail(client, as_, id_)
    assert [e["kind"] for e in item["ledger"]][-1] == "erased"
    assert len(item["ledger"]) == 5  # erased once
    assert all(e["client_network"] is None and e["client_nonce"] is None for e in item["ledger"])
    assert all(e["client_commitment"] for e in item["ledger"][:4])
    assert item["ledger"][-1]["client_commitment"] is None
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT * FROM consent_events")).all()
    assert "203.0.113" not in repr(stored) and "reader@example.com" not in repr(stored)
    assert verify(engine, tmp_path).returncode == 0


def test_the_form_may_send_the_wording_it_showed(client: TestClient, app: Any, as_: Any) -> None:
    shown = "I have read and agreed to the\n   Privacy Policy  and want the newsletter."
    assert signup(client, consent_wording=shown).status_code == 202
    item = detail(client, as_, subscriber_id(client, as_, "reader@example.com"))
    collapsed = "I have read and agreed to the Privacy Policy and want the newsletter."
    assert item["ledger"][0]["wording_hash"] == wording_hash(collapsed)
    assert item["consents"][0]["wording_hash"] == wording_hash(collapsed)
    export = client.get(f"/v1/admin/subscribers/{item['id']}/export", headers=as_("admin"))
    assert export.json()["wordings"] == [{"hash": wording_hash(collapsed), "text": collapsed}]


@pytest.mark.parametrize(
    "wording",
    ["", "   ", "x" * 2001, "a\x07bell", 42, ["text"]],
)
def test_a_bad_wording_is_a_422(client: TestClient, wording: Any) -> None:
    response = signup(client, consent_wording=wording)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["loc"][:2] == ["body", "consent_wording"]


def test_one_subjects_data_exports_as_one_document(
    client: TestClient, app: Any, inbox: Inbox, as_: Any
) -> None:
    a_whole_history(client, app, inbox)
    signup(client, "other@example.com")
    id_ = subscriber_id(client, as_, "reader@example.com")
    response = client.get(f"/v1/admin/subscribers/{id_}/export", headers=as_("admin"))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "private, no-store"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="subscriber-{id_}.json"'
    )
    document = response.json()
    assert (document["format"], document["version"]) == ("masthead-subject-export", 1)
    assert document["subscriber"]["email"] == "reader@example.com"
    assert document["subscriber"]["ledger_head"] == document["ledger"][-1]["hash"]
    assert [c["policy_version"] for c in document["consents"]] == ["2026-07", "2026-01"]
    assert [e["kind"] for e in document["ledger"]] == ["given", "confirmed", "given", "withdrawn"]
    wording = app.state.settings.subscription_consent_wording
    assert document["wordings"] == [{"hash": wording_hash(wording), "text": wording}]
    assert [(m["kind"], m["recipient"]) for m in document["email"]] == [
        ("confirmation", "reader@example.com")
    ]
    assert "other@example.com" not in response.text
    audit = client.get("/v1/admin/audit", headers=as_("admin")).json()["data"]
    assert any(a["action"] == "subscriber.export" and a["entity_id"] == id_ for a in audit)
    for role in ("editor", "contributor", "content"):
        refused = client.get(f"/v1/admin/subscribers/{id_}/export", headers=as_(role))
        assert refused.status_code == 403
    assert client.get("/v1/admin/subscribers/nope/export", headers=as_("admin")).status_code == 404


def test_the_export_costs_the_same_statements_however_long_the_history(
    client: TestClient, app: Any, inbox: Inbox, as_: Any, count_statements: Any
) -> None:
    signup(client, "short@example.com")
    a_whole_history(client, app, inbox)
    for version in ("2026-08", "2026-09", "2026-10"):
        signup(client, "reader@example.com", policy_version=version)
    counts = []
    for email in ("short@example.com", "reader@example.com"):
        id_ = subscriber_id(client, as_, email)
        with count_statements() as counter:
            assert client.get(f"/v1/admin/subscribers/{id_}/export", headers=as_("admin"))
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


def test_the_csv_names_each_subscribers_ledger_head(
    client: TestClient, app: Any, inbox: Inbox, as_: Any
) -> None:
    a_whole_history(client, app, inbox)
    id_ = subscriber_id(client, as_, "reader@example.com")
    head = detail(client, as_, id_)["ledger_head"]
    exported = client.get("/v1/admin/subscribers.csv", headers=as_("admin")).text
    header, *rows = exported.splitlines()
    assert "ledger_head" in header.split(",")
    assert rows and all(head in row for row in rows)

"""Conversions back in (issue 16, item 2): each provider's documented payload, verified the
way the provider documents, matched by the code the redirect handed out, counted once, and
nothing personal kept: the database and the logs are grepped for every personal value the
payloads carried."""

import base64
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text
from standardwebhooks.webhooks import Webhook

from api.main import create_app
from tests.auth.tokens import bearer
from tests.conftest import FIXED_NOW
from tests.conversions.payloads import (
    PERSONAL,
    actblue_contribution,
    action_network_attendance_unattributed,
    action_network_donation,
    action_network_signature,
)
from tests.factories import action, article, bundle, load

AN_SECRET = "an-secret-0123456789abcdef"
AB_USER, AB_PASSWORD = "masthead", "ab-password-0123456789"
STANDARD_SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()


@pytest.fixture
def hooks(settings, engine) -> Iterator[TestClient]:
    """A client of an app with every hook configured."""
    configured = settings.model_copy(
        update={
            "hook_actionnetwork_secret": AN_SECRET,
            "hook_actblue_username": AB_USER,
            "hook_actblue_password": AB_PASSWORD,
            "hook_standard_secret": STANDARD_SECRET,
        }
    )
    app = create_app(configured, engine=engine)
    app.state.clock = lambda: FIXED_NOW
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def seed(engine) -> None:
    load(
        engine,
        bundle(
            actions=[
                action("petition", attribution="source"),
                action(
                    "fund",
                    kind="donation",
                    attribution="refcode",
                    goal={"kind": "amount", "target": 10_000, "currency": "USD"},
                ),
                action("signup", attribution="utm"),
            ],
            articles=[
                article("story", days_ago=2, actions=["petition", "fund"]),
                article("follow-up", days_ago=1),
            ],
        ),
    )


def code_of(client, slug: str, article: str, placement: str) -> str:
    location = client.get(
        f"/v1/actions/{slug}/go",
        params={"from": article, "placement": placement},
        follow_redirects=False,
    ).headers["location"]
    query = dict(parse_qsl(urlsplit(location).query))
    return query.get("refcode") or query["source"]


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def signed(body: dict[str, Any], message_id: str, secret: str = STANDARD_SECRET) -> dict:
    raw = json.dumps(body)
    now = datetime.now(UTC)
    return {
        "content": raw,
        "headers": {
            "content-type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(secret).sign(message_id, now, raw),
        },
    }


def ids_of(client, tokens) -> dict[str, str]:
    actions = client.get("/v1/admin/actions", headers=bearer(tokens["editor"])).json()["data"]
    return {a["slug"]: a["id"] for a in actions}


def report(client, tokens, action_id: str, **params: str) -> dict[str, Any]:
    response = client.get(
        f"/v1/admin/actions/{action_id}/report", params=params, headers=bearer(tokens["editor"])
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_action_network_signatures_and_donations_count_where_their_source_points(
    hooks, engine, tokens
):
    seed(engine)
    code = code_of(hooks, "petition", "story", "end")
    assert code == "story-end"
    events = [
        action_network_signature(code, key="sig-1"),
        action_network_signature(code, key="sig-2"),
        action_network_donation(code, "25.50", "EUR", key="don-1"),
        action_network_attendance_unattributed(key="rsvp-1"),
        {"action_network:upload": {"identifiers": ["action_network:u"]}, "idempotency_key": "up"},
    ]
    response = hooks.post(f"/v1/hooks/actionnetwork?secret={AN_SECRET}", json=events)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.json()["data"] == {"counted": 3, "replayed": 0, "unmatched": 1, "ignored": 1}

    petition = ids_of(hooks, tokens)["petition"]
    body = report(hooks, tokens, petition)
    assert body["totals"] == {
        "clicks": 1,
        "unique_readers": 1,
        "conversions": 3,
        "refunds": 0,
        "amounts": {"EUR": 2550},
        "conversion_rate": 3.0,
    }
    (by_article,) = body["by_article"]
    assert by_article["article_slug"] == "story"
    assert by_article["conversions"] == 3
    assert [p["placement"] for p in body["by_placement"]] == ["end"]
    assert body["by_day"][0]["day"] == FIXED_NOW.date().isoformat()


def test_action_network_secret_by_basic_auth_and_refusals(hooks, engine):
    seed(engine)
    code = code_of(hooks, "petition", "story", "inline")
    events = [action_network_signature(code, key="sig-basic")]
    ok = hooks.post("/v1/hooks/actionnetwork", json=events, headers=basic("any", AN_SECRET))
    assert ok.status_code == 200 and ok.json()["data"]["counted"] == 1
    for attempt in (
        {"url": "/v1/hooks/actionnetwork"},
        {"url": "/v1/hooks/actionnetwork?secret=wrong-secret-0123456789"},
        {"url": "/v1/hooks/actionnetwork", "headers": basic("any", "wrong")},
    ):
        refused = hooks.post(attempt["url"], json=events, headers=attempt.get("headers", {}))
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["www-authenticate"].startswith("Basic")


def test_actblue_contributions_and_refunds_net_out_in_cents(hooks, engine, tokens):
    seed(engine)
    code = code_of(hooks, "fund", "story", "banner")
    auth = basic(AB_USER, AB_PASSWORD)
    paid = hooks.post(
        "/v1/hooks/actblue",
        json=actblue_contribution(code, [(9001, "50.00"), (9002, "25.25")]),
        headers=auth,
    )
    assert paid.status_code == 200, paid.text
    assert paid.json()["data"]["counted"] == 2
    refunded = hooks.post(
        "/v1/hooks/actblue/refunds",
        json=actblue_contribution(code, [(9002, "25.25")]),
        headers=auth,
    )
    assert refunded.json()["data"]["counted"] == 1
    fund = ids_of(hooks, tokens)["fund"]
    totals = report(hooks, tokens, fund)["totals"]
    assert (totals["conversions"], totals["refunds"], totals["amounts"]) == (2, 1, {"USD": 5000})
    public = hooks.get("/v1/actions/fund").json()["data"]
    assert public["goal"] == {"kind": "amount", "target": 10_000, "currency": "USD"}
    assert public["progress"] == 5000

    wrong = hooks.post(
        "/v1/hooks/actblue",
        json=actblue_contribution(code, [(9003, "1.00")]),
        headers=basic(AB_USER, "not-the-password"),
    )
    assert wrong.status_code == 401
    nobody = hooks.post("/v1/hooks/actblue", json=actblue_contribution(code, [(9004, "1.00")]))
    assert nobody.status_code == 401


def test_standard_webhooks_signed_conversions_by_code_or_utm(hooks, engine, tokens):
    seed(engine)
    code = code_of(hooks, "fund", "follow-up", "newsletter")
    donation = {
        "type": "conversion.donation",
        "timestamp": "2026-06-01T12:00:00Z",
        "data": {"code": code, "amount": 1200, "currency": "JPY"},
    }
    assert hooks.post("/v1/hooks/standard", **signed(donation, "msg_1")).json()["data"] == {
        "counted": 1,
        "replayed": 0,
        "unmatched": 0,
        "ignored": 0,
    }
    signup = {
        "type": "conversion.submission",
        "data": {"utm": {"campaign": "signup", "content": "story", "medium": "social"}},
    }
    assert (
        hooks.post("/v1/hooks/standard", **signed(signup, "msg_2")).json()["data"]["counted"] == 1
    )
    other = {"type": "invoice.paid", "data": {}}
    assert hooks.post("/v1/hooks/standard", **signed(other, "msg_3")).json()["data"]["ignored"] == 1

    ids = ids_of(hooks, tokens)
    fund = report(hooks, tokens, ids["fund"])
    assert fund["totals"]["amounts"] == {"JPY": 1200}
    assert fund["by_article"][0]["article_slug"] == "follow-up"
    assert fund["by_placement"][0]["placement"] == "newsletter"
    signups = report(hooks, tokens, ids["signup"])
    assert signups["totals"]["conversions"] == 1
    assert signups["by_placement"][0]["placement"] == "social"


def test_a_bad_or_stale_signature_is_401_and_counts_nothing(hooks, engine, tokens):
    seed(engine)
    code = code_of(hooks, "fund", "story", "end")
    body = {"type": "conversion.donation", "data": {"code": code, "amount": 500, "currency": "USD"}}
    forged = signed(body, "msg_forged", secret="whsec_" + base64.b64encode(b"x" * 32).decode())
    assert hooks.post("/v1/hooks/standard", **forged).status_code == 401
    tampered = signed(body, "msg_tampered")
    tampered["content"] = tampered["content"].replace("500", "50000")
    assert hooks.post("/v1/hooks/standard", **tampered).status_code == 401
    stale = signed(body, "msg_stale")
    then = datetime.now(UTC) - timedelta(minutes=10)
    stale["headers"]["webhook-timestamp"] = str(int(then.timestamp()))
    stale["headers"]["webhook-signature"] = Webhook(STANDARD_SECRET).sign(
        "msg_stale", then, stale["content"]
    )
    assert hooks.post("/v1/hooks/standard", **stale).status_code == 401
    unsigned = hooks.post("/v1/hooks/standard", json=body)
    assert unsigned.status_code == 401
    assert report(hooks, tokens, ids_of(hooks, tokens)["fund"])["totals"]["conversions"] == 0


def test_replays_are_idempotent_by_provider_event_id(hooks, engine, tokens):
    seed(engine)
    source = code_of(hooks, "petition", "story", "end")
    refcode = code_of(hooks, "fund", "story", "end")
    deliveries = [
        ("/v1/hooks/actionnetwork", {"json": [action_network_signature(source, key="k1")],
                                     "params": {"secret": AN_SECRET}}),
        ("/v1/hooks/actblue", {"json": actblue_contribution(refcode, [(1, "10.00")]),
                               "headers": basic(AB_USER, AB_PASSWORD)}),
        ("/v1/hooks/actblue/refunds", {"json": actblue_contribution(refcode, [(1, "10.00")]),
                                       "headers": basic(AB_USER, AB_PASSWORD)}),
        ("/v1/hooks/standard", signed({"type": "conversion.signature",
                                       "data": {"code": source}}, "msg_once")),
    ]  # fmt: skip
    for path, request in deliveries:
        assert hooks.post(path, **request).json()["data"]["counted"] == 1, path
    before = {slug: report(hooks, tokens, i) for slug, i in ids_of(hooks, tokens).items()}
    for path, request in deliveries:
        assert hooks.post(path, **request).json()["data"] == {
            "counted": 0,
            "replayed": 1,
            "unmatched": 0,
            "ignored": 0,
        }, path
    after = {slug: report(hooks, tokens, i) for slug, i in ids_of(hooks, tokens).items()}
    assert after == before
    assert before["petition"]["totals"]["conversions"] == 2
    assert before["fund"]["totals"]["amounts"] == {"USD": 0}


def test_personal_data_is_dropped_at_the_door(hooks, engine, tokens, caplog):
    """Every provider's payload, full of names, emails, addresses and phones, goes in; then
    every row of every table and every log record is searched for each of those values."""
    seed(engine)
    caplog.set_level(logging.DEBUG)
    source = code_of(hooks, "petition", "story", "end")
    refcode = code_of(hooks, "fund", "story", "end")
    an_events = [
        action_network_signature(source, key="pii-1"),
        action_network_donation(source, "10.00", "USD", key="pii-2"),
    ]
    assert (
        hooks.post(f"/v1/hooks/actionnetwork?secret={AN_SECRET}", json=an_events).status_code == 200
    )
    ab = actblue_contribution(refcode, [(42, "5.00")])
    assert (
        hooks.post("/v1/hooks/actblue", json=ab, headers=basic(AB_USER, AB_PASSWORD)).status_code
        == 200
    )
    # Invalid payloads too: their errors must not echo what they were sent.
    broken = actblue_contribution(refcode, [(43, "five dollars")])
    assert (
        hooks.post(
            "/v1/hooks/actblue", json=broken, headers=basic(AB_USER, AB_PASSWORD)
        ).status_code
        == 422
    )
    bad_an = [{**action_network_donation(source, "1.001", "USD", key="pii-3")}]
    rejected = hooks.post(f"/v1/hooks/actionnetwork?secret={AN_SECRET}", json=bad_an)
    assert rejected.status_code == 422
    for answer in (rejected.text,):
        for value in PERSONAL:
            assert value not in answer
    report(hooks, tokens, ids_of(hooks, tokens)["fund"])

    rows = []
    with engine.connect() as connection:
        for table in inspect(engine).get_table_names():
            rows.extend(
                repr(tuple(r)) for r in connection.execute(text(f'SELECT * FROM "{table}"'))
            )
    stored = "\n".join(rows)
    logged = caplog.text + "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    for value in PERSONAL:
        assert value not in stored, f"{value!r} stored"
        assert value not in logged, f"{value!r} logged"
    assert "71f8feef" not in stored  # provider ids are kept only as digests
    assert source in stored and refcode in stored  # the grep did read the tables


def test_hooks_are_off_until_configured(client, engine):
    seed(engine)
    for path in ("actionnetwork", "actblue", "actblue/refunds", "standard"):
        response = client.post(f"/v1/hooks/{path}", json=[] if path == "actionnetwork" else {})
        assert response.status_code in (404, 422), path
    assert client.post("/v1/hooks/actionnetwork", json=[]).status_code == 404
    standard = client.post("/v1/hooks/standard", json={"type": "x", "data": {}})
    assert standard.status_code == 404


@pytest.mark.parametrize(
    "events",
    [
        [action_network_donation("story-end", "12.345", "USD", key="x")],
        [action_network_donation("story-end", "-5", "USD", key="x")],
        [action_network_donation("story-end", "5", "DOLLARS", key="x")],
        {"not": "an array"},
    ],
    ids=["too many decimals", "negative", "no currency", "not an array"],
)
def test_bad_action_network_payloads_are_422(hooks, engine, events):
    seed(engine)
    response = hooks.post(f"/v1/hooks/actionnetwork?secret={AN_SECRET}", json=events)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_report_ranges_and_article_impact(hooks, engine, tokens, app_clock):
    seed(engine)
    source = code_of(hooks, "petition", "story", "end")
    hooks.post(
        f"/v1/hooks/actionnetwork?secret={AN_SECRET}",
        json=[action_network_signature(source, key="day-1")],
    )
    app_clock(FIXED_NOW + timedelta(days=1))
    code_of(hooks, "petition", "story", "inline")
    code_of(hooks, "fund", "story", "inline")
    hooks.post(
        f"/v1/hooks/actionnetwork?secret={AN_SECRET}",
        json=[action_network_signature(source, key="day-2")],
    )
    ids = ids_of(hooks, tokens)
    today, tomorrow = FIXED_NOW.date(), (FIXED_NOW + timedelta(days=1)).date()
    whole = report(hooks, tokens, ids["petition"])
    assert [d["day"] for d in whole["by_day"]] == [today.isoformat(), tomorrow.isoformat()]
    assert whole["totals"]["clicks"] == 2 and whole["totals"]["conversions"] == 2
    second = report(hooks, tokens, ids["petition"], **{"from": tomorrow.isoformat()})
    assert (second["totals"]["clicks"], second["totals"]["conversions"]) == (1, 1)
    assert second["from"] == tomorrow.isoformat()
    first = report(hooks, tokens, ids["petition"], to=today.isoformat())
    assert [p["placement"] for p in first["by_placement"]] == ["end"]

    story = hooks.get("/v1/articles/story").json()["data"]["id"]
    impact = hooks.get(f"/v1/admin/articles/{story}/impact", headers=bearer(tokens["editor"]))
    assert impact.status_code == 200
    body = impact.json()
    assert {a["action_slug"]: a["clicks"] for a in body["by_action"]} == {"petition": 2, "fund": 1}
    assert body["totals"]["conversions"] == 2
    assert {p["placement"] for p in body["by_placement"]} == {"end", "inline"}

    editor = bearer(tokens["editor"])
    backwards = hooks.get(
        f"/v1/admin/actions/{ids['petition']}/report",
        params={"from": tomorrow.isoformat(), "to": today.isoformat()},
        headers=editor,
    )
    assert backwards.status_code == 422
    assert hooks.get(f"/v1/admin/actions/{ids['petition']}/report").status_code == 401
    contributor = bearer(tokens["contributor"])
    assert hooks.get(f"/v1/admin/articles/{story}/impact", headers=contributor).status_code == 403
    missing = "0" * 32
    assert hooks.get(f"/v1/admin/actions/{missing}/report", headers=editor).status_code == 404
    assert hooks.get(f"/v1/admin/articles/{missing}/impact", headers=editor).status_code == 404


def test_reports_take_a_fixed_number_of_statements(hooks, engine, tokens, count_statements):
    seed(engine)
    ids = ids_of(hooks, tokens)
    counts = []
    for placement in ("end", "inline", "banner"):
        for article_slug in ("story", "follow-up"):
            code_of(hooks, "petition", article_slug, placement)
        with count_statements() as counter:
            report(hooks, tokens, ids["petition"])
        counts.append(counter.count)
    assert counts[0] == counts[-1], counts


def test_a_changed_goal_recounts_progress_and_reaching_it_can_close(hooks, engine, tokens):
    seed(engine)
    code = code_of(hooks, "fund", "story", "end")
    auth = basic(AB_USER, AB_PASSWORD)
    hooks.post("/v1/hooks/actblue", json=actblue_contribution(code, [(7, "60.00")]), headers=auth)
    hooks.post("/v1/hooks/actblue", json=actblue_contribution(code, [(8, "40.00")]), headers=auth)
    assert hooks.get("/v1/actions/fund").json()["data"]["progress"] == 10_000
    fund = ids_of(hooks, tokens)["fund"]
    editor = bearer(tokens["editor"])
    current = hooks.get(f"/v1/admin/actions/{fund}", headers=editor)
    changed = hooks.patch(
        f"/v1/admin/actions/{fund}",
        json={"goal": {"kind": "signatures", "target": 2}, "close_on_goal": True},
        headers={**editor, "If-Match": current.headers["etag"]},
    )
    assert changed.status_code == 200, changed.text
    data = changed.json()["data"]
    assert (data["progress"], data["progress_counted"], data["active"]) == (2, 2, False)
    public = hooks.get("/v1/actions/fund").json()["data"]
    assert (public["goal"], public["progress"]) == (
        {"kind": "signatures", "target": 2, "currency": None},
        2,
    )
    assert "fund" not in [a["slug"] for a in hooks.get("/v1/actions").json()["data"]]
    closed = hooks.get("/v1/actions/fund/go?from=story", follow_redirects=False)
    assert closed.status_code == 410
    assert closed.headers["content-type"] == "application/problem+json"


def test_hooks_need_no_content_key_when_the_public_api_does(settings, engine):
    seed(engine)
    required = settings.model_copy(
        update={"content_keys_required": True, "hook_actionnetwork_secret": AN_SECRET}
    )
    app = create_app(required, engine=engine)
    app.state.clock = lambda: FIXED_NOW
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/v1/actions").status_code == 401
        events = [action_network_signature("story-end", key="no-key")]
        answer = client.post(f"/v1/hooks/actionnetwork?secret={AN_SECRET}", json=events)
        assert answer.status_code == 200, answer.text
        assert answer.json()["data"]["unmatched"] == 1


@pytest.fixture
def app_clock(hooks):
    def set_clock(moment: datetime) -> None:
        hooks.app.state.clock = lambda: moment

    return set_clock

"""Goals and progress (issue 16, item 3): in the public shape, set by editors, closing an
action when configured; carried by the bundle."""

from datetime import timedelta

import pytest

from tests.auth.tokens import bearer
from tests.conftest import FIXED_NOW
from tests.factories import action, article, bundle, iso, load

GOAL = {"kind": "signatures", "target": 1000, "currency": None}


def create(client, tokens, **fields):
    return client.post(
        "/v1/admin/actions",
        json={"title": "Sign", "url": "https://act.example.org/sign", **fields},
        headers=bearer(tokens["editor"]),
    )


def test_public_shape_shows_goal_and_progress(client, engine):
    load(
        engine,
        bundle(
            actions=[
                action("petition", goal=GOAL),
                action("paper", goal=GOAL, progress_override=420),
                action("plain"),
            ]
        ),
    )
    shown = {a["slug"]: a for a in client.get("/v1/actions").json()["data"]}
    assert (shown["petition"]["goal"], shown["petition"]["progress"]) == (GOAL, 0)
    assert shown["paper"]["progress"] == 420
    assert (shown["plain"]["goal"], shown["plain"]["progress"]) == (None, None)
    assert "progress_override" not in shown["paper"] and "attribution" not in shown["paper"]
    sparse = client.get("/v1/actions/paper?fields=slug,goal,progress").json()["data"]
    assert {k: v for k, v in sparse.items() if k != "id"} == {
        "slug": "paper",
        "goal": GOAL,
        "progress": 420,
    }


def test_reaching_the_goal_closes_an_action_only_when_configured(client, engine):
    load(
        engine,
        bundle(
            actions=[
                action("closes", goal=GOAL, close_on_goal=True, progress_override=1000),
                action("stays", goal=GOAL, progress_override=5000),
                action("short", goal=GOAL, close_on_goal=True, progress_override=999),
                action("ended", ends_at=iso(FIXED_NOW - timedelta(hours=1))),
            ],
            articles=[article("story", actions=["closes", "stays"])],
        ),
    )
    listed = [a["slug"] for a in client.get("/v1/actions").json()["data"]]
    assert sorted(listed) == ["short", "stays"]
    closed = [a["slug"] for a in client.get("/v1/actions?active=false").json()["data"]]
    assert sorted(closed) == ["closes", "ended"]
    assert client.get("/v1/actions/closes").json()["data"]["active"] is False
    for slug in ("closes", "ended"):
        response = client.get(f"/v1/actions/{slug}/go?from=story", follow_redirects=False)
        assert response.status_code == 410, slug
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["title"] == "Action closed"
    for slug in ("stays", "short"):
        assert client.get(f"/v1/actions/{slug}/go", follow_redirects=False).status_code == 302
    embedded = client.get("/v1/articles/story?include=actions").json()["data"]["actions"]
    assert {a["slug"]: a["active"] for a in embedded} == {"closes": False, "stays": True}


@pytest.mark.parametrize(
    ("fields", "loc"),
    [
        ({"goal": {"kind": "amount", "target": 5000}}, ["body", "goal"]),
        ({"goal": {"kind": "signatures", "target": 10, "currency": "EUR"}}, ["body", "goal"]),
        (
            {"goal": {"kind": "amount", "target": 10, "currency": "eur"}},
            ["body", "goal", "currency"],
        ),
        (
            {"goal": {"kind": "amount", "target": 10, "currency": "ABC"}},
            ["body", "goal", "currency"],
        ),
        ({"goal": {"kind": "signatures", "target": 0}}, ["body", "goal", "target"]),
        ({"goal": {"kind": "votes", "target": 10}}, ["body", "goal", "kind"]),
        ({"goal": {"kind": "signatures", "target": 10, "extra": 1}}, ["body", "goal", "extra"]),
        ({"close_on_goal": True}, ["body"]),
        ({"progress_override": -1}, ["body", "progress_override"]),
    ],
    ids=[
        "amount without currency",
        "signatures with currency",
        "lowercase currency",
        "unknown currency",
        "zero target",
        "unknown kind",
        "unknown goal field",
        "close without goal",
        "negative progress",
    ],
)
def test_bad_goals_are_422(client, engine, tokens, fields, loc):
    response = create(client, tokens, **fields)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == loc


def test_editors_set_a_goal_and_their_own_figure(client, engine, tokens):
    created = create(client, tokens, goal={"kind": "amount", "target": 500_000, "currency": "EUR"})
    assert created.status_code == 201, created.text
    data = created.json()["data"]
    assert data["goal"] == {"kind": "amount", "target": 500_000, "currency": "EUR"}
    assert (data["progress"], data["progress_counted"], data["close_on_goal"]) == (0, 0, False)
    path = f"/v1/admin/actions/{data['id']}"
    changed = client.patch(
        path,
        json={"progress_override": 612_345, "close_on_goal": True},
        headers={**bearer(tokens["editor"]), "If-Match": created.headers["etag"]},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["data"]["progress"] == 612_345
    assert client.get(f"/v1/actions/{data['slug']}").json()["data"]["active"] is False
    again = client.get(path, headers=bearer(tokens["editor"]))
    removed = client.patch(
        path,
        json={"goal": None, "close_on_goal": False, "progress_override": None},
        headers={**bearer(tokens["editor"]), "If-Match": again.headers["etag"]},
    )
    assert removed.status_code == 200, removed.text
    assert (removed.json()["data"]["goal"], removed.json()["data"]["progress"]) == (None, None)


def test_bundle_carries_attribution_and_goal(client, engine, tokens):
    fields = {
        "attribution": "refcode",
        "attribution_template": "mh-{article}",
        "goal": {"kind": "amount", "target": 100_000, "currency": "USD"},
        "close_on_goal": True,
        "progress_override": 2500,
    }
    load(engine, bundle(actions=[action("fund", **fields)]))
    editor = bearer(tokens["editor"])
    exported = client.get("/v1/admin/export", headers=editor).json()
    (item,) = exported["actions"]
    assert {name: item[name] for name in fields} == fields
    before = client.get("/v1/actions/fund").json()
    again = client.post("/v1/admin/import", json=exported, headers=editor)
    assert again.status_code == 200, again.text
    assert client.get("/v1/actions/fund").json() == before
    # An old bundle without the fields leaves them as they are.
    old = {k: v for k, v in item.items() if k not in fields}
    assert (
        client.post(
            "/v1/admin/import", json={**exported, "actions": [old]}, headers=editor
        ).status_code
        == 200
    )
    assert client.get("/v1/actions/fund").json()["data"]["progress"] == 2500

"""The tracked redirect carries the citing article and placement to the destination in the
parameter the destination reads, counts clicks and distinct readers per action, article,
placement and day, and keeps nothing that names a reader (issue 16, item 1)."""

from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from sqlalchemy import inspect, select, text

from api.actions.models import ActionClick, AttributionCode, ReaderSalt, ReaderSighting
from tests.actions.receiver import receiver
from tests.auth.tokens import bearer
from tests.conftest import FIXED_NOW
from tests.factories import action, article, bundle, load

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) MastheadTest/1.0"


def seed(engine, *actions):
    load(
        engine,
        bundle(
            actions=list(actions),
            articles=[
                article("story", days_ago=2, actions=[a["slug"] for a in actions]),
                article("other-story", days_ago=1),
                article("a-draft", status="draft"),
            ],
        ),
    )


def go(client, slug, **params):
    return client.get(
        f"/v1/actions/{slug}/go",
        params=params,
        headers={"User-Agent": BROWSER},
        follow_redirects=False,
    )


def query_of(location):
    return dict(parse_qsl(urlsplit(location).query))


def test_a_click_arrives_at_the_destination_with_its_refcode(client, engine):
    """Followed like a browser would: the 302 of go_url, then the destination itself, a
    real HTTP server on loopback, which sees ActBlue's `refcode` and no referrer."""
    with receiver() as destination:
        seed(
            engine,
            action(
                "fund",
                kind="donation",
                url=f"{destination.origin}/donate/masthead?amount=25",
                attribution="refcode",
            ),
        )
        go_url = client.get("/v1/actions/fund").json()["data"]["go_url"]
        mounts = {
            "http://testserver": client._transport,
            destination.origin: httpx.HTTPTransport(),
        }
        with httpx.Client(mounts=mounts, follow_redirects=True) as browser:
            response = browser.get(
                go_url,
                params={"from": "story", "placement": "end"},
                headers={"User-Agent": BROWSER, "Referer": "http://testserver/story"},
            )
        assert response.status_code == 200
        assert response.text == "thank you"
        hop = response.history[0]
        assert hop.status_code == 302
        assert hop.headers["referrer-policy"] == "no-referrer"
        assert hop.headers["cache-control"] == "no-store"
        assert "set-cookie" not in hop.headers
    (arrived,) = destination.requests
    assert arrived.path == "/donate/masthead?amount=25&refcode=story-end"


def test_action_network_gets_source_made_from_the_template(client, engine):
    with receiver() as destination:
        seed(
            engine,
            action(
                "petition",
                url=f"{destination.origin}/petitions/free-them",
                attribution="source",
                attribution_template="mh_{action}_{article}_{placement}",
            ),
        )
        mounts = {"http://testserver": client._transport, destination.origin: httpx.HTTPTransport()}
        with httpx.Client(mounts=mounts, follow_redirects=True) as browser:
            browser.get("http://testserver/v1/actions/petition/go?from=story&placement=newsletter")
    (arrived,) = destination.requests
    assert query_of(arrived.path) == {"source": "mh_petition_story_newsletter"}


def test_utm_parameters_name_site_placement_action_and_article(client, engine):
    seed(
        engine,
        action(
            "petition", url="https://act.example.org/p?ref=keep&utm_source=old", attribution="utm"
        ),
    )
    response = go(client, "petition", **{"from": "story", "placement": "banner"})
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith("https://act.example.org/p?ref=keep&")
    assert query_of(location) == {
        "ref": "keep",
        "utm_source": "testserver",
        "utm_medium": "banner",
        "utm_campaign": "petition",
        "utm_content": "story",
    }


def test_the_destinations_own_query_and_fragment_are_kept(client, engine):
    seed(
        engine,
        action(
            "fund",
            url="https://secure.actblue.example/donate/x?amount=25&refcode=stale&q=a%20b#give",
            attribution="refcode",
        ),
    )
    location = go(client, "fund", **{"from": "story", "placement": "inline"}).headers["location"]
    assert location == (
        "https://secure.actblue.example/donate/x?amount=25&q=a%20b&refcode=story-inline#give"
    )


def test_no_attribution_without_a_published_article_or_without_a_kind(client, engine):
    seed(
        engine,
        action("fund", url="https://give.example/f", attribution="refcode"),
        action("plain", url="https://give.example/p"),
    )
    for params in ({}, {"from": "a-draft"}, {"from": "never-written", "placement": "end"}):
        assert go(client, "fund", **params).headers["location"] == "https://give.example/f"
    assert go(client, "plain", **{"from": "story"}).headers["location"] == "https://give.example/p"


def test_pages_cite_actions_too(client, engine):
    load(
        engine,
        bundle(
            actions=[action("fund", url="https://give.example/f", attribution="refcode")],
            articles=[article("about", kind="page", days_ago=3)],
        ),
    )
    location = go(client, "fund", **{"from": "about", "placement": "sidebar"}).headers["location"]
    assert location == "https://give.example/f?refcode=about-sidebar"


@pytest.mark.parametrize(
    "params",
    [
        {"placement": "footer"},
        {"placement": ""},
        {"from": "Not A Slug"},
        {"from": "x" * 201},
        {"from": "story", "utm": "1"},
    ],
    ids=["unknown placement", "empty placement", "bad slug", "long slug", "unknown parameter"],
)
def test_bad_parameters_are_422_problems(client, engine, params):
    seed(engine, action("fund", attribution="refcode"))
    response = go(client, "fund", **params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["loc"][0] == "query"


def test_clicks_counted_per_article_placement_and_day_with_distinct_readers(
    client, engine, session
):
    seed(engine, action("fund", attribution="refcode"))
    for _ in range(3):
        go(client, "fund", **{"from": "story", "placement": "end"})
    go(client, "fund", **{"from": "story", "placement": "inline"})
    client.get(
        "/v1/actions/fund/go?from=story&placement=end",
        headers={"User-Agent": "AnotherBrowser/2"},
        follow_redirects=False,
    )
    go(client, "fund", **{"from": "a-draft"})
    ids = dict(session.execute(text("SELECT slug, id FROM articles")).all())
    rows = session.execute(
        select(
            ActionClick.article_id, ActionClick.placement, ActionClick.clicks, ActionClick.readers
        )
    ).all()
    assert sorted(rows) == sorted(
        [
            (ids["story"], "end", 4, 2),
            (ids["story"], "inline", 1, 1),
            ("", "other", 1, 1),
        ]
    )
    assert {row.day for row in session.scalars(select(ActionClick))} == {FIXED_NOW.date()}


def test_nothing_stored_names_the_reader(client, engine, session):
    """No address, no user agent, no cookie: only digests of today's salt."""
    seed(engine, action("fund", attribution="refcode"))
    response = client.get(
        "/v1/actions/fund/go?from=story&placement=end",
        headers={"User-Agent": BROWSER, "X-Forwarded-For": "203.0.113.77"},
        follow_redirects=False,
    )
    assert response.status_code == 302
    assert "set-cookie" not in response.headers
    assert not client.cookies
    dump = []
    for table in inspect(engine).get_table_names():
        dump.extend(str(row) for row in session.execute(text(f'SELECT * FROM "{table}"')))
    everything = "\n".join(dump)
    for personal in ("testclient", "203.0.113.77", "MastheadTest", "Mozilla"):
        assert personal not in everything
    (sighting,) = session.scalars(select(ReaderSighting)).all()
    assert len(sighting.digest) == 32


def test_the_salt_is_forgotten_the_next_day_and_readers_count_anew(client, engine, app, session):
    seed(engine, action("fund", attribution="refcode"))
    go(client, "fund", **{"from": "story", "placement": "end"})
    go(client, "fund", **{"from": "story", "placement": "end"})
    first_salt = session.scalar(select(ReaderSalt.salt))
    session.rollback()  # a new snapshot for the next reads
    app.state.clock = lambda: FIXED_NOW + timedelta(days=1)
    go(client, "fund", **{"from": "story", "placement": "end"})
    salts = session.execute(select(ReaderSalt.day, ReaderSalt.salt)).all()
    assert [day for day, _ in salts] == [(FIXED_NOW + timedelta(days=1)).date()]
    assert salts[0][1] != first_salt
    assert {s.day for s in session.scalars(select(ReaderSighting))} == {salts[0][0]}
    by_day = dict(session.execute(select(ActionClick.day, ActionClick.readers)).all())
    assert by_day == {FIXED_NOW.date(): 1, (FIXED_NOW + timedelta(days=1)).date(): 1}


def test_head_on_go_counts_nothing(client, engine, session):
    seed(engine, action("fund", attribution="refcode"))
    response = client.head("/v1/actions/fund/go?from=story&placement=end", follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"] == "https://act.example.org/fund?refcode=story-end"
    for model in (ActionClick, ReaderSighting, ReaderSalt, AttributionCode):
        assert session.scalars(select(model)).all() == [], model.__name__


def test_codes_are_matched_by_lookup_and_never_shared_between_actions(client, engine, session):
    seed(
        engine,
        action("fund-a", attribution="refcode"),
        action("fund-b", attribution="refcode"),
        action("long", attribution="source", attribution_template="{article}" * 11),
    )
    code_a = query_of(go(client, "fund-a", **{"from": "story"}).headers["location"])["refcode"]
    code_b = query_of(go(client, "fund-b", **{"from": "story"}).headers["location"])["refcode"]
    again = query_of(go(client, "fund-b", **{"from": "story"}).headers["location"])["refcode"]
    long = query_of(go(client, "long", **{"from": "other-story"}).headers["location"])["source"]
    assert code_a == "story-other"
    assert code_b.startswith("story-other-") and code_b != code_a and again == code_b
    assert len(long) == 64
    owners = {c.code: c.action_id for c in session.scalars(select(AttributionCode))}
    ids = dict(session.execute(text("SELECT slug, id FROM actions")).all())
    assert owners == {code_a: ids["fund-a"], code_b: ids["fund-b"], long: ids["long"]}


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{article}-{person}", "unknown placeholder {person}"),
        ("{article} {placement}", "only letters"),
        ("{article}&x=1", "only letters"),
        ("x" * 101, "1 to 100"),
        ("", "1 to 100"),
    ],
)
def test_bad_templates_are_422_naming_the_field(client, engine, tokens, template, message):
    response = client.post(
        "/v1/admin/actions",
        json={
            "title": "Give",
            "url": "https://give.example/",
            "attribution": "refcode",
            "attribution_template": template,
        },
        headers=bearer(tokens["editor"]),
    )
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["loc"] == ["body", "attribution_template"]
    assert message in error["msg"]


def test_editors_set_and_see_the_attribution(client, engine, tokens):
    created = client.post(
        "/v1/admin/actions",
        json={
            "title": "Give",
            "url": "https://give.example/",
            "attribution": "source",
            "attribution_template": "{placement}_{article}",
        },
        headers=bearer(tokens["editor"]),
    )
    assert created.status_code == 201, created.text
    data = created.json()["data"]
    assert (data["attribution"], data["attribution_template"]) == (
        "source",
        "{placement}_{article}",
    )
    bad = client.post(
        "/v1/admin/actions",
        json={"title": "Give", "url": "https://give.example/", "attribution": "cookie"},
        headers=bearer(tokens["editor"]),
    )
    assert bad.status_code == 422

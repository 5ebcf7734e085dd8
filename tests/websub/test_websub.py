"""WebSub (issue 17, item 5): with a hub set, every topic feed links to it and names itself;
each change to a published article pings the hub for the feeds it was and is in, through
the durable outbox, retried with backoff; nothing at all without the setting."""

import asyncio
from datetime import timedelta
from xml.etree import ElementTree

import feedparser
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.core.settings import SettingsError, load_settings
from api.main import create_app
from api.webhooks.delivery import make_client
from api.websub.models import WebSubPing
from api.websub.worker import run_websub_worker, websub_pass
from tests.conftest import FIXED_NOW
from tests.factories import article, bundle, iso, load, source, tag
from tests.websub.conftest import websub_settings

BASE = "http://testserver/feeds"
ATOM = "{http://www.w3.org/2005/Atom}link"


def feed_urls(*keys):
    return {
        f"{BASE}/{name}" + (f"?{key}" if key else "")
        for key in keys
        for name in ("rss.xml", "atom.xml", "feed.json")
    }


def seed(engine, *articles):
    load(
        engine,
        bundle(
            tags=[tag("rights"), tag("russia")],
            sources=[source("hrw")],
            articles=list(articles),
        ),
    )


def create(client, as_, **fields):
    body = {"title": "Purge", "body_markdown": "Words.", **fields}
    response = client.post("/v1/admin/articles", json=body, headers=as_("editor"))
    assert response.status_code == 201, response.text
    return response.json()["data"]


def publish(client, as_, article_id, at=None):
    response = client.post(
        f"/v1/admin/articles/{article_id}/publish",
        json={"published_at": iso(at)} if at else None,
        headers=as_("editor"),
    )
    assert response.status_code == 200, response.text


def etag(client, as_, article_id):
    return client.get(f"/v1/admin/articles/{article_id}", headers=as_("editor")).headers["ETag"]


def rss_links(content):
    channel = ElementTree.fromstring(content).find("channel")
    return {link.get("rel"): link.get("href") for link in channel.iter(ATOM)}


@pytest.mark.parametrize("query", ["", "?tag=rights", "?source=hrw"])
def test_every_topic_feed_links_the_hub_and_names_itself(client, engine, hub, query):
    seed(engine, article("story", tags=["rights"], sources=[{"source": "hrw"}]))
    sep = "&" if query else "?"
    rss = client.get(f"/feeds/rss.xml{query}{sep}limit=5")
    assert rss_links(rss.content) == {"self": f"{BASE}/rss.xml{query}", "hub": hub.url}
    atom = feedparser.parse(client.get(f"/feeds/atom.xml{query}").content)
    assert not atom.bozo, atom.get("bozo_exception")
    links = {link.rel: link.href for link in atom.feed.links}
    assert links["hub"] == hub.url and links["self"] == f"{BASE}/atom.xml{query}"
    assert links["alternate"] == "http://testserver/"
    parsed_rss = feedparser.parse(rss.content)
    assert not parsed_rss.bozo and parsed_rss.feed.link == "http://testserver/"
    json_feed = client.get(f"/feeds/feed.json{query}").json()
    assert json_feed["hubs"] == [{"type": "WebSub", "url": hub.url}]
    assert json_feed["feed_url"] == f"{BASE}/feed.json{query}"


@pytest.mark.parametrize("query", ["?tag=rights,russia", "?tag=rights&source=hrw"])
def test_feeds_no_one_pings_for_name_no_hub(client, engine, hub, query):
    seed(engine, article("story", tags=["rights"]))
    assert "hub" not in rss_links(client.get(f"/feeds/rss.xml{query}").content)
    assert "hubs" not in client.get(f"/feeds/feed.json{query}").json()


def test_without_the_setting_no_hub_and_no_ping(engine, hub, as_):
    app = create_app(websub_settings(engine, None), engine=engine)
    app.state.clock = lambda: FIXED_NOW
    with TestClient(app) as client:
        seed(engine, article("story", tags=["rights"]))
        assert "hub" not in rss_links(client.get("/feeds/rss.xml").content)
        assert "hubs" not in client.get("/feeds/feed.json").json()
        with make_client() as http:
            assert websub_pass(app.state.sessionmaker, app.state.settings, FIXED_NOW, http) == []
            publish(client, as_, create(client, as_, tags=["rights"])["id"])
            assert websub_pass(app.state.sessionmaker, app.state.settings, FIXED_NOW, http) == []
    assert hub.pings == []
    with app.state.sessionmaker() as session:
        assert session.scalars(select(WebSubPing)).all() == []


def test_the_hub_needs_the_public_url():
    with pytest.raises(SettingsError, match="MASTHEAD_WEBSUB_HUB"):
        load_settings(websub_hub="https://hub.example/", public_url=None)
    with pytest.raises(SettingsError, match="MASTHEAD_WEBSUB_HUB"):
        load_settings(websub_hub="ftp://hub.example/", public_url="https://news.example")


def test_publishing_pings_every_feed_the_article_is_in(client, engine, as_, hub, run_pass):
    seed(engine)
    assert run_pass() == []  # the first pass: nothing changed since the hub was set
    story = create(client, as_, tags=["rights"], sources=[{"source": "hrw"}])
    assert run_pass() == [] and hub.pings == []  # a draft is in no feed
    publish(client, as_, story["id"])

    outcomes = run_pass()

    assert all(o.succeeded for o in outcomes) and len(outcomes) == 9
    assert hub.topics() == feed_urls("", "tag=rights", "source=hrw")
    for ping in hub.pings:
        assert ping.path == "/hub"
        assert ping.content_type == "application/x-www-form-urlencoded"
        assert set(ping.form) == {"hub.mode", "hub.url"}
        assert ping.form["hub.mode"] == ["publish"]
    # Each feed URL's ping is one row, sent.
    with client.app.state.sessionmaker() as session:
        rows = session.scalars(select(WebSubPing)).all()
    assert sorted(r.topic for r in rows) == sorted(hub.topics())
    assert {r.status for r in rows} == {"sent"}
    assert run_pass(FIXED_NOW + timedelta(minutes=1)) == []  # nothing new, nothing twice


def test_an_update_pings_the_feeds_before_and_after_the_change(client, engine, as_, hub, run_pass):
    seed(engine)
    run_pass()
    story = create(client, as_, tags=["rights"])
    publish(client, as_, story["id"])
    run_pass()
    hub.pings.clear()
    headers = {**as_("editor"), "If-Match": etag(client, as_, story["id"])}
    moved = client.patch(
        f"/v1/admin/articles/{story['id']}", json={"tags": ["russia"]}, headers=headers
    )
    assert moved.status_code == 200

    run_pass()

    assert hub.topics() == feed_urls("", "tag=rights", "tag=russia")


@pytest.mark.parametrize("how", ["unpublish", "delete", "correct"])
def test_unpublishing_deleting_and_correcting_ping(client, engine, as_, hub, run_pass, how):
    seed(engine)
    run_pass()
    story = create(client, as_, sources=[{"source": "hrw"}])
    publish(client, as_, story["id"])
    run_pass()
    hub.pings.clear()
    url = f"/v1/admin/articles/{story['id']}"
    if how == "unpublish":
        response = client.post(f"{url}/unpublish", headers=as_("editor"))
    elif how == "delete":
        response = client.delete(url, headers=as_("editor"))
    else:
        note = {"kind": "correction", "text": "A date was wrong."}
        response = client.post(f"{url}/corrections", json=note, headers=as_("editor"))
    assert response.status_code in (200, 201), response.text

    run_pass()

    assert hub.topics() == feed_urls("", "source=hrw")


def test_edits_of_drafts_ping_nothing(client, engine, as_, hub, run_pass):
    seed(engine)
    run_pass()
    draft = create(client, as_, tags=["rights"])
    headers = {**as_("editor"), "If-Match": etag(client, as_, draft["id"])}
    client.patch(f"/v1/admin/articles/{draft['id']}", json={"title": "Again"}, headers=headers)
    assert run_pass() == [] and hub.pings == []


def test_a_scheduled_article_pings_when_its_time_comes(client, engine, as_, hub, run_pass):
    seed(engine)
    run_pass()
    later = FIXED_NOW + timedelta(hours=2)
    publish(client, as_, create(client, as_, tags=["russia"])["id"], at=later)
    assert run_pass() == []
    run_pass(later - timedelta(seconds=1))
    assert hub.pings == []
    run_pass(later + timedelta(seconds=1))
    assert hub.topics() == feed_urls("", "tag=russia")


def test_imports_ping_too(client, engine, as_, hub, run_pass):
    run_pass()
    seed(engine, article("imported", tags=["rights"]))
    run_pass()
    assert hub.topics() == feed_urls("", "tag=rights")


def test_several_changes_before_a_pass_ping_each_feed_once(client, engine, as_, hub, run_pass):
    seed(engine)
    run_pass()
    for title in ("One", "Two", "Three"):
        publish(client, as_, create(client, as_, title=title, tags=["rights"])["id"])
    run_pass()
    assert len(hub.pings) == len(hub.topics()) == 6


def test_a_failed_ping_is_retried_with_backoff(client, engine, as_, hub, run_pass):
    seed(engine)
    run_pass()
    publish(client, as_, create(client, as_)["id"])
    hub.statuses = [500] * 3  # the first ping of each format fails

    first = run_pass()

    assert [o.status_code for o in first] == [500, 500, 500]
    assert {o.error for o in first} == {"HTTP 500"}
    with client.app.state.sessionmaker() as session:
        rows = session.scalars(select(WebSubPing)).all()
    assert {(r.status, r.attempts) for r in rows} == {("pending", 1)}
    assert all(r.next_attempt_at >= FIXED_NOW + timedelta(seconds=30) for r in rows)
    assert run_pass(FIXED_NOW + timedelta(seconds=10)) == []  # not due yet
    retried = run_pass(FIXED_NOW + timedelta(minutes=2))
    assert [o.status_code for o in retried] == [204, 204, 204]
    assert sorted(p.form["hub.url"][0] for p in hub.pings[3:]) == sorted(feed_urls(""))
    assert hub.topics() == feed_urls("")


def test_a_hub_that_keeps_failing_is_given_up_until_the_next_change(
    client, engine, as_, hub, run_pass
):
    seed(engine)
    run_pass()
    story = create(client, as_)
    publish(client, as_, story["id"])
    hub.statuses = [500] * 9  # three attempts (the setting) of three feed URLs
    for minutes in (0, 2, 10):
        run_pass(FIXED_NOW + timedelta(minutes=minutes))
    with client.app.state.sessionmaker() as session:
        assert {r.status for r in session.scalars(select(WebSubPing))} == {"failed"}
    assert run_pass(FIXED_NOW + timedelta(hours=3)) == []
    client.post(f"/v1/admin/articles/{story['id']}/unpublish", headers=as_("editor"))
    assert [o.status_code for o in run_pass(FIXED_NOW + timedelta(hours=3))] == [204] * 3


def test_a_loopback_hub_is_refused_without_the_test_relaxation(engine, as_, hub):
    settings = websub_settings(engine, hub, webhook_allow_private=False)
    app = create_app(settings, engine=engine)
    app.state.clock = lambda: FIXED_NOW
    with TestClient(app) as client, make_client() as http:
        seed(engine)
        websub_pass(app.state.sessionmaker, settings, FIXED_NOW, http)
        publish(client, as_, create(client, as_)["id"])
        outcomes = websub_pass(app.state.sessionmaker, settings, FIXED_NOW, http)
    assert len(outcomes) == 3
    assert all(o.error and o.error.startswith("refused: 127.0.0.1 resolves to") for o in outcomes)
    assert hub.pings == []


def test_the_background_worker_pings(client, app, engine, as_, hub, run_pass):
    seed(engine)
    run_pass()
    publish(client, as_, create(client, as_)["id"])

    async def run_worker_until_pinged() -> None:
        stop = asyncio.Event()
        worker = asyncio.create_task(run_websub_worker(app, stop))
        arrived = await asyncio.to_thread(hub.wait_for, 3, 30)
        stop.set()
        await asyncio.wait_for(worker, 30)
        assert arrived

    asyncio.run(run_worker_until_pinged())
    assert hub.topics() == feed_urls("")

"""The response cache is correct before it is fast: never stale, byte-identical."""

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from api.core.settings import load_settings
from api.main import create_app
from tests.conftest import FIXED_NOW
from tests.factories import action, article, bundle, iso, load, tag

URLS = [
    "/v1/articles",
    "/v1/articles?include=sources,actions&fields=slug,title,tags,sources,actions",
    "/v1/articles/story-1",
    "/v1/articles/story-1/related",
    "/v1/tags",
    "/v1/tags/rights",
    "/v1/actions?active=all",
    "/v1/search?q=body",
    "/feeds/rss.xml",
    "/feeds/feed.json",
]


def seed(engine, title="Story One"):
    load(
        engine,
        bundle(
            tags=[tag("rights")],
            actions=[action("petition")],
            articles=[
                article("story-1", title=title, tags=["rights"], actions=["petition"]),
                article("story-2", days_ago=2, tags=["rights"]),
                article(
                    "scheduled",
                    published_at=iso(FIXED_NOW + timedelta(hours=1)),
                    tags=["rights"],
                ),
            ],
        ),
    )


def make_client(engine, *, cache: bool, clock=lambda: FIXED_NOW):
    settings = load_settings(
        database_url=engine.url.render_as_string(hide_password=False),
        public_url="http://testserver",
        response_cache=cache,
    )
    app = create_app(settings, engine=engine)
    app.state.clock = clock
    return app, TestClient(app)


@pytest.mark.parametrize("gzip", [False, True])
def test_cached_responses_equal_uncached_byte_for_byte(engine, gzip):
    seed(engine)
    headers = {"Accept-Encoding": "gzip" if gzip else "identity"}
    cached_app, cached = make_client(engine, cache=True)
    _, uncached = make_client(engine, cache=False)
    for url in URLS:
        cold = cached.get(url, headers=headers)
        hot = cached.get(url, headers=headers)
        reference = uncached.get(url, headers=headers)
        assert cold.status_code == hot.status_code == reference.status_code == 200, url
        assert hot.content == cold.content == reference.content, url
        for name in ("etag", "content-type", "cache-control", "surrogate-key", "link"):
            assert hot.headers.get(name) == reference.headers.get(name), (url, name)
    assert cached_app.state.cache_stats.hits == len(URLS)
    assert cached_app.state.cache_stats.misses == len(URLS)


def test_a_hit_answers_if_none_match_with_304(engine):
    seed(engine)
    app, client = make_client(engine, cache=True)
    etag = client.get("/v1/articles").headers["etag"]
    revalidated = client.get("/v1/articles", headers={"If-None-Match": etag})
    assert revalidated.status_code == 304
    assert revalidated.content == b""
    assert revalidated.headers["etag"] == etag
    assert app.state.cache_stats.hits == 1


def test_a_write_is_visible_at_once_even_to_a_stale_etag(engine):
    seed(engine)
    _, client = make_client(engine, cache=True)
    before = client.get("/v1/articles/story-1")
    assert before.json()["data"]["title"] == "Story One"
    seed(engine, title="Story One, Corrected")
    after = client.get("/v1/articles/story-1", headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    assert after.json()["data"]["title"] == "Story One, Corrected"
    assert after.headers["etag"] != before.headers["etag"]


def test_two_workers_never_serve_older_than_the_database(engine):
    seed(engine)
    _, first = make_client(engine, cache=True)
    _, second = make_client(engine, cache=True)
    for client in (first, second):
        client.get("/v1/articles")
        assert client.get("/v1/articles").json()["data"][0]["title"] == "Story One"
    seed(engine, title="Changed Through Another Worker")
    for client in (first, second):
        assert client.get("/v1/articles").json()["data"][0]["title"] == (
            "Changed Through Another Worker"
        )


def test_the_clock_alone_expires_entries_when_a_scheduled_article_appears(engine):
    seed(engine)
    now = [FIXED_NOW]
    _, client = make_client(engine, cache=True, clock=lambda: now[0])
    assert "scheduled" not in [a["slug"] for a in client.get("/v1/articles").json()["data"]]
    assert client.get("/v1/tags/rights").json()["data"]["article_count"] == 2
    now[0] = FIXED_NOW + timedelta(hours=2)
    assert client.get("/v1/articles").json()["data"][0]["slug"] == "scheduled"
    assert client.get("/v1/tags/rights").json()["data"]["article_count"] == 3


def test_an_action_closing_expires_entries(engine):
    load(engine, bundle(actions=[action("closing", ends_at=iso(FIXED_NOW + timedelta(days=1)))]))
    now = [FIXED_NOW]
    _, client = make_client(engine, cache=True, clock=lambda: now[0])
    assert [a["slug"] for a in client.get("/v1/actions").json()["data"]] == ["closing"]
    now[0] = FIXED_NOW + timedelta(days=2)
    assert client.get("/v1/actions").json()["data"] == []


def test_errors_and_authorised_requests_are_not_cached(engine):
    seed(engine)
    app, client = make_client(engine, cache=True)
    for _ in range(2):
        assert client.get("/v1/articles/missing").status_code == 404
        client.get("/v1/articles", headers={"Authorization": "Bearer x"})
    assert app.state.cache_stats.hits == 0

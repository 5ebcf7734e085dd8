"""Every absolute URL the API builds starts with `MASTHEAD_PUBLIC_URL` when it is set: a
request's `Host` header (which anyone can send, and a shared cache may store the answer
to) never decides where links point. Without the setting, links follow the request only
for an allowed host (see api/core/origin.py)."""

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import feedparser
import pytest
from fastapi.testclient import TestClient

from api.core.settings import load_settings
from api.main import create_app
from tests.conftest import FIXED_NOW
from tests.factories import action, article, author, bundle, load, source, tag

PUBLIC = "https://news.example"
EVIL = {"Host": "evil.example"}
# Not built by the API: URLs the content stores (the factories' hosts) and the formats'
# namespaces and version URLs.
NOT_BUILT = re.compile(
    r"https?://([a-z0-9-]+\.example\.org|purl\.org|www\.w3\.org|jsonfeed\.org|"
    r"backend\.userland\.com|www\.rssboard\.org|search\.yahoo\.com)(/|$)"
)
ABSOLUTE = re.compile(r"https?://[^\s\"'<>]+")

LISTS = [
    "/v1/articles?limit=1&include=tags,authors,sources,actions",
    "/v1/tags?limit=1",
    "/v1/sources?limit=1",
    "/v1/actions?limit=1&active=all",
    "/v1/authors?limit=1",
    "/v1/search?q=rights&limit=1",
]
FEEDS = ["/feeds/rss.xml", "/feeds/atom.xml", "/feeds/feed.json"]


def seed(engine: Any) -> None:
    load(
        engine,
        bundle(
            authors=[author("alex", url="https://alex.example.org/"), author("bo")],
            tags=[tag("rights"), tag("europe")],
            sources=[source("hrw", url="https://hrw.example.org"), source("amnesty")],
            actions=[action("petition"), action("letter")],
            articles=[
                article(
                    f"rights-{i}",
                    days_ago=i + 1,
                    title=f"Rights story {i}",
                    tags=["rights", "europe"],
                    authors=["alex", "bo"],
                    sources=[{"source": "hrw"}, {"source": "amnesty"}],
                    actions=["petition", "letter"],
                )
                for i in range(3)
            ],
        ),
    )


def make_client(engine: Any, public_url: str | None, **client_options: Any) -> TestClient:
    settings = load_settings(
        database_url=engine.url.render_as_string(hide_password=False),
        public_url=public_url,
        environment="test",
        webhook_worker=False,
    )
    app = create_app(settings, engine=engine)
    app.state.clock = lambda: FIXED_NOW
    return TestClient(app, raise_server_exceptions=False, **client_options)


@pytest.fixture
def public(engine: Any) -> Iterator[TestClient]:
    seed(engine)
    with make_client(engine, PUBLIC) as client:
        yield client


def built_urls(response: Any) -> list[str]:
    """Every absolute URL in the body and the `Link` header, minus the stored ones."""
    text = response.text + " " + response.headers.get("link", "")
    return [url for url in ABSOLUTE.findall(text) if not NOT_BUILT.match(url)]


def assert_public(urls: list[str]) -> None:
    assert urls, "the answer should carry links"
    for url in urls:
        assert url == PUBLIC or url.startswith(PUBLIC + "/"), url


@pytest.mark.parametrize("url", LISTS)
def test_list_envelopes_and_link_headers_use_the_public_url(public, url):
    response = public.get(url, headers=EVIL)
    assert response.status_code == 200, response.text
    body = response.json()
    path, _, query = url.partition("?")
    origin_and_path, _, self_query = body["links"]["self"].partition("?")
    assert origin_and_path == f"{PUBLIC}{path}"
    assert parse_qs(self_query) == parse_qs(query)
    assert body["links"]["next"].startswith(f"{PUBLIC}{path}?")
    assert "cursor=" in body["links"]["next"]
    assert response.headers["link"] == f'<{body["links"]["next"]}>; rel="next"'
    assert "evil.example" not in response.text + str(response.headers)
    assert_public(built_urls(response))


def test_the_content_key_is_left_out_of_public_links(public):
    body = public.get("/v1/tags?limit=1&key=secret", headers=EVIL).json()
    assert body["links"]["self"] == f"{PUBLIC}/v1/tags?limit=1"
    assert "secret" not in body["links"]["next"]


@pytest.mark.parametrize("url", FEEDS)
def test_feeds_use_the_public_url(public, url):
    response = public.get(f"{url}?tag=rights", headers=EVIL)
    assert response.status_code == 200, response.text
    assert "evil.example" not in response.text
    assert_public(built_urls(response))
    if url.endswith(".json"):
        feed = response.json()
        assert feed["feed_url"] == f"{PUBLIC}{url}?tag=rights"
        assert feed["home_page_url"] == f"{PUBLIC}/"
        # Items link to the frontend (the site's URL templates; its URL defaults to PUBLIC).
        assert feed["items"][0]["url"].startswith(f"{PUBLIC}/")
        assert "/v1/" not in feed["items"][0]["url"]
        return
    parsed = feedparser.parse(response.content)
    self_links = [link.href for link in parsed.feed.links if link.rel == "self"]
    assert self_links == [f"{PUBLIC}{url}?tag=rights"]


def test_the_api_index_uses_the_public_url(public):
    response = public.get("/", headers=EVIL)
    assert response.status_code == 200
    assert "evil.example" not in response.text
    assert_public(built_urls(response))
    assert response.json()["links"]["feeds"]["rss"] == f"{PUBLIC}/feeds/rss.xml"


@pytest.mark.parametrize("url", ["/v1/sync", "/v1/articles/rights-0", "/v1/actions/petition"])
def test_items_and_sync_use_the_public_url(public, url):
    response = public.get(url, headers=EVIL)
    assert response.status_code == 200, response.text
    assert "evil.example" not in response.text
    assert_public(built_urls(response))


def test_without_the_setting_a_host_not_allowed_never_decides_links(engine):
    """Without MASTHEAD_PUBLIC_URL, links follow the request only for an allowed host
    (`MASTHEAD_ALLOWED_HOSTS`, loopback by default); any other `Host` gets the served
    address (`http://127.0.0.1:8000` outside `masthead serve`)."""
    seed(engine)
    with make_client(engine, None) as client:
        body = client.get("/v1/tags?limit=1", headers=EVIL).json()
        feed = client.get("/feeds/feed.json", headers=EVIL).json()
        local = client.get("/v1/tags?limit=1", headers={"Host": "localhost:8765"}).json()
    assert body["links"]["self"] == "http://127.0.0.1:8000/v1/tags?limit=1"
    assert body["links"]["next"].startswith("http://127.0.0.1:8000/v1/tags?")
    assert feed["feed_url"] == "http://127.0.0.1:8000/feeds/feed.json"
    assert local["links"]["self"] == "http://localhost:8765/v1/tags?limit=1"


def test_a_root_path_is_kept_once(engine):
    """Behind a proxy serving the app under /api: the request's root path without the
    setting; with it, the setting names the root (its path is not added twice)."""
    seed(engine)
    with make_client(engine, None, root_path="/api") as client:
        body = client.get("/v1/tags?limit=1", headers={"Host": "127.0.0.1:9000"}).json()
    assert body["links"]["self"] == "http://127.0.0.1:9000/api/v1/tags?limit=1"
    with make_client(engine, f"{PUBLIC}/api", root_path="/api") as client:
        body = client.get("/v1/tags?limit=1", headers=EVIL).json()
        feed = client.get("/feeds/feed.json", headers=EVIL).json()
        index = client.get("/", headers=EVIL).json()
    assert body["links"]["self"] == f"{PUBLIC}/api/v1/tags?limit=1"
    assert body["links"]["next"].startswith(f"{PUBLIC}/api/v1/tags?")
    assert feed["feed_url"] == f"{PUBLIC}/api/feeds/feed.json"
    assert index["links"]["tags"] == f"{PUBLIC}/api/v1/tags"

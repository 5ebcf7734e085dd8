"""The onion mirror: with MASTHEAD_ONION_URL set, a request for the onion host gets every
absolute URL on the onion origin, clearnet answers carry `Onion-Location`, and the response
cache never hands one origin's answer to the other."""

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.core.settings import SettingsError, load_settings
from api.main import create_app
from tests.conftest import FIXED_NOW
from tests.core.test_public_urls import NOT_BUILT, seed

PUBLIC = "https://news.example"
ONION_HOST = "masthead" + "a" * 48 + ".onion"
ONION = f"http://{ONION_HOST}"
VIA_TOR = {"Host": ONION_HOST}
ABSOLUTE = re.compile(r"https?://[^\s\"'<>\\]+")


@pytest.fixture
def mirrored(engine: Any, settings: Any) -> Iterator[TestClient]:
    seed(engine)
    app = create_app(
        settings.model_copy(update={"public_url": PUBLIC, "onion_url": ONION}), engine=engine
    )
    app.state.clock = lambda: FIXED_NOW
    with TestClient(app, base_url=PUBLIC, raise_server_exceptions=False) as client:
        yield client


def paths(key: str, client: TestClient) -> list[str]:
    post = client.get(f"/ghost/api/content/posts/?key={key}&limit=1").json()["posts"][0]
    return [
        "/",
        "/v1/articles?limit=1&include=tags,authors,sources,actions",
        "/v1/articles/rights-0",
        "/v1/actions?limit=1&active=all",
        "/v1/actions/petition",
        "/v1/tags?limit=1",
        "/v1/search?q=rights&limit=1",
        "/v1/sync",
        "/v1/site",
        "/feeds/rss.xml",
        "/feeds/atom.xml",
        "/feeds/feed.json",
        "/sitemap.xml",
        "/sitemaps/pages.xml",
        "/sitemap-news.xml",
        f"/ghost/api/content/posts/?key={key}&limit=1",
        f"/ghost/api/content/posts/{post['id']}/?key={key}",
        "/oembed?url=" + post["url"],
    ]


# The sitemap formats' namespaces, besides what tests/core/test_public_urls.py leaves out.
NAMESPACES = re.compile(r"https?://www\.(sitemaps\.org|google\.com)/schemas/")


def built(response: Any) -> list[str]:
    text = response.text + " " + response.headers.get("link", "")
    return [
        url
        for url in ABSOLUTE.findall(text)
        if not NOT_BUILT.match(url.replace("&amp;", "&")) and not NAMESPACES.match(url)
    ]


def test_requests_through_tor_get_every_link_on_the_onion_origin(
    mirrored: TestClient, tokens: dict[str, str]
) -> None:
    checked = 0
    for path in paths(tokens["content"], mirrored):
        onion = mirrored.get(path.replace(PUBLIC, ONION), headers=VIA_TOR)
        assert onion.status_code == 200, (path, onion.text)
        assert "onion-location" not in onion.headers
        assert "news.example" not in onion.text + onion.headers.get("link", ""), path
        urls = built(onion)
        assert urls, path
        for url in urls:
            assert url.startswith(ONION + "/") or url == ONION, (path, url)
        checked += len(urls)
    go = mirrored.get("/v1/actions/petition", headers=VIA_TOR).json()["data"]["go_url"]
    assert go == f"{ONION}/v1/actions/petition/go"
    link = mirrored.get("/v1/tags?limit=1", headers=VIA_TOR).headers["link"]
    assert link.startswith(f"<{ONION}/v1/tags?")
    print(f"onion: {checked} absolute URLs checked, all on {ONION}")


def test_clearnet_answers_name_their_onion_location(
    mirrored: TestClient, tokens: dict[str, str]
) -> None:
    for path in paths(tokens["content"], mirrored):
        clearnet = mirrored.get(path)
        assert clearnet.status_code == 200, path
        key_free = re.sub(r"[?&]key=[0-9a-f]+", "", path).replace("/&", "/?")
        assert clearnet.headers["onion-location"] == ONION + key_free, path
        assert ONION_HOST not in clearnet.text
        assert all(url.startswith(PUBLIC) for url in built(clearnet)), path
    # Every answer, errors too; the content key never goes into the header.
    missing = mirrored.get("/v1/articles/nope?key=abc")
    assert missing.headers["onion-location"] == f"{ONION}/v1/articles/nope"


def test_the_response_cache_keeps_the_origins_apart(mirrored: TestClient) -> None:
    stats = mirrored.app.state.cache_stats  # type: ignore[attr-defined]
    url = "/v1/tags?limit=1"
    answers = []
    for headers in ({}, {}, VIA_TOR, VIA_TOR, {}, {"Host": "evil.example"}):
        before = stats.hits
        response = mirrored.get(url, headers=headers)
        answers.append((response.json()["links"]["self"], stats.hits - before))
    assert answers == [
        (f"{PUBLIC}{url}", 0),
        (f"{PUBLIC}{url}", 1),  # a hit
        (f"{ONION}{url}", 0),  # never the clearnet answer
        (f"{ONION}{url}", 1),
        (f"{PUBLIC}{url}", 1),
        (f"{PUBLIC}{url}", 1),  # another Host is the public origin's answer
    ]


def test_an_arbitrary_host_never_decides_links(engine: Any, settings: Any) -> None:
    seed(engine)
    app = create_app(settings.model_copy(update={"public_url": None}), engine=engine)
    app.state.clock = lambda: FIXED_NOW
    with TestClient(app, raise_server_exceptions=False) as client:
        evil = client.get("/v1/tags?limit=1", headers={"Host": "evil.example"})
        local = client.get("/v1/tags?limit=1", headers={"Host": "[::1]:8000"})
    assert evil.json()["links"]["self"] == "http://127.0.0.1:8000/v1/tags?limit=1"
    assert "evil.example" not in evil.text + str(evil.headers)
    assert local.json()["links"]["self"] == "http://[::1]:8000/v1/tags?limit=1"


def test_the_onion_url_must_be_an_onion() -> None:
    with pytest.raises(SettingsError, match="MASTHEAD_ONION_URL"):
        load_settings(onion_url="https://news.example")
    assert load_settings(allowed_hosts="Example.TEST, localhost").allowed_hosts == [
        "example.test",
        "localhost",
    ]

"""At-risk reader mode: no answer of the public API, feeds, docs or example page makes a
browser fetch anything from another host. A crawl of every public GET route over the demo
publication checks every answer (see tests/privacy/crawl.py for what counts as a load)."""

import re
from typing import Any
from urllib.parse import quote, urlsplit

import lxml.html
import pytest
from fastapi.testclient import TestClient

from tests.factories import article, bundle, load
from tests.privacy.conftest import OWN
from tests.privacy.crawl import Crawl, crawl, route_of, route_templates, summary

# Public GET routes the crawl does not fetch, and why.
UNLINKED = {
    "/v1/subscriptions/confirm": "needs an emailed token: tests/privacy/test_cookies.py",
    "/v1/subscriptions/unsubscribe": "needs an emailed token: tests/privacy/test_cookies.py",
    "/ghost/api/content/offers/{offer_id}": "always Ghost's 404: Masthead has no offers",
    "/ghost/api/content/{path:path}": "Ghost's 404 for any other path",
}
GHOST_ALIASES = re.compile(r"^/ghost/api/(?:v2|v3|v4|canary)/content/")


def same_handler(template: str) -> str:
    """Ghost's versioned prefixes and trailing slashes are the same routes."""
    return GHOST_ALIASES.sub("/ghost/api/content/", template).rstrip("/") or "/"


def seeds(client: TestClient, as_: Any, tokens: dict[str, str]) -> list[str]:
    """Where the crawl starts: the index, docs and example page, the lists, the feeds, the
    sitemaps, the Ghost API (with a content key), oEmbed and a preview link."""
    key = tokens["content"]
    article = client.get("/v1/articles?limit=1").json()["data"][0]
    admin = client.get("/v1/admin/articles?limit=1&status=published", headers=as_("editor"))
    article_id = admin.json()["data"][0]["id"]
    preview = client.post(f"/v1/admin/articles/{article_id}/preview", headers=as_("editor"))
    frontend = client.get(f"/v1/articles/{article['slug']}").json()["data"]["canonical_url"]
    ghost = [
        f"/ghost/api/content/{name}/?key={key}"
        for name in ("posts", "pages", "tags", "authors", "settings", "tiers", "newsletters")
    ]
    for name in ("posts", "pages", "tags", "authors"):
        [first] = client.get(f"/ghost/api/content/{name}/?key={key}&limit=1").json()[name]
        ghost += [
            f"/ghost/api/content/{name}/{first['id']}/?key={key}",
            f"/ghost/api/content/{name}/slug/{first['slug']}/?key={key}",
        ]
    items = []
    for name in ("tags", "sources", "actions", "authors", "pages"):
        listed = client.get(f"/v1/{name}?limit=1" + ("&active=all" if name == "actions" else ""))
        items.append(f"/v1/{name}/{listed.json()['data'][0]['slug']}")
    return [
        "/",
        "/docs",
        "/redoc",
        "/openapi.json",
        "/examples/seed-page/",
        "/v1/site",
        "/v1/pages",
        "/v1/articles?include=tags,authors,sources,actions",
        "/v1/actions?active=all",
        "/v1/search?q=chechnya",
        "/v1/sync",
        "/feeds/rss.xml",
        "/feeds/atom.xml",
        "/feeds/feed.json",
        "/sitemap.xml",
        "/sitemap-news.xml",
        f"/oembed?url={quote(frontend, safe='')}",
        f"/v1/articles/{article['slug']}/jsonld",
        f"/v1/articles/{article['slug']}/related",
        f"/v1/articles/{article['slug']}?include=jsonld",
        preview.json()["data"]["url"],
        *ghost,
        *items,
        "/healthz",
        "/readyz",
        "/metrics",
    ]


@pytest.fixture
def crawled(demo_client: TestClient, as_: Any, tokens: dict[str, str]) -> Crawl:
    result = crawl(demo_client, OWN, seeds(demo_client, as_, tokens))
    print("crawl:", summary(result))
    return result


def test_no_answer_loads_anything_from_another_host(crawled: Crawl) -> None:
    assert crawled.violations == []
    failed = {path: r.status_code for path, r in crawled.responses.items() if r.status_code >= 400}
    assert failed == {}, "the crawl must see answers, not errors"


def test_the_crawl_reaches_every_public_get_route(crawled: Crawl, demo_app: Any) -> None:
    routes = route_templates(demo_app)
    public = {
        same_handler(str(route.path))
        for route in routes
        if "GET" in (getattr(route, "methods", None) or {"GET"})
        and not str(route.path).startswith("/v1/admin")
    }
    reached = {same_handler(route_of(routes, urlsplit(p).path)) for p in crawled.responses}
    missing = sorted(public - reached - set(UNLINKED))
    assert missing == [], f"public GET routes the crawl never fetched: {missing}"
    print(f"crawl: {len(reached & public)} of {len(public)} public GET routes fetched")


def test_the_docs_and_the_example_page_use_bundled_assets_only(crawled: Crawl) -> None:
    docs = crawled.responses["/docs"].text
    assert "/docs/static/swagger-ui-bundle.js" in docs
    # Swagger UI's default validator badge is an image from validator.swagger.io.
    assert '"validatorUrl": null' in docs
    redoc = crawled.responses["/redoc"].text
    assert "/docs/static/redoc.standalone.js" in redoc and "fonts.googleapis" not in redoc
    for asset in (
        "/docs/static/swagger-ui-bundle.js",
        "/docs/static/swagger-ui.css",
        "/docs/static/redoc.standalone.js",
        "/examples/seed-page/seed-page.js",
        "/examples/seed-page/seed-page.css",
    ):
        assert crawled.responses[asset].status_code == 200, asset
    page = crawled.responses["/examples/seed-page/"]
    assert "default-src 'self'" in page.headers["content-security-policy"]


def test_action_links_go_through_go_url_without_a_referrer(crawled: Crawl) -> None:
    redirects = {p: r for p, r in crawled.responses.items() if r.status_code in (302, 303, 307)}
    go = {p: r for p, r in redirects.items() if urlsplit(p).path.endswith("/go")}
    assert go, "the crawl should follow an action's go_url"
    for path, response in go.items():
        assert response.headers["referrer-policy"] == "no-referrer", path
        assert urlsplit(response.headers["location"]).hostname != urlsplit(OWN).hostname
    for path, response in crawled.responses.items():
        if path.startswith("/v1/actions/") and response.status_code == 200:
            data = response.json()["data"]
            for action in data if isinstance(data, list) else [data]:
                assert action["go_url"].startswith(f"{OWN}/v1/actions/"), action


def test_cited_links_in_bodies_send_no_referrer(crawled: Crawl) -> None:
    """Links to other hosts in article bodies are content; they carry rel=noreferrer."""
    bodies = [
        item["body_html"]
        for path, response in crawled.responses.items()
        if path.startswith("/v1/articles/") and response.status_code == 200
        for item in [response.json().get("data")]
        if isinstance(item, dict) and item.get("body_html")
    ]
    assert bodies
    outbound = 0
    for body in bodies:
        for anchor in lxml.html.fromstring(body).iter("a"):
            if urlsplit(anchor.get("href", "")).hostname not in (None, "news.example"):
                outbound += 1
                assert "noreferrer" in anchor.get("rel", "").split(), lxml.html.tostring(anchor)
    assert outbound, "the demo article cites other sites"


def test_the_crawl_catches_a_load_from_another_host(demo_client: TestClient, engine: Any) -> None:
    """Content can break the property (an editor's image hosted elsewhere): the crawl says so."""
    load(
        engine,
        bundle(
            articles=[
                article(
                    "tracked",
                    body_html='<p>Hi</p><img src="https://pixel.example/p.gif" alt="">',
                    feature_image={"url": "https://images.example/cover.jpg", "alt": "A cover"},
                )
            ]
        ),
    )
    result = crawl(demo_client, OWN, ["/v1/articles/tracked", "/feeds/rss.xml"], per_route=50)
    assert "/v1/articles/tracked loads https://pixel.example/p.gif" in result.violations
    assert "/v1/articles/tracked loads https://images.example/cover.jpg" in result.violations
    assert any(v.startswith("/feeds/rss.xml loads https://") for v in result.violations)

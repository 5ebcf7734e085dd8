"""HTTP behaviour of the public API: ETags and 304s, gzip, caching headers, Surrogate-Key, Link,
settings, health, metrics and the self-hosted docs (CONTRACT §2 "HTTP behaviour", §4, §8).
CORS is in test_cors.py, HEAD in test_head.py."""

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from api.articles.models import Article
from api.core.db import make_engine
from api.core.settings import SettingsError, load_settings
from api.main import create_app
from tests.conftest import FIXED_NOW
from tests.core.problems import assert_problem
from tests.factories import article, bundle, load, tag, two_of_each

STRONG_ETAG = re.compile(r'^"[\x21\x23-\x7e]+"$')
DEFAULT_CACHE_CONTROL = "public, max-age=60, stale-while-revalidate=300"
LONG_BODY = "".join(
    f"<p>Paragraph {i}: witnesses described detentions, and rights groups confirmed them.</p>"
    for i in range(40)
)
IDENTITY = {"Accept-Encoding": "identity"}
GZIP = {"Accept-Encoding": "gzip"}

PUBLIC_GETS = [
    "/v1/articles",
    "/v1/articles/long-read",
    "/v1/articles/long-read/related",
    "/v1/tags",
    "/v1/tags/rights",
    "/v1/sources",
    "/v1/sources/hrw",
    "/v1/actions",
    "/v1/actions/petition",
    "/v1/authors",
    "/v1/authors/alex",
    "/v1/search?q=rights",
]
PAGINATED_LISTS = [
    "/v1/articles",
    "/v1/tags",
    "/v1/sources",
    "/v1/actions",
    "/v1/authors",
    "/v1/search?q=rights",
]


@pytest.fixture
def seeded(engine: Any) -> None:
    load(
        engine,
        bundle(
            **two_of_each(),
            articles=[
                article(
                    "long-read",
                    days_ago=2,
                    title="Rights in the long read",
                    body_html=LONG_BODY,
                    tags=["rights", "russia"],
                    authors=["alex", "sam"],
                    sources=[
                        {"source": "hrw", "cited_url": "https://hrw.example.org/a", "context": "x"},
                        {"source": "bbc", "cited_url": None, "context": "y"},
                    ],
                    actions=["petition", "donate"],
                ),
                article("short-note", days_ago=1, title="Rights note", tags=["rights"]),
                article("hidden-draft", status="draft", title="Rights draft", tags=["rights"]),
            ],
        ),
    )


def make_client(engine: Any, **overrides: Any) -> TestClient:
    """An app like conftest's, with settings overridden (CORS, cache lifetimes)."""
    settings = load_settings(
        database_url=engine.url.render_as_string(hide_password=False),
        public_url="http://testserver",
        environment="test",
        **overrides,
    )
    app = create_app(settings, engine=engine)
    app.state.clock = lambda: FIXED_NOW
    return TestClient(app, raise_server_exceptions=False)


# --- ETag and 304 ----------------------------------------------------------------------


@pytest.mark.parametrize("url", PUBLIC_GETS)
def test_public_get_has_strong_etag_and_honours_if_none_match(client, seeded, url):
    first = client.get(url, headers=IDENTITY)
    assert first.status_code == 200, first.text
    etag = first.headers["etag"]
    assert STRONG_ETAG.match(etag), etag
    assert client.get(url, headers=IDENTITY).headers["etag"] == etag

    for if_none_match in (etag, f'"not-it", {etag}', f"W/{etag}", "*"):
        cached = client.get(url, headers={**IDENTITY, "If-None-Match": if_none_match})
        assert cached.status_code == 304, if_none_match
        assert cached.content == b""
        assert cached.headers["etag"] == etag
        assert cached.headers["cache-control"] == DEFAULT_CACHE_CONTROL

    for if_none_match in ('"not-it"', etag[:-2] + '"', etag[:-1] + 'x"'):
        fresh = client.get(url, headers={**IDENTITY, "If-None-Match": if_none_match})
        assert fresh.status_code == 200, if_none_match
        assert fresh.content == first.content


def test_etag_changes_when_the_content_changes(client, engine, seeded):
    before = client.get("/v1/articles", headers=IDENTITY)
    load(
        engine,
        bundle(
            tags=[tag("rights")], articles=[article("newer-note", days_ago=0.5, tags=["rights"])]
        ),
    )
    after = client.get(
        "/v1/articles", headers={**IDENTITY, "If-None-Match": before.headers["etag"]}
    )
    assert after.status_code == 200
    assert after.headers["etag"] != before.headers["etag"]
    assert after.json()["data"][0]["slug"] == "newer-note"


@pytest.mark.parametrize("url", PUBLIC_GETS)
def test_public_get_sends_default_cache_control(client, seeded, url):
    assert client.get(url).headers["cache-control"] == DEFAULT_CACHE_CONTROL


def test_cache_lifetimes_come_from_settings(engine, seeded):
    with make_client(engine, cache_max_age=5, cache_stale_while_revalidate=30) as configured:
        response = configured.get("/v1/tags")
    assert response.headers["cache-control"] == "public, max-age=5, stale-while-revalidate=30"


@pytest.mark.parametrize("url", ["/v1/articles/hidden-draft", "/v1/tags?limit=0", "/v1/nothing"])
def test_errors_are_not_publicly_cacheable(client, seeded, url):
    response = client.get(url)
    assert response.status_code >= 400
    assert "public" not in response.headers.get("cache-control", "")
    assert "etag" not in response.headers


# --- gzip --------------------------------------------------------------------------------


def test_large_body_is_gzipped_with_its_own_strong_etag(client, seeded):
    url = "/v1/articles/long-read"
    plain = client.get(url, headers=IDENTITY)
    assert len(plain.content) >= 1024
    assert "content-encoding" not in plain.headers

    packed = client.get(url, headers=GZIP)
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.num_bytes_downloaded < len(plain.content)
    assert packed.json() == plain.json()
    assert "accept-encoding" in packed.headers["vary"].lower()
    assert STRONG_ETAG.match(packed.headers["etag"])
    assert packed.headers["etag"] != plain.headers["etag"]

    for etag in (plain.headers["etag"], packed.headers["etag"]):
        for encoding in (IDENTITY, GZIP):
            cached = client.get(url, headers={**encoding, "If-None-Match": etag})
            assert cached.status_code == 304, (etag, encoding)
            assert cached.content == b""


def test_large_list_is_gzipped_when_asked(client, seeded):
    url = "/v1/articles?fields=slug,body_html"
    plain = client.get(url, headers=IDENTITY)
    assert len(plain.content) >= 1024
    packed = client.get(url, headers=GZIP)
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.json() == plain.json()
    assert packed.headers["etag"] != plain.headers["etag"]


def test_each_encoding_of_a_small_body_has_its_own_etag(client, seeded):
    url = "/v1/authors/alex"
    plain = client.get(url, headers=IDENTITY)
    assert len(plain.content) < 1024
    packed = client.get(url, headers=GZIP)
    encoded = packed.headers.get("content-encoding") == "gzip"
    assert not encoded or packed.headers["etag"] != plain.headers["etag"]


# --- Surrogate-Key -----------------------------------------------------------------------


def surrogate_keys(response: Any) -> set[str]:
    return set(response.headers["surrogate-key"].split())


def test_article_list_surrogate_keys_name_every_entity_shown(client, seeded):
    response = client.get("/v1/articles")
    keys = surrogate_keys(response)
    items = response.json()["data"]
    assert response.headers["surrogate-key"].split()[0] == "articles"
    assert {k for k in keys if k.startswith("article:")} == {f"article:{a['id']}" for a in items}
    for item in items:
        assert {f"tag:{t['id']}" for t in item["tags"]} <= keys
        assert {f"author:{a['id']}" for a in item["authors"]} <= keys


def test_article_surrogate_keys_name_its_relations(client, seeded):
    response = client.get("/v1/articles/long-read")
    keys = surrogate_keys(response)
    data = response.json()["data"]
    expected = {
        f"article:{data['id']}",
        *(f"tag:{t['id']}" for t in data["tags"]),
        *(f"author:{a['id']}" for a in data["authors"]),
        *(f"source:{c['source']['id']}" for c in data["sources"]),
        *(f"action:{a['id']}" for a in data["actions"]),
    }
    assert len(expected) == 9
    assert expected <= keys


def test_included_relations_add_their_keys(client, seeded):
    plain = surrogate_keys(client.get("/v1/articles"))
    assert not any(k.startswith(("source:", "action:")) for k in plain)
    response = client.get("/v1/articles?include=sources,actions")
    keys = surrogate_keys(response)
    for item in response.json()["data"]:
        assert {f"source:{c['source']['id']}" for c in item["sources"]} <= keys
        assert {f"action:{a['id']}" for a in item["actions"]} <= keys
    assert any(k.startswith("source:") for k in keys)


@pytest.mark.parametrize(
    ("url", "collection", "prefix"),
    [
        ("/v1/tags", "tags", "tag"),
        ("/v1/sources", "sources", "source"),
        ("/v1/actions", "actions", "action"),
        ("/v1/authors", "authors", "author"),
        ("/v1/search?q=rights", "articles", "article"),
    ],
)
def test_list_surrogate_keys_name_collection_and_items(client, seeded, url, collection, prefix):
    response = client.get(url)
    items = response.json()["data"]
    assert items
    keys = surrogate_keys(response)
    assert collection in keys
    assert {k for k in keys if k.startswith(f"{prefix}:")} == {f"{prefix}:{i['id']}" for i in items}


@pytest.mark.parametrize(
    ("url", "prefix"),
    [
        ("/v1/tags/rights", "tag"),
        ("/v1/sources/hrw", "source"),
        ("/v1/actions/petition", "action"),
        ("/v1/authors/alex", "author"),
    ],
)
def test_item_surrogate_key_names_the_item(client, seeded, url, prefix):
    response = client.get(url)
    assert f"{prefix}:{response.json()['data']['id']}" in surrogate_keys(response)


def test_invisible_articles_never_appear_in_surrogate_keys(client, seeded, session):
    draft_id = session.scalar(select(Article.id).where(Article.slug == "hidden-draft"))
    assert draft_id
    for url in PUBLIC_GETS:
        assert f"article:{draft_id}" not in surrogate_keys(client.get(url)), url


# --- list envelope and Link --------------------------------------------------------------

LINK_NEXT = re.compile(r'^<([^>]+)>; rel="next"$')


@pytest.mark.parametrize("url", PAGINATED_LISTS)
def test_link_header_matches_links_next_until_the_last_page(client, seeded, url):
    sep = "&" if "?" in url else "?"
    page = client.get(f"{url}{sep}limit=1")
    seen: list[str] = []
    while True:
        assert page.status_code == 200, page.text
        body = page.json()
        assert set(body) == {"data", "meta", "links"}
        assert body["meta"]["limit"] == 1
        assert body["links"]["self"] == str(page.url)
        seen.extend(item["id"] for item in body["data"])
        next_url = body["links"]["next"]
        if next_url is None:
            assert body["meta"]["next_cursor"] is None
            assert "link" not in page.headers
            break
        assert body["meta"]["next_cursor"]
        match = LINK_NEXT.match(page.headers["link"])
        assert match and match.group(1) == next_url
        assert f"cursor={body['meta']['next_cursor']}" in next_url
        page = client.get(next_url)
    assert len(seen) >= 2 and len(seen) == len(set(seen))


# --- settings ----------------------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No `.env` file and no MASTHEAD_* variables leak into these settings."""
    import os

    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("MASTHEAD_"):
            monkeypatch.delenv(name)
    return monkeypatch


@pytest.mark.parametrize("origins", [["*"], ["https://app.example", "*"], ["app.example"]])
def test_settings_refuse_wildcard_or_bare_cors_origins(clean_env, origins):
    with pytest.raises(SettingsError, match="MASTHEAD_CORS_ORIGINS"):
        load_settings(cors_origins=origins)


@pytest.mark.parametrize("value", ["*", "https://app.example,*"])
def test_settings_refuse_wildcard_cors_origins_from_the_environment(clean_env, value):
    clean_env.setenv("MASTHEAD_CORS_ORIGINS", value)
    with pytest.raises(SettingsError, match="MASTHEAD_CORS_ORIGINS"):
        load_settings()


def test_cors_origins_are_read_comma_separated(clean_env):
    clean_env.setenv("MASTHEAD_CORS_ORIGINS", "https://a.example, https://b.example")
    assert load_settings().cors_origins == ["https://a.example", "https://b.example"]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MASTHEAD_CACHE_MAX_AGE", "-1"),
        ("MASTHEAD_CACHE_MAX_AGE", "a minute"),
        ("MASTHEAD_CACHE_STALE_WHILE_REVALIDATE", "-5"),
        ("MASTHEAD_DATABASE_URL", "mysql://x"),
        ("MASTHEAD_DATABASE_URL", "oracle://scott@db/x"),
        ("MASTHEAD_ENVIRONMENT", "staging"),
        ("MASTHEAD_PUBLIC_URL", "not a url"),
        ("MASTHEAD_CONTENT_KEYS_REQUIRED", "perhaps"),
        ("MASTHEAD_MAX_QUERY_LENGTH", "10"),
        ("MASTHEAD_DATABASE_POOL_SIZE", "0"),
        ("MASTHEAD_LOG_LEVEL", "loud"),
    ],
)
def test_bad_setting_is_one_line_naming_the_variable(clean_env, variable, value):
    clean_env.setenv(variable, value)
    with pytest.raises(SettingsError) as raised:
        load_settings()
    message = str(raised.value)
    assert variable in message
    assert "\n" not in message


def test_production_refuses_the_development_secret(clean_env):
    clean_env.setenv("MASTHEAD_ENVIRONMENT", "production")
    with pytest.raises(SettingsError, match="MASTHEAD_SECRET_KEY"):
        load_settings()
    clean_env.setenv("MASTHEAD_SECRET_KEY", "a-real-secret-of-enough-length")
    assert load_settings().environment == "production"


def test_postgresql_url_without_driver_gets_psycopg(clean_env):
    clean_env.setenv("MASTHEAD_DATABASE_URL", "postgresql://u@db/x")
    assert load_settings().database_url == "postgresql+psycopg://u@db/x"


# --- health and metrics ------------------------------------------------------------------


def test_healthz_and_readyz_are_ok(client):
    for path in ("/healthz", "/readyz"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}


UNREACHABLE_PG = "postgresql+psycopg://postgres@127.0.0.1:1/x"


@pytest.fixture
def unreachable_client():
    """An app whose database refuses connections (nothing listens on port 1)."""
    settings = load_settings(
        database_url=UNREACHABLE_PG, public_url="http://testserver", environment="test"
    )
    engine = make_engine(settings)
    app = create_app(settings, engine=engine)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
    engine.dispose()


def test_readyz_is_503_with_retry_after_when_the_database_is_away(unreachable_client):
    response = unreachable_client.get("/readyz")
    assert_problem(response, 503)
    assert response.headers["retry-after"].isdigit()
    assert int(response.headers["retry-after"]) >= 1
    assert unreachable_client.get("/healthz").status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/v1/articles",
        "/v1/articles/some-slug",
        "/v1/tags",
        "/v1/sources",
        "/v1/actions",
        "/v1/authors",
        "/v1/search?q=rights",
    ],
)
def test_public_reads_are_503_not_500_when_the_database_is_away(unreachable_client, url):
    response = unreachable_client.get(url)
    body = assert_problem(response, 503)
    assert "database" in body["detail"].lower()
    assert response.headers["retry-after"].isdigit()


def request_counts(client: Any) -> dict[tuple[str, str, str], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    counts = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == "masthead_http_requests_total":
                labels = sample.labels
                counts[(labels["method"], labels["route"], labels["status"])] = sample.value
    return counts


def test_metrics_count_requests_by_route_template(client, seeded):
    client.get("/v1/tags")
    client.get("/v1/tags/rights")
    client.get("/v1/tags/russia")
    client.get("/v1/tags/no-such-tag")
    counts = request_counts(client)
    assert counts[("GET", "/v1/tags", "200")] == 1
    assert counts[("GET", "/v1/tags/{slug}", "200")] == 2
    assert counts[("GET", "/v1/tags/{slug}", "404")] == 1
    assert not any("rights" in route for _, route, _ in counts)


def test_metrics_count_every_request_even_when_answered_from_cache(client, seeded):
    for _ in range(3):
        client.get("/v1/tags")
    assert request_counts(client)[("GET", "/v1/tags", "200")] == 3


def test_metrics_text_names_the_request_counter(client):
    client.get("/healthz")
    text = client.get("/metrics").text
    assert "# TYPE masthead_http_requests_total counter" in text
    assert 'masthead_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in text


# --- docs and OpenAPI --------------------------------------------------------------------


class AssetCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.assets: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.assets.append((tag, value))


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_docs_use_only_self_hosted_assets(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    collector = AssetCollector()
    collector.feed(response.text)
    scripts = [url for tag, url in collector.assets if tag == "script"]
    assert scripts
    for tag_name, url in collector.assets:
        assert not url.startswith(("http://", "https://", "//")), (tag_name, url)
        assert url.startswith("/docs/static/"), (tag_name, url)
        assert client.get(url).status_code == 200, url
    assert "cdn" not in response.text.lower()


def test_swagger_bundle_is_served_locally(client):
    response = client.get("/docs/static/swagger-ui-bundle.js")
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
    assert len(response.content) > 100_000


def test_openapi_document_is_3_1_and_describes_the_public_api(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    for path in ("/v1/articles", "/v1/articles/{slug}", "/v1/tags", "/v1/search", "/readyz"):
        assert path in document["paths"], path
    invalid = document["paths"]["/v1/articles"]["get"]["responses"]["422"]
    assert "application/problem+json" in invalid["content"]

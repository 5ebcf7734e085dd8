"""CORS (CONTRACT §2 "HTTP behaviour"): public reads answer any origin with `*` and no
credentials; admin and subscription endpoints only `MASTHEAD_CORS_ORIGINS`; real preflights
for both; OPTIONS never 405s where a route exists."""

from typing import Any

import pytest

from api.ghost.router import PREFIXES as GHOST_PREFIXES
from tests.core.problems import assert_problem
from tests.core.test_http import make_client
from tests.factories import article, bundle, load, two_of_each

APP_ORIGIN = "https://app.example"
OTHER_ORIGIN = "https://evil.example"
PUBLIC_READS = [
    "/v1/articles",
    "/v1/articles/story",
    "/v1/tags",
    "/v1/search?q=story",
    "/v1/sync",
    "/feeds/rss.xml",
    "/feeds/feed.json",
    "/",
]
PRIVATE_PATHS = ["/v1/admin/articles", "/v1/admin/subscribers", "/v1/subscriptions"]


@pytest.fixture
def seeded(engine: Any) -> None:
    load(engine, bundle(**two_of_each(), articles=[article("story", tags=["rights"])]))


@pytest.fixture
def cors_client(engine: Any) -> Any:
    with make_client(engine, cors_origins=[APP_ORIGIN]) as client:
        yield client


def preflight(client: Any, path: str, origin: str, method: str = "GET", **headers: str) -> Any:
    return client.options(
        path,
        headers={"Origin": origin, "Access-Control-Request-Method": method, **headers},
    )


def cors_headers(response: Any) -> set[str]:
    return {name for name in response.headers if name.startswith("access-control-")}


# --- public reads --------------------------------------------------------------------------


@pytest.mark.parametrize("origin", [APP_ORIGIN, OTHER_ORIGIN, "null"])
@pytest.mark.parametrize("path", PUBLIC_READS)
def test_public_read_answers_any_origin_with_a_wildcard(cors_client, seeded, path, origin):
    response = cors_client.get(path, headers={"Origin": origin})
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers
    exposed = {
        h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")
    }
    assert {"etag", "link", "retry-after", "x-request-id"} <= exposed


def test_public_read_answers_any_origin_without_configured_origins(client, seeded):
    response = client.get("/v1/tags", headers={"Origin": OTHER_ORIGIN})
    assert response.headers["access-control-allow-origin"] == "*"
    # The answer does not depend on the caller, so caches need no `Vary: Origin`.
    assert "origin" not in response.headers.get("vary", "").lower()


def test_public_cache_hit_carries_the_same_cors_headers(cors_client, seeded):
    missed = cors_client.get("/v1/tags", headers={"Origin": OTHER_ORIGIN})
    hits_before = cors_client.app.state.cache_stats.hits
    hit = cors_client.get("/v1/tags", headers={"Origin": APP_ORIGIN})
    assert cors_client.app.state.cache_stats.hits == hits_before + 1
    assert hit.content == missed.content
    assert cors_headers(hit) == cors_headers(missed)
    assert hit.headers["access-control-allow-origin"] == "*"
    not_modified = cors_client.get(
        "/v1/tags", headers={"Origin": APP_ORIGIN, "If-None-Match": missed.headers["etag"]}
    )
    assert not_modified.status_code == 304
    assert not_modified.headers["access-control-allow-origin"] == "*"


def test_public_errors_are_readable_cross_origin(cors_client, seeded):
    response = cors_client.get("/v1/articles/no-such-story", headers={"Origin": OTHER_ORIGIN})
    assert_problem(response, 404)
    assert response.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize("path", ["/v1/articles", "/v1/articles/story", "/feeds/atom.xml"])
def test_public_preflight_from_any_origin_allows_conditional_gets(cors_client, seeded, path):
    response = preflight(
        cors_client,
        path,
        OTHER_ORIGIN,
        **{"Access-Control-Request-Headers": "if-none-match, x-masthead-key"},
    )
    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers
    methods = {m.strip() for m in response.headers["access-control-allow-methods"].split(",")}
    assert {"GET", "HEAD"} <= methods
    assert "POST" not in methods
    allowed = {
        h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")
    }
    assert {"if-none-match", "x-masthead-key", "x-request-id"} <= allowed
    assert int(response.headers["access-control-max-age"]) >= 600
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"


# --- admin and subscription endpoints -----------------------------------------------------


@pytest.mark.parametrize("path", PRIVATE_PATHS)
def test_private_preflight_from_an_allowed_origin(cors_client, path):
    method = "POST" if path == "/v1/subscriptions" else "GET"
    response = preflight(
        cors_client,
        path,
        APP_ORIGIN,
        method,
        **{"Access-Control-Request-Headers": "authorization, content-type"},
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "access-control-allow-credentials" not in response.headers
    assert "origin" in response.headers["vary"].lower()
    assert method in response.headers["access-control-allow-methods"]
    allowed = {
        h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")
    }
    assert {"authorization", "content-type", "if-match"} <= allowed
    assert response.headers["access-control-max-age"].isdigit()


@pytest.mark.parametrize("path", PRIVATE_PATHS)
def test_private_preflight_from_another_origin_gets_no_allow_headers(cors_client, path):
    response = preflight(cors_client, path, OTHER_ORIGIN, "POST")
    assert response.status_code == 204
    assert cors_headers(response) == set()
    assert "origin" in response.headers["vary"].lower()


def test_private_preflight_without_configured_origins_gets_no_allow_headers(client):
    response = preflight(client, "/v1/admin/articles", APP_ORIGIN, "POST")
    assert response.status_code == 204
    assert cors_headers(response) == set()


def test_admin_read_answers_only_the_allowed_origin(cors_client, as_):
    allowed = cors_client.get("/v1/admin/articles", headers={**as_("editor"), "Origin": APP_ORIGIN})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "access-control-allow-credentials" not in allowed.headers
    assert "origin" in allowed.headers["vary"].lower()
    refused = cors_client.get(
        "/v1/admin/articles", headers={**as_("editor"), "Origin": OTHER_ORIGIN}
    )
    assert refused.status_code == 200  # CORS is the browser's check; the server just says no
    assert cors_headers(refused) == set()


def test_sign_up_answers_only_the_allowed_origin(cors_client):
    body = {"email": "reader@example.org", "consent": True, "policy_version": "1", "source": "/"}
    allowed = cors_client.post("/v1/subscriptions", json=body, headers={"Origin": APP_ORIGIN})
    assert allowed.status_code == 202, allowed.text
    assert allowed.headers["access-control-allow-origin"] == APP_ORIGIN
    refused = cors_client.post("/v1/subscriptions", json=body, headers={"Origin": OTHER_ORIGIN})
    assert cors_headers(refused) == set()


# --- OPTIONS without CORS -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/healthz", "GET, HEAD, OPTIONS"),
        ("/v1/articles/story", "GET, HEAD, OPTIONS"),
        ("/v1/admin/articles", "GET, HEAD, OPTIONS, POST"),
        ("/v1/admin/tags/some-id", "DELETE, GET, HEAD, OPTIONS, PATCH"),
        ("/v1/subscriptions", "OPTIONS, POST"),
        ("/v1/subscriptions/unsubscribe", "GET, HEAD, OPTIONS, POST"),
        ("/docs", "GET, HEAD, OPTIONS"),
        ("/docs/static/swagger-ui.css", "GET, HEAD, OPTIONS"),
    ],
)
def test_options_is_204_with_allow(client, path, allow):
    response = client.options(path)
    assert response.status_code == 204
    assert response.headers["allow"] == allow
    assert response.content == b""


def test_options_on_no_route_is_a_404_problem(client):
    assert_problem(client.options("/v1/nothing-here"), 404)


@pytest.mark.parametrize("prefix", GHOST_PREFIXES)
def test_every_ghost_content_prefix_answers_any_origin(
    cors_client: Any, seeded: None, prefix: str
) -> None:
    # Even a refusal (no key: 401) must be readable by a browser on another origin.
    response = cors_client.get(f"{prefix}/posts/", headers={"Origin": OTHER_ORIGIN})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers

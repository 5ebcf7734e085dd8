"""HEAD works wherever GET does (CONTRACT §2 "HTTP behaviour"): every GET route of the app,
its path filled from test content, answers HEAD with GET's status and headers
(`Content-Length` included) and no body, from the response cache too, and changes nothing
(a tracked redirect counts no click, a confirmation link confirms nobody)."""

import re
from typing import Any

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import select
from starlette.routing import Route

from api.core.errors import _routes
from api.subscriptions.models import Subscriber, SubscriptionConsent
from api.subscriptions.tokens import CONFIRM_SALT, UNSUBSCRIBE_SALT, sign
from tests.factories import action, article, bundle, load, two_of_each

PARAM = re.compile(r"{(\w+)(?::\w+)?}")
IDENTITY = {"Accept-Encoding": "identity"}
# Headers that are per request by design.
PER_REQUEST = {"x-request-id"}
# Bodies that change from one request to the next (the metrics count the request before).
CHANGING_BODY = {"/metrics"}
SLUGS = {
    "/v1/articles": "story",
    "/v1/tags": "rights",
    "/v1/sources": "hrw",
    "/v1/actions": "petition",
    "/v1/authors": "alex",
}
ADMIN_KINDS = ("articles", "tags", "sources", "actions", "authors")
# Routes of CONTRACT §2-§3 must answer these values with success; any other route (added
# later, with keys or content of its own) is compared all the same, on whatever it answers.
MUST_SUCCEED = ("/v1/", "/feeds/", "/healthz", "/readyz", "/metrics", "/docs", "/redoc")


def get_routes(app: Any) -> list[Any]:
    """Every route that answers GET, with its path template."""
    found = []
    for route in _routes(app.router.routes):
        if isinstance(route, (APIRoute, Route)) and "GET" in (route.methods or ()):
            found.append(route)
    return found


@pytest.fixture
def settings(settings: Any) -> Any:
    """Webhooks may point at the loopback address (nothing is delivered here)."""
    return settings.model_copy(update={"webhook_allow_private": True})


@pytest.fixture
def content(client: Any, engine: Any, session: Any, as_: Any, app: Any) -> dict[str, Any]:
    """Something behind every path parameter and required query parameter of the app."""
    load(
        engine,
        bundle(
            **{**two_of_each(), "actions": [action("petition"), action("donate")]},
            articles=[
                article(
                    "story",
                    tags=["rights"],
                    authors=["alex"],
                    sources=[{"source": "hrw", "cited_url": None, "context": "x"}],
                    actions=["petition"],
                )
            ],
        ),
    )
    admin = as_("admin")
    ids = {
        kind: client.get(f"/v1/admin/{kind}", headers=admin).json()["data"][0]["id"]
        for kind in ADMIN_KINDS
    }
    preview = client.post(f"/v1/admin/articles/{ids['articles']}/preview", headers=admin)
    assert preview.status_code in (200, 201), preview.text
    hook = client.post(
        "/v1/admin/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "events": ["article.published"]},
        headers=admin,
    )
    assert hook.status_code == 201, hook.text
    signed_up = client.post(
        "/v1/subscriptions",
        json={"email": "reader@example.org", "consent": True, "policy_version": "1", "source": "/"},
    )
    assert signed_up.status_code == 202, signed_up.text
    subscriber = session.scalars(select(Subscriber)).one()
    consent = session.scalars(select(SubscriptionConsent)).one()
    settings, clock = app.state.settings, app.state.clock
    return {
        "ids": ids,
        "preview": preview.json()["data"]["token"],
        "webhook": hook.json()["data"]["id"],
        "token_id": client.get("/v1/admin/tokens", headers=admin).json()["data"][0]["id"],
        "subscriber": subscriber.id,
        "confirm": sign(
            settings.secret_key, CONFIRM_SALT, clock, {"s": subscriber.id, "c": consent.id}
        ),
        "unsubscribe": sign(settings.secret_key, UNSUBSCRIBE_SALT, clock, {"s": subscriber.id}),
    }


def fill(template: str, content: dict[str, Any]) -> tuple[str, bool]:
    """The route's path with real values (and its required query); False when some
    parameter had no known value (the route is still compared, on its 404 or 422)."""
    known = True

    def value(match: re.Match[str]) -> str:
        nonlocal known
        name = match.group(1)
        before = template[: match.start()].rstrip("/")
        if name == "slug":
            for prefix, slug in SLUGS.items():
                if before.startswith(prefix):
                    return slug
        kind = next((k for k in ADMIN_KINDS if before.startswith(f"/v1/admin/{k}")), None)
        if name in ("article_id", "item_id", "action_id") and kind:
            return str(content["ids"][kind])
        fixed = {
            "token": content["preview"],
            "webhook_id": content["webhook"],
            "token_id": content["token_id"],
            "subscriber_id": content["subscriber"],
            "number": "1",
        }
        if name in fixed:
            return str(fixed[name])
        known = False
        return "no-such-thing"

    path = PARAM.sub(value, template)
    query = {
        "/v1/search": "?q=story",
        "/v1/subscriptions/confirm": f"?token={content['confirm']}",
        "/v1/subscriptions/unsubscribe": f"?token={content['unsubscribe']}",
    }.get(template, "")
    return path + query, known


def comparable(response: Any, changing_body: bool = False) -> dict[str, str]:
    skipped = set(PER_REQUEST)
    if changing_body:
        skipped.add("content-length")
    if response.headers.get("content-type") == "application/problem+json":
        skipped.add("etag")  # over a body that names its request (admin errors have one)
    return {k: v for k, v in response.headers.items() if k not in skipped}


def test_head_answers_like_get_on_every_get_route(client, app, content, as_):
    routes = get_routes(app)
    assert len(routes) >= 40
    headers = {**IDENTITY, **as_("admin")}
    compared = []
    for route in routes:
        url, known = fill(route.path, content)
        # HEAD first: had it changed anything (a click, a confirmation), GET would differ.
        head = client.head(url, headers=headers, follow_redirects=False)
        get = client.get(url, headers=headers, follow_redirects=False)
        assert head.status_code == get.status_code, (url, head.status_code, get.status_code)
        assert head.content == b"", url
        changing = route.path in CHANGING_BODY
        assert comparable(head, changing) == comparable(get, changing), url
        assert head.headers["x-request-id"] != get.headers["x-request-id"]
        if "content-length" in get.headers and not changing:
            assert int(head.headers["content-length"]) == len(get.content), url
        if known and (route.path.startswith(MUST_SUCCEED) or route.path in ("/", "/openapi.json")):
            assert get.status_code < 400, (url, get.status_code, get.text[:300])
        compared.append((route.path, get.status_code))
    paths = {path for path, _ in compared}
    for expected in ("/healthz", "/metrics", "/docs", "/openapi.json", "/feeds/rss.xml"):
        assert expected in paths
    assert ("/v1/actions/{slug}/go", 302) in compared
    assert ("/v1/subscriptions/confirm", 200) in compared


def test_head_on_the_tracked_redirect_counts_no_click(client, content, as_):
    for _ in range(3):
        response = client.head("/v1/actions/petition/go", follow_redirects=False)
        assert response.status_code == 302
        assert response.headers["location"]
    action_id = client.get("/v1/actions/petition").json()["data"]["id"]
    clicks = f"/v1/admin/actions/{action_id}/clicks"
    assert client.get(clicks, headers=as_("admin")).json()["total"] == 0
    assert client.get("/v1/actions/petition/go", follow_redirects=False).status_code == 302
    assert client.get(clicks, headers=as_("admin")).json()["total"] == 1


def test_head_on_a_confirmation_link_confirms_nobody(client, content, session):
    url = f"/v1/subscriptions/confirm?token={content['confirm']}"
    assert client.head(url).status_code == 200
    session.rollback()  # a new transaction sees the latest commit
    assert session.scalars(select(Subscriber)).one().status == "pending"
    assert client.get(url).status_code == 200
    session.rollback()  # a new transaction sees the latest commit
    assert session.scalars(select(Subscriber)).one().status == "confirmed"


@pytest.mark.parametrize("url", ["/v1/articles", "/v1/tags/rights", "/feeds/atom.xml"])
def test_head_is_answered_from_the_response_cache(client, content, url):
    get = client.get(url, headers=IDENTITY)
    hits = client.app.state.cache_stats.hits
    head = client.head(url, headers=IDENTITY)
    assert client.app.state.cache_stats.hits == hits + 1
    assert head.status_code == 200
    assert head.content == b""
    assert comparable(head) == comparable(get)
    assert int(head.headers["content-length"]) == len(get.content)
    not_modified = client.head(url, headers={**IDENTITY, "If-None-Match": get.headers["etag"]})
    assert not_modified.status_code == 304


def test_head_of_a_gzipped_answer_names_the_gzipped_length(client, content):
    url = "/v1/articles?fields=slug,body_html,title,excerpt&limit=100"
    get = client.get(url, headers={"Accept-Encoding": "gzip"})
    head = client.head(url, headers={"Accept-Encoding": "gzip"})
    assert head.headers.get("content-encoding") == get.headers.get("content-encoding")
    assert head.headers["content-length"] == get.headers["content-length"]
    assert head.headers["etag"] == get.headers["etag"]


def test_head_is_counted_as_head_in_the_metrics(client):
    client.head("/healthz")
    text = client.get("/metrics").text
    assert 'masthead_http_requests_total{method="HEAD",route="/healthz",status="200"} 1.0' in text


def test_static_docs_assets_answer_head(client):
    get = client.get("/docs/static/swagger-ui.css", headers=IDENTITY)
    head = client.head("/docs/static/swagger-ui.css", headers=IDENTITY)
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]

"""Ghost's Content API over HTTP, on both databases: shapes, keys, errors, parameters,
the NQL filter forms, `limit=all` past one chunk, and the statement count."""

import re
from datetime import timedelta
from typing import Any

import orjson
import pytest

from tests.conftest import FIXED_NOW
from tests.factories import article, author, bundle, generated_bundle, iso, load, tag

BASE = "/ghost/api/content"
GHOST_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
GHOST_ONLY = ("codeinjection_head", "codeinjection_foot", "og_image", "og_title",
              "og_description", "twitter_image", "twitter_title", "twitter_description",
              "custom_template", "comment_id", "meta_title", "meta_description")  # fmt: skip


def small_site() -> dict[str, Any]:
    """Four published articles, a draft, a scheduled one, two tags and two authors."""
    return bundle(
        authors=[author("alex"), author("sam", bio="Writes.", url="https://sam.example.org/")],
        tags=[tag("rights"), tag("russia", description="The country.")],
        articles=[
            article("oldest", days_ago=40, title="Budget cuts", tags=["rights"],
                    authors=["alex"]),
            article("middle", days_ago=10, title="Prison report", tags=["russia", "rights"],
                    authors=["sam", "alex"], subtitle="A standfirst.",
                    feature_image={"url": "https://img.example.org/a.jpg", "alt": "A",
                                   "caption": None}),
            article("newer", days_ago=2, title="Budget vote", tags=["russia"], authors=["sam"]),
            article("newest", days_ago=1, title="Untagged note"),
            article("draft", status="draft", published_at=None),
            article("scheduled", published_at=iso(FIXED_NOW + timedelta(days=1))),
        ],
    )  # fmt: skip


@pytest.fixture
def key(tokens: dict[str, str]) -> str:
    return tokens["content"]


@pytest.fixture
def get(client: Any, key: str) -> Any:
    def fetch(path: str, params: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        return client.get(BASE + path, params={"key": key, **(params or {})}, **kwargs)

    return fetch


def slugs(response: Any, name: str = "posts") -> list[str]:
    assert response.status_code == 200, response.text
    return [item["slug"] for item in response.json()[name]]


def assert_ghost_error(response: Any, status: int, type_: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    (error,) = response.json()["errors"]
    assert error["type"] == type_
    assert set(error) >= {"message", "context", "type", "details", "property", "help", "code",
                          "id", "ghostErrorCode"}  # fmt: skip
    return error  # type: ignore[no-any-return]


def test_content_keys_are_26_lowercase_hex(key):
    assert re.fullmatch(r"[0-9a-f]{26}", key)


def test_posts_browse_has_ghost_shape(engine, get):
    load(engine, small_site())
    response = get("/posts/", {"include": "tags,authors"})
    assert response.status_code == 200
    body = response.json()
    assert [p["slug"] for p in body["posts"]] == ["newest", "newer", "middle", "oldest"]
    assert body["meta"]["pagination"] == {
        "page": 1, "limit": 15, "pages": 1, "total": 4, "next": None, "prev": None
    }  # fmt: skip
    post = body["posts"][2]
    assert re.fullmatch(r"[0-9a-f]{24}", post["id"]) and UUID.match(post["uuid"])
    assert post["url"] == "http://testserver/middle/"
    assert post["visibility"] == "public" and post["featured"] is False
    assert post["custom_excerpt"] == "A standfirst."
    assert post["excerpt"]
    assert post["html"].startswith("<p>")
    assert post["feature_image"] == "https://img.example.org/a.jpg"
    assert post["feature_image_alt"] == "A" and post["feature_image_caption"] is None
    for name in ("created_at", "updated_at", "published_at"):
        assert GHOST_TIME.match(post[name]), post[name]
    assert all(post[name] is None for name in GHOST_ONLY)
    assert isinstance(post["reading_time"], int)
    assert [t["slug"] for t in post["tags"]] == ["russia", "rights"]
    assert post["primary_tag"]["slug"] == "russia"
    assert post["primary_tag"]["url"] == "http://testserver/tag/russia/"
    assert [a["slug"] for a in post["authors"]] == ["sam", "alex"]
    assert post["primary_author"]["url"] == "http://testserver/author/sam/"
    assert post["primary_author"]["website"] == "https://sam.example.org/"
    assert body["posts"][0]["primary_tag"] is None
    assert "tags" not in get("/posts/").json()["posts"][0]


def test_ids_are_stable_and_read_back(engine, get):
    load(engine, small_site())
    first = get("/posts/", {"filter": "slug:middle"}).json()["posts"][0]
    again = get("/posts/", {"filter": "slug:middle"}).json()["posts"][0]
    assert first["id"] == again["id"] and first["uuid"] == again["uuid"]
    by_id = get(f"/posts/{first['id']}/")
    assert by_id.status_code == 200
    assert "meta" not in by_id.json()
    assert [p["slug"] for p in by_id.json()["posts"]] == ["middle"]
    by_slug = get("/posts/slug/middle/", {"include": "tags"})
    assert by_slug.json()["posts"][0]["id"] == first["id"]
    assert "meta" not in by_slug.json()
    assert get("/posts/", {"filter": f"id:{first['id']}"}).json()["posts"][0]["slug"] == "middle"
    assert slugs(get("/posts/", {"filter": f"uuid:{first['uuid']}"})) == ["middle"]


@pytest.mark.parametrize(
    "prefix", [f"/ghost/api/{version}/content" for version in ("v2", "v3", "v4", "canary")]
)
def test_legacy_prefixes_and_paths_without_slash(engine, client, key, prefix):
    load(engine, small_site())
    assert client.get(f"{prefix}/posts/slug/newest/?key={key}").status_code == 200
    assert client.get(f"{prefix}/tags?key={key}").status_code == 200


def test_missing_or_unknown_key_is_401_in_ghost_shape(engine, client, tokens):
    load(engine, small_site())
    missing = assert_ghost_error(client.get(f"{BASE}/posts/"), 401, "UnauthorizedError")
    assert missing["message"] == "Authorization failed"
    unknown = assert_ghost_error(
        client.get(f"{BASE}/posts/?key={'0' * 26}"), 401, "UnauthorizedError"
    )
    assert unknown["message"] == "Unknown Content API Key"
    for name in ("editor", "admin", "revoked", "expired"):
        assert client.get(f"{BASE}/posts/?key={tokens[name]}").status_code == 401
    assert_ghost_error(
        client.get(f"{BASE}/posts/?key={tokens['content']}&key=x"), 400, "BadRequestError"
    )


def test_members_header_is_ignored(engine, get):
    load(engine, small_site())
    response = get("/posts/", headers={"Authorization": "GhostMembers some.jwt.token"})
    assert slugs(response) == ["newest", "newer", "middle", "oldest"]


def test_not_found_is_ghost_not_found(engine, get):
    load(engine, small_site())
    for path in ("/posts/slug/draft/", "/posts/slug/scheduled/", "/posts/slug/nope/",
                 f"/posts/{'a' * 24}/", "/tags/slug/nope/", "/authors/slug/nope/",
                 "/pages/slug/newest/", "/offers/abc/", "/nothing/"):  # fmt: skip
        error = assert_ghost_error(get(path), 404, "NotFoundError")
        assert "not found" in error["message"].lower(), path
    assert_ghost_error(get("/posts/not-an-id/"), 422, "ValidationError")


FILTERS = [
    ("tag:rights", ["middle", "oldest"]),
    ("tags:rights", ["middle", "oldest"]),
    ("tags.slug:russia", ["newer", "middle"]),
    ("tag:-rights", ["newest", "newer"]),
    ("tag:[rights,russia]", ["newer", "middle", "oldest"]),
    ("tag:-[rights,russia]", ["newest"]),
    ("tag:rights+tag:russia", ["middle"]),
    ("tag:rights,author:sam", ["newer", "middle", "oldest"]),
    ("(tag:rights,tag:russia)+author:alex", ["middle", "oldest"]),
    ("tag:russia+(author:alex,slug:newer)", ["newer", "middle"]),
    ("author:sam", ["newer", "middle"]),
    ("authors.slug:[alex]", ["middle", "oldest"]),
    ("primary_tag:russia", ["newer", "middle"]),
    ("primary_tag:rights", ["oldest"]),
    ("primary_author:alex", ["oldest"]),
    ("primary_author.slug:sam", ["newer", "middle"]),
    ("published_at:>now-5d", ["newest", "newer"]),
    ("published_at:>=now-10d", ["newest", "newer", "middle"]),
    ("published_at:<now-5d", ["middle", "oldest"]),
    (f"published_at:<='{iso(FIXED_NOW - timedelta(days=10))}'", ["middle", "oldest"]),
    (f"published_at:<{(FIXED_NOW - timedelta(days=20)).date()}", ["oldest"]),
    ("title:~'budget'", ["newer", "oldest"]),
    ("title:~^'Budget v'", ["newer"]),
    ("title:~$'report'", ["middle"]),
    ("title:-~'budget'", ["newest", "middle"]),
    ("slug:-newest+slug:-oldest", ["newer", "middle"]),
    ("slug:[newest,'oldest']", ["newest", "oldest"]),
    ('title:"Budget cuts"', ["oldest"]),
    ("featured:true", []),
    ("featured:false+tag:rights", ["middle", "oldest"]),
    ("visibility:public+tag:russia", ["newer", "middle"]),
    ("feature_image:null+tag:russia", ["newer"]),
    ("feature_image:-null", ["middle"]),
    ("tags:null", ["newest"]),
    ("tag:-null", ["newer", "middle", "oldest"]),
    ("tag:draft-only", []),
]


@pytest.mark.parametrize(("nql", "expected"), FILTERS)
def test_filter_forms(engine, get, nql, expected):
    load(engine, small_site())
    assert slugs(get("/posts/", {"filter": nql})) == expected


@pytest.mark.parametrize(
    "nql", ["password:x", "authors.email:a@b.c", "body_html:~x", "status:published+lang:en"]
)
def test_unknown_filter_field_is_400(engine, get, nql):
    load(engine, small_site())
    error = assert_ghost_error(get("/posts/", {"filter": nql}), 400, "BadRequestError")
    assert "Unknown field" in error["context"]


@pytest.mark.parametrize(
    "nql",
    [
        "tag:",
        "tag:(a",
        "tag:[a,b",
        "(tag:a",
        "tag:a+",
        "published_at:>yesterday",
        "title:>[a]",
        ":x",
        "((((((((((((tag:a))))))))))))",
    ],
)
def test_malformed_filter_is_400(engine, get, nql):
    load(engine, small_site())
    assert_ghost_error(get("/posts/", {"filter": nql}), 400, "BadRequestError")


def test_page_order_and_limits(engine, get):
    load(engine, small_site())
    second = get("/posts/", {"limit": 2, "page": 2})
    assert slugs(second) == ["middle", "oldest"]
    assert second.json()["meta"]["pagination"] == {
        "page": 2, "limit": 2, "pages": 2, "total": 4, "next": None, "prev": 1
    }  # fmt: skip
    assert get("/posts/", {"limit": 2}).json()["meta"]["pagination"]["next"] == 2
    assert slugs(get("/posts/", {"order": "title asc"})) == [
        "oldest", "newer", "middle", "newest"
    ]  # fmt: skip
    assert slugs(get("/posts/", {"order": "published_at asc", "limit": 1})) == ["oldest"]
    both = get("/posts/", {"order": "title DESC, published_at asc", "filter": "title:~budget"})
    assert slugs(both) == ["newer", "oldest"]
    assert slugs(get("/posts/", {"order": "nonsense desc"})) == slugs(get("/posts/"))
    assert_ghost_error(get("/posts/", {"limit": "lots"}), 422, "ValidationError")
    assert_ghost_error(get("/posts/", {"page": "-1"}), 422, "ValidationError")
    assert_ghost_error(get("/posts/", {"order": "title; drop"}), 422, "ValidationError")
    assert get("/posts/", {"unknown_param": "x", "include": "nonsense"}).status_code == 200


def test_fields_and_formats(engine, get):
    load(engine, small_site())
    post = get("/posts/", {"fields": "title,url", "limit": 1}).json()["posts"][0]
    assert post == {"title": "Untagged note", "url": "http://testserver/newest/"}
    plain = get("/posts/slug/middle/", {"formats": "plaintext"}).json()["posts"][0]
    assert "html" not in plain and plain["plaintext"].startswith("The body of middle")
    both = get("/posts/slug/middle/", {"formats": "html,plaintext", "fields": "slug"})
    assert set(both.json()["posts"][0]) == {"slug", "html", "plaintext"}
    assert_ghost_error(get("/posts/", {"formats": "pdf"}), 422, "ValidationError")


def test_tags_and_authors(engine, get):
    load(engine, small_site())
    tags = get("/tags/", {"include": "count.posts"}).json()
    assert [(t["slug"], t["count"]["posts"]) for t in tags["tags"]] == [
        ("rights", 2), ("russia", 2)
    ]  # fmt: skip
    russia = get("/tags/slug/russia/").json()["tags"][0]
    assert russia["description"] == "The country." and russia["visibility"] == "public"
    assert russia["url"] == "http://testserver/tag/russia/" and "count" not in russia
    assert get(f"/tags/{russia['id']}/").json()["tags"][0]["slug"] == "russia"
    assert slugs(get("/tags/", {"filter": "slug:-rights"}), "tags") == ["russia"]
    authors = get("/authors/", {"include": "count.posts", "order": "slug desc"}).json()
    assert [(a["slug"], a["count"]["posts"]) for a in authors["authors"]] == [
        ("sam", 2), ("alex", 2)
    ]  # fmt: skip
    sam = get("/authors/slug/sam/").json()["authors"][0]
    assert sam["bio"] == "Writes." and sam["profile_image"] is None
    assert get(f"/authors/{sam['id']}/").json()["authors"][0]["slug"] == "sam"
    assert slugs(get("/authors/", {"filter": "name:~'sa'"}), "authors") == ["sam"]
    assert get("/tags/", {"fields": "name,url"}).json()["tags"][0] == {
        "name": "Rights", "url": "http://testserver/tag/rights/"
    }  # fmt: skip


def test_settings_tiers_newsletters(engine, get):
    settings = get("/settings/").json()
    assert settings["settings"]["url"] == "http://testserver/"
    assert set(settings["settings"]) >= {"title", "description", "logo", "icon", "navigation",
                                         "secondary_navigation", "lang", "timezone"}  # fmt: skip
    for name in ("tiers", "newsletters"):
        body = get(f"/{name}/").json()
        assert body[name] == [] and body["meta"]["pagination"]["total"] == 0


def test_pages_are_the_page_rows(engine, get):
    site = small_site()
    site["articles"][3]["kind"] = "page"
    load(engine, site)
    assert slugs(get("/pages/"), "pages") == ["newest"]
    assert "newest" not in slugs(get("/posts/"))
    page = get("/pages/slug/newest/").json()["pages"][0]
    assert page["url"] == "http://testserver/newest/"
    assert get(f"/pages/{page['id']}/").status_code == 200
    assert_ghost_error(get("/posts/slug/newest/"), 404, "NotFoundError")


def test_limit_all_is_served_in_full_past_one_chunk(engine, get, client):
    data = generated_bundle(230, n_tags=8, n_authors=3)
    load(engine, data)
    published = sum(
        1 for a in data["articles"]
        if a["status"] == "published" and a["published_at"] <= iso(FIXED_NOW)
    )  # fmt: skip
    assert published > 200
    response = get("/posts/", {"limit": "all", "include": "tags,authors"})
    assert response.status_code == 200
    body = orjson.loads(response.content)
    assert len(body["posts"]) == published
    assert len({p["id"] for p in body["posts"]}) == published
    times = [p["published_at"] for p in body["posts"]]
    assert times == sorted(times, reverse=True)
    assert body["meta"]["pagination"] == {
        "page": 1, "limit": "all", "pages": 1, "total": published, "next": None, "prev": None
    }  # fmt: skip
    assert all("primary_tag" in p for p in body["posts"])
    etag = response.headers["etag"]
    assert get("/posts/", {"limit": "all", "include": "tags,authors"},
               headers={"If-None-Match": etag}).status_code == 304  # fmt: skip
    paged = get("/posts/", {"limit": 150, "page": 2, "fields": "slug"}).json()
    assert [p["slug"] for p in paged["posts"]] == [p["slug"] for p in body["posts"]][150:300]
    assert paged["meta"]["pagination"]["total"] == published
    ordered = get("/posts/", {"limit": "all", "order": "title asc", "fields": "title"}).json()
    titles = [p["title"] for p in ordered["posts"]]
    assert len(titles) == published
    filtered = get("/posts/", {"limit": "all", "filter": "tag:tag-1", "fields": "id"}).json()
    native = client.get("/v1/articles", params={"tag": "tag-1", "count": "true", "limit": 1})
    assert len(filtered["posts"]) == native.json()["meta"]["total"]


def test_responses_are_cacheable_with_etags(engine, get):
    load(engine, small_site())
    first = get("/posts/", {"include": "tags"})
    assert first.headers["cache-control"].startswith("public")
    assert "article:" in first.headers["surrogate-key"]
    again = get("/posts/", {"include": "tags"}, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


def test_browse_with_tags_and_authors_has_no_n_plus_1(engine, get, count_statements):
    load(engine, generated_bundle(60, n_tags=8, n_authors=3))
    counts = []
    for limit in (5, 50):
        with count_statements() as counter:
            response = get("/posts/", {"limit": limit, "include": "tags,authors"})
        assert response.status_code == 200 and len(response.json()["posts"]) == limit
        counts.append(counter.count)
    assert counts[0] == counts[1] <= 8

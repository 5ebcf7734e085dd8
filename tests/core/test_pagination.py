"""Keyset pagination: constant queries per page whatever its size, and cursor walks that return
every visible article exactly once, in order (CONTRACT §2 "Listing parameters", STYLE habits)."""

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from api.articles.models import Article
from tests.conftest import FIXED_NOW
from tests.factories import generated_bundle, iso, load

# Articles, tags, sources, actions, authors from the project's generator, plus one
# scheduled-for-later and one deleted article that no public list may show.
DATASET_SIZE = 60
SEARCH_QUERY = "ka* OR ri* OR mo* OR ne* OR ta*"


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.fixture
def dataset(engine: Any) -> dict[str, Any]:
    data = generated_bundle(DATASET_SIZE)
    articles = data["articles"]
    published = [a for a in articles if a["status"] == "published"]
    published[0]["published_at"] = iso(FIXED_NOW + timedelta(days=2))
    published[1]["deleted_at"] = iso(FIXED_NOW - timedelta(days=1))
    load(engine, data)
    return data


def visible_articles(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        a
        for a in data["articles"]
        if a["status"] == "published"
        and parse_time(a["published_at"]) <= FIXED_NOW
        and not a.get("deleted_at")
    ]


def statements_for(client: Any, count_statements: Any, url: str) -> tuple[int, int]:
    """(statements executed, items returned) for one request."""
    with count_statements() as counter:
        response = client.get(url)
    assert response.status_code == 200, response.text
    return counter.count, len(response.json()["data"])


# The most statements each list may take (one for the page, one per embedded relation or
# count); whatever the page size it must be the same number.
# Article lists: the page, its relations, plus one read of the site (frontend URLs in
# links) and one of the page's corrections, whatever the page size.
LIST_QUERIES = [
    pytest.param("/v1/articles", 5, id="articles"),
    pytest.param("/v1/articles?include=sources,actions", 5, id="articles-sources-actions"),
    pytest.param("/v1/articles?include=tags,authors,sources,actions", 7, id="articles-all"),
    pytest.param("/v1/articles?count=true", 6, id="articles-count"),
    pytest.param("/v1/articles?tag=tag-1,tag-2,tag-3,tag-4,tag-5&lang=en", 5, id="articles-filter"),
    pytest.param("/v1/articles?tag=tag-1&lang=en", 5, id="articles-one-tag"),
    pytest.param("/v1/tags", 2, id="tags"),
    pytest.param("/v1/sources", 2, id="sources"),
    pytest.param("/v1/actions?active=all", 1, id="actions"),
    pytest.param("/v1/authors", 1, id="authors"),
    pytest.param(f"/v1/search?q={SEARCH_QUERY}", 6, id="search"),
    pytest.param("/v1/articles/{slug}/related", 6, id="related"),
]


@pytest.mark.parametrize(("url", "most"), LIST_QUERIES)
def test_statements_per_list_do_not_grow_with_page_size(
    uncached_client, dataset, count_statements, url, most
):
    client = uncached_client
    url = url.format(slug=visible_articles(dataset)[0]["slug"])
    sep = "&" if "?" in url else "?"
    client.get(f"{url}{sep}limit=1")  # warm up: connection set-up is not the list's cost
    small, small_items = statements_for(client, count_statements, f"{url}{sep}limit=2")
    large, large_items = statements_for(client, count_statements, f"{url}{sep}limit=50")
    assert small_items == 2
    assert large_items > 2 * small_items, "the large page must really be larger"
    assert small == large, f"{small} statements for 2 items but {large} for {large_items}"
    assert large <= most, f"{large} statements (at most {most} expected)"


def test_statements_do_not_grow_with_the_page_number(uncached_client, dataset, count_statements):
    client = uncached_client
    first = client.get("/v1/articles?limit=5&sort=title")
    cursor = first.json()["meta"]["next_cursor"]
    for _ in range(6):
        page = client.get(f"/v1/articles?limit=5&sort=title&cursor={cursor}")
        cursor = page.json()["meta"]["next_cursor"]
    baseline, _ = statements_for(client, count_statements, "/v1/articles?limit=5&sort=-title")
    deep, items = statements_for(
        client, count_statements, f"/v1/articles?limit=5&sort=title&cursor={cursor}"
    )
    assert items == 5
    assert deep == baseline


def expected_order(data: dict[str, Any], session: Any, sort: str) -> list[str]:
    """The visible slugs in `sort` order, ties broken by id (in the same direction)."""
    visible = visible_articles(data)
    rows = {
        slug: (ident, updated)
        for slug, ident, updated in session.execute(
            select(Article.slug, Article.id, Article.updated_at)
        )
    }
    column = sort.lstrip("-")

    def key(item: dict[str, Any]) -> tuple[Any, str]:
        ident, updated = rows[item["slug"]]
        value = {
            "published_at": lambda: parse_time(item["published_at"]),
            "updated_at": lambda: updated,
            "title": lambda: item["title"],
        }[column]()
        return value, ident

    return [a["slug"] for a in sorted(visible, key=key, reverse=sort.startswith("-"))]


@pytest.mark.parametrize(
    "sort", ["-published_at", "published_at", "-updated_at", "updated_at", "title", "-title"]
)
def test_cursor_walk_returns_every_visible_article_once_in_order(client, dataset, session, sort):
    walked: list[str] = []
    url: str | None = f"/v1/articles?sort={sort}&limit=7&fields=slug"
    pages = 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["data"]) <= 7
        walked.extend(item["slug"] for item in body["data"])
        url = body["links"]["next"]
        assert (url is None) == (body["meta"]["next_cursor"] is None)
        pages += 1
        assert pages <= DATASET_SIZE, "the walk does not end"
    expected = expected_order(dataset, session, sort)
    assert len(walked) == len(set(walked)), "an article appeared twice"
    assert walked == expected
    assert pages == -(-len(expected) // 7)


def test_walk_over_a_filtered_list_stays_filtered(client, dataset):
    walked: list[str] = []
    url: str | None = "/v1/articles?tag=tag-1,tag-2&limit=3&fields=slug,tags"
    while url:
        body = client.get(url).json()
        for item in body["data"]:
            assert {t["slug"] for t in item["tags"]} & {"tag-1", "tag-2"}
        walked.extend(item["slug"] for item in body["data"])
        url = body["links"]["next"]
    expected = {a["slug"] for a in visible_articles(dataset) if {"tag-1", "tag-2"} & set(a["tags"])}
    assert len(walked) == len(set(walked))
    assert set(walked) == expected
    assert len(expected) > 3


@pytest.mark.parametrize("sort", ["-published_at", "published_at", "title"])
@pytest.mark.parametrize("which", [0, 1], ids=["scheduled-article-tag", "deleted-article-tag"])
def test_walk_over_one_tag_is_that_tags_visible_articles_in_order(
    client, dataset, session, sort, which
):
    """One tag in publication order is walked from the link rows' own index: the scheduled
    and the deleted article it carries must not appear, and the order must hold."""
    published = [a for a in dataset["articles"] if a["status"] == "published"]
    tag = published[which]["tags"][0]
    walked: list[str] = []
    url: str | None = f"/v1/articles?tag={tag}&sort={sort}&limit=1&fields=slug"
    while url:
        body = client.get(url).json()
        walked.extend(item["slug"] for item in body["data"])
        url = body["links"]["next"]
        assert len(walked) <= DATASET_SIZE, "the walk does not end"
    tagged = {a["slug"] for a in dataset["articles"] if tag in a["tags"]}
    expected = [slug for slug in expected_order(dataset, session, sort) if slug in tagged]
    assert published[which]["slug"] in tagged and published[which]["slug"] not in walked
    assert len(expected) >= 2
    assert walked == expected


@pytest.mark.parametrize("query", ["", "&sort=title", "&limit=1", "&limit=100"])
def test_count_true_gives_the_number_of_visible_articles(client, dataset, query):
    meta = client.get(f"/v1/articles?count=true{query}").json()["meta"]
    assert meta["total"] == len(visible_articles(dataset))


def test_count_is_absent_unless_asked(client, dataset):
    assert "total" not in client.get("/v1/articles").json()["meta"]


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("/v1/tags?count=true", "tags"),
        ("/v1/sources?count=true", "sources"),
        ("/v1/actions?active=all&count=true", "actions"),
        ("/v1/authors?count=true", "authors"),
    ],
)
def test_count_true_on_other_lists(client, dataset, url, key):
    assert client.get(url).json()["meta"]["total"] == len(dataset[key])

"""Pages: article rows of kind `page`, read at /v1/pages, written at /v1/admin/pages with the
articles' workflow, and in no article read."""

from pathlib import Path
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient

from api.articles.models import ArticleKind
from api.articles.service import page_statements
from api.bundle.importing import import_bundle
from api.bundle.validation import parse_bundle
from api.core import migrations
from api.core.db import make_engine, make_sessionmaker
from api.core.settings import load_settings
from api.main import create_app
from tests.conftest import FIXED_NOW, fresh_database
from tests.factories import article, author, bundle, load, source, tag

SHARED = {"authors": ["alex"], "tags": ["rights"], "sources": [{"source": "hrw"}]}


def page(slug: str = "about", **overrides):
    return article(slug, kind="page", **overrides)


def content():
    return bundle(
        authors=[author("alex")],
        tags=[tag("rights")],
        sources=[source("hrw")],
        articles=[
            article("story", days_ago=2, **SHARED),
            page("about", title="About us", days_ago=1, **SHARED),
            page("privacy", title="Privacy policy", days_ago=3),
            page("draft-page", status="draft"),
        ],
    )


def slugs(response):
    assert response.status_code == 200, response.text
    return [item["slug"] for item in response.json()["data"]]


def test_pages_are_in_no_article_read(client, engine):
    load(engine, content())
    assert slugs(client.get("/v1/articles")) == ["story"]
    assert client.get("/v1/articles?count=true").json()["meta"]["total"] == 1
    assert slugs(client.get("/v1/articles?tag=rights")) == ["story"]
    assert slugs(client.get("/v1/articles?source=hrw&author=alex")) == ["story"]
    assert slugs(client.get("/v1/articles?tag=rights,other")) == ["story"]
    assert client.get("/v1/articles/about").status_code == 404
    assert client.get("/v1/articles/about/related").status_code == 404
    assert slugs(client.get("/v1/articles/story/related")) == []
    assert slugs(client.get("/v1/search?q=about")) == []
    assert slugs(client.get("/v1/search?q=body")) == ["story"]
    assert client.get("/v1/tags/rights").json()["data"]["article_count"] == 1
    assert client.get("/v1/sources/hrw").json()["data"]["article_count"] == 1
    assert [t["article_count"] for t in client.get("/v1/tags").json()["data"]] == [1]
    rss = ElementTree.fromstring(client.get("/feeds/rss.xml").content)
    assert [item.findtext("title") for item in rss.iter("item")] == ["Story"]
    feed = client.get("/feeds/feed.json?tag=rights").json()
    assert [item["title"] for item in feed["items"]] == ["Story"]
    atom = client.get("/feeds/atom.xml").text
    assert "About us" not in atom and "Story" in atom


def test_pages_are_read_at_v1_pages_in_the_article_shape(client, engine):
    load(engine, content())
    listed = client.get("/v1/pages")
    assert slugs(listed) == ["about", "privacy"]  # newest first; no draft, no article
    assert "articles" not in listed.headers["Surrogate-Key"].split()
    assert "pages" in listed.headers["Surrogate-Key"].split()
    assert slugs(client.get("/v1/pages?sort=title")) == ["about", "privacy"]
    assert client.get("/v1/pages?count=true&limit=1").json()["meta"]["total"] == 2
    item = client.get("/v1/pages/about")
    assert item.status_code == 200
    data = item.json()["data"]
    assert data["title"] == "About us" and data["body_html"]
    assert data["links"]["self"] == "http://testserver/v1/pages/about"
    # No canonical URL of its own: its page on the frontend (site URL and page template).
    assert data["canonical_url"] == "http://testserver/about/"
    assert [a["slug"] for a in data["authors"]] == ["alex"]
    assert f"page:{data['id']}" in item.headers["Surrogate-Key"].split()
    assert item.headers["ETag"]
    again = client.get("/v1/pages/about", headers={"If-None-Match": item.headers["ETag"]})
    assert again.status_code == 304
    assert client.get("/v1/pages/story").status_code == 404  # an article is no page
    assert client.get("/v1/pages/draft-page").status_code == 404
    assert client.get("/v1/pages?tag=rights").status_code == 422  # no article filters
    story = client.get("/v1/articles/story").json()["data"]
    assert story["canonical_url"] == "http://testserver/story/"
    assert story["links"]["self"] == "http://testserver/v1/articles/story"


def test_pages_list_statements_do_not_grow_with_the_page_size(
    uncached_client, engine, count_statements
):
    load(
        engine,
        bundle(
            authors=[author("alex")],
            tags=[tag("rights")],
            sources=[source("hrw")],
            articles=[page(f"page-{n:02d}", days_ago=n + 1, **SHARED) for n in range(30)]
            + [article(f"story-{n:02d}", **SHARED) for n in range(30)],
        ),
    )
    client = uncached_client
    client.get("/v1/pages?limit=1")  # warm up
    counts = []
    for size in (2, 25):
        with count_statements() as counter:
            assert len(slugs(client.get(f"/v1/pages?limit={size}"))) == size
        counts.append(counter.count)
    # the page, its tags, its authors, its corrections, and the site (the `canonical_url`
    # fallback)
    assert counts == [5, 5]
    with count_statements() as counter:
        client.get("/v1/pages?limit=25&fields=slug,title")
    assert counter.count == 3, "canonical_url not shown: no read of the site"


def explain(engine, statement, params):
    """The database's plan for `statement` (PostgreSQL: with sequential scans discouraged,
    as on a table too big to read whole)."""
    compiled = statement.compile(dialect=engine.dialect)
    values = compiled.construct_params(params)
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            args = tuple(values[name] for name in compiled.positiontup or ())
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", args)
            return "\n".join(str(row[-1]) for row in rows)
        connection.exec_driver_sql("SET enable_seqscan = off")
        # Nor a sort of the few rows there are, whatever statistics earlier tests left
        # (autovacuum analyses the table when it likes): a top-16 of a large table walks
        # an index in order.
        connection.exec_driver_sql("SET enable_sort = off")
        rows = connection.exec_driver_sql(f"EXPLAIN {compiled}", values)
        return "\n".join(row[0] for row in rows)


@pytest.mark.parametrize("kind", list(ArticleKind))
@pytest.mark.parametrize("sort", ["-published_at", "title", "-updated_at"])
def test_lists_of_one_kind_walk_an_index_led_by_kind(engine, kind, sort):
    load(engine, content())
    paged, _counted = page_statements((), sort, False, False, kind)
    sqlite = engine.dialect.name == "sqlite"
    params = {"now": "2026-06-01 12:00:00.000000" if sqlite else FIXED_NOW, "limit": 16}
    plan = explain(engine, paged, params)
    column = {"-published_at": "published", "title": "title", "-updated_at": "updated"}[sort]
    assert f"ix_articles_{column}" in plan, plan
    if engine.dialect.name == "sqlite":
        assert "(kind=?" in plan, plan  # kind is the index's equality, not a filter after it
        assert "SCAN articles" not in plan, plan  # (the page's few rows are sorted after)


def test_an_old_bundle_without_kind_imports_articles(client, engine):
    load(engine, bundle(articles=[{k: v for k, v in article("old").items() if k != "kind"}]))
    assert slugs(client.get("/v1/articles")) == ["old"]
    assert slugs(client.get("/v1/pages")) == []


def test_export_then_import_into_an_empty_database_keeps_pages(
    client, engine, as_, backend, tmp_path: Path
):
    load(engine, content())
    exported = client.get("/v1/admin/export", headers=as_("editor")).json()
    kinds = {item["slug"]: item["kind"] for item in exported["articles"]}
    assert kinds == {"story": "article", "about": "page", "privacy": "page", "draft-page": "page"}
    before = {path: client.get(path).json() for path in ("/v1/pages", "/v1/pages/about")}
    again = client.post("/v1/admin/import", json=exported, headers=as_("editor"))
    assert again.status_code == 200
    assert sum(again.json()["data"]["updated"].values()) == 0

    with fresh_database(backend, tmp_path) as url:
        other = make_engine(load_settings(database_url=url))
        try:
            migrations.upgrade(other)
            with make_sessionmaker(other)() as session, session.begin():
                import_bundle(session, parse_bundle(exported), FIXED_NOW)
            app = create_app(
                load_settings(database_url=url, public_url="http://testserver", environment="test",
                              webhook_worker=False),
                engine=other,
            )  # fmt: skip
            app.state.clock = lambda: FIXED_NOW
            with TestClient(app) as fresh:
                after = {path: fresh.get(path).json() for path in before}
                assert after == before
                assert slugs(fresh.get("/v1/articles")) == ["story"]
        finally:
            other.dispose()

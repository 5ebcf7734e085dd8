"""/sitemap.xml, /sitemaps/{name}.xml and /sitemap-news.xml: valid against the sitemap
schemas (tests/data/xsd), frontend URLs, lastmod from the content, keyset-built in a fixed
number of statements, months of more than the per-file limit split."""

from datetime import timedelta
from pathlib import Path

import pytest
from lxml import etree

from api.sitemaps import service
from tests.conftest import FIXED_NOW
from tests.factories import article, author, bundle, iso, load, tag
from tests.site.test_site import SETTINGS, patch_site

XSD = Path(__file__).resolve().parents[1] / "data" / "xsd"
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9",
      "n": "http://www.google.com/schemas/sitemap-news/0.9"}  # fmt: skip


def schema(name):
    return etree.XMLSchema(etree.parse(str(XSD / name)))


def valid(response, xsd):
    """The response's document, after checking it against `xsd`."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/xml"
    document = etree.fromstring(response.content)
    checker = schema(xsd)
    assert checker.validate(document), checker.error_log
    return document


def locs(document, element="s:url"):
    return [node.findtext("s:loc", namespaces=NS) for node in document.findall(element, NS)]


def lastmods(document, element="s:url"):
    return {
        node.findtext("s:loc", namespaces=NS): node.findtext("s:lastmod", namespaces=NS)
        for node in document.findall(element, NS)
    }


OLD = "2026-01-01T00:00:00Z"


def content():
    at = lambda **delta: iso(FIXED_NOW - timedelta(**delta))  # noqa: E731
    return bundle(
        authors=[author("alex"), author("sam"), author("nobody")],
        tags=[tag("rights", updated_at=OLD), tag("russia"), tag("unused")],
        articles=[
            article("fresh", days_ago=1, tags=["rights"], authors=["alex"],
                    updated_at=at(hours=2)),
            article("two-days", published_at=at(hours=47), tags=["russia"], authors=["sam"]),
            article("too-old-for-news", published_at=at(hours=49)),
            article("april", published_at="2026-04-20T08:00:00Z", tags=["rights"],
                    updated_at="2026-05-02T10:00:00Z"),
            article("draft", status="draft", published_at=None, tags=["unused"],
                    authors=["nobody"]),
            article("scheduled", published_at=iso(FIXED_NOW + timedelta(days=1))),
            article("gone", deleted_at=at(days=1)),
            article("about", kind="page", updated_at="2026-03-01T00:00:00Z"),
        ],
    )  # fmt: skip


@pytest.fixture
def site(client, as_):
    assert patch_site(client, as_, SETTINGS).status_code == 200


def test_the_index_lists_every_sitemap_with_its_lastmod(client, engine, site):
    load(engine, content())
    response = client.get("/sitemap.xml")
    document = valid(response, "siteindex.xsd")
    names = [loc.removeprefix("http://testserver/sitemaps/") for loc in locs(document, "s:sitemap")]
    assert names == [
        "pages.xml",
        "tags.xml",
        "authors.xml",
        "articles-2026-05.xml",
        "articles-2026-04.xml",
    ]
    dates = lastmods(document, "s:sitemap")
    assert dates["http://testserver/sitemaps/articles-2026-04.xml"] == "2026-05-02T10:00:00Z"
    assert dates["http://testserver/sitemaps/articles-2026-05.xml"] == "2026-06-01T12:00:00Z"
    assert response.headers["ETag"]
    assert "sitemaps" in response.headers["Surrogate-Key"].split()
    assert response.headers["Last-Modified"]
    cached = client.get("/sitemap.xml", headers={"If-None-Match": response.headers["ETag"]})
    assert cached.status_code == 304


def test_each_sitemap_lists_frontend_urls(client, engine, site):
    load(engine, content())
    may = valid(client.get("/sitemaps/articles-2026-05.xml"), "sitemap.xsd")
    # oldest first; drafts, scheduled, deleted and pages left out
    assert locs(may) == [
        "https://news.example.org/news/too-old-for-news/",
        "https://news.example.org/news/two-days/",
        "https://news.example.org/news/fresh/",
    ]
    assert lastmods(may)["https://news.example.org/news/fresh/"] == "2026-06-01T10:00:00Z"
    april = valid(client.get("/sitemaps/articles-2026-04.xml"), "sitemap.xsd")
    assert locs(april) == ["https://news.example.org/news/april/"]
    pages = valid(client.get("/sitemaps/pages.xml"), "sitemap.xsd")
    assert locs(pages) == ["https://news.example.org/", "https://news.example.org/about/"]
    assert lastmods(pages)["https://news.example.org/about/"] == "2026-03-01T00:00:00Z"
    tags = valid(client.get("/sitemaps/tags.xml"), "sitemap.xsd")
    assert sorted(locs(tags)) == [
        "https://tags.example.org/t/rights",  # an absolute tag template
        "https://tags.example.org/t/russia",
    ]  # not `unused`: only its draft has it
    # a tag changes when one of its articles does
    assert lastmods(tags)["https://tags.example.org/t/rights"] == "2026-06-01T10:00:00Z"
    authors = valid(client.get("/sitemaps/authors.xml"), "sitemap.xsd")
    assert sorted(locs(authors)) == [
        "https://news.example.org/author/alex/",
        "https://news.example.org/author/sam/",
    ]


@pytest.mark.parametrize(
    "name",
    ["articles-2026-03", "articles-2026-05-1", "articles-2026-05-2", "articles-2026-13",
     "pages-0", "tags-01", "everything", "authors-2"],
)  # fmt: skip
def test_a_sitemap_the_index_does_not_list_is_404(client, engine, name):
    load(engine, content())
    response = client.get(f"/sitemaps/{name}.xml")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_without_tags_or_site_settings(client, engine):
    load(engine, bundle(articles=[article("story")]))
    document = valid(client.get("/sitemap.xml"), "siteindex.xsd")
    assert locs(document, "s:sitemap") == [
        "http://testserver/sitemaps/pages.xml",
        "http://testserver/sitemaps/articles-2026-05.xml",
    ]
    assert client.get("/sitemaps/tags.xml").status_code == 404
    pages = valid(client.get("/sitemaps/pages.xml"), "sitemap.xsd")
    assert locs(pages) == ["http://testserver/"]  # the frontend is MASTHEAD_PUBLIC_URL
    story = valid(client.get("/sitemaps/articles-2026-05.xml"), "sitemap.xsd")
    assert locs(story) == ["http://testserver/story/"]  # the default template


def test_the_news_sitemap_has_the_last_48_hours(client, engine, site):
    load(engine, content())
    document = valid(client.get("/sitemap-news.xml"), "news-urlset.xsd")
    assert locs(document) == [
        "https://news.example.org/news/fresh/",
        "https://news.example.org/news/two-days/",
    ]
    news = document.find("s:url/n:news", NS)
    assert news.findtext("n:publication/n:name", namespaces=NS) == "The Campaign Desk"
    assert news.findtext("n:publication/n:language", namespaces=NS) == "en"  # from en-GB
    assert news.findtext("n:publication_date", namespaces=NS) == "2026-05-31T12:00:00Z"
    assert news.findtext("n:title", namespaces=NS) == "Fresh"


def test_the_news_schema_refuses_what_google_refuses():
    """The schemas can fail: a bad language, a missing title, a relative URL."""
    good = (
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"><url>'
        "<loc>https://news.example.org/a</loc><news:news><news:publication>"
        "<news:name>N</news:name><news:language>LANG</news:language></news:publication>"
        "<news:publication_date>2026-05-31T12:00:00Z</news:publication_date>TITLE"
        "</news:news></url></urlset>"
    )
    news = schema("news-urlset.xsd")
    title = "<news:title>T</news:title>"
    assert news.validate(etree.fromstring(good.replace("LANG", "en").replace("TITLE", title)))
    assert not news.validate(
        etree.fromstring(good.replace("LANG", "en-GB").replace("TITLE", title))
    )
    assert not news.validate(etree.fromstring(good.replace("LANG", "en").replace("TITLE", "")))
    sitemap = schema("sitemap.xsd")
    relative = '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>/a</loc></url></urlset>'
    assert not sitemap.validate(etree.fromstring(relative))


def test_a_month_over_the_limit_splits(client, engine, monkeypatch):
    monkeypatch.setattr(service, "URLS_PER_SITEMAP", 2)
    monkeypatch.setattr(service, "BATCH", 1)  # and each file is read a row at a time
    load(engine, bundle(articles=[article(f"story-{n}", days_ago=n + 1) for n in range(5)]))
    index = valid(client.get("/sitemap.xml"), "siteindex.xsd")
    names = [loc.rsplit("/", 1)[1] for loc in locs(index, "s:sitemap")]
    assert names == ["pages.xml", "articles-2026-05.xml", "articles-2026-05-2.xml",
                     "articles-2026-05-3.xml"]  # fmt: skip
    listed = []
    for name in names[1:]:
        document = valid(client.get(f"/sitemaps/{name}"), "sitemap.xsd")
        assert len(locs(document)) <= 2
        listed += locs(document)
    assert listed == [f"http://testserver/story-{n}/" for n in reversed(range(5))]
    assert client.get("/sitemaps/articles-2026-05-4.xml").status_code == 404


def test_statements_do_not_grow_with_the_content(uncached_client, engine, count_statements):
    client = uncached_client

    def statements(url):
        with count_statements() as counter:
            assert client.get(url).status_code == 200
        return counter.count

    load(engine, bundle(tags=[tag("rights")], authors=[author("alex")],
                        articles=[article(f"a-{n}", tags=["rights"], authors=["alex"])
                                  for n in range(2)]))  # fmt: skip
    client.get("/sitemap.xml")  # warm up: connection set-up is not the sitemap's cost
    urls = ["/sitemap.xml", "/sitemaps/articles-2026-05.xml", "/sitemaps/tags.xml",
            "/sitemaps/authors.xml", "/sitemaps/pages.xml", "/sitemap-news.xml"]  # fmt: skip
    small = [statements(url) for url in urls]
    load(engine, bundle(tags=[tag(f"t-{n}") for n in range(25)], authors=[author("alex")],
                        articles=[article(f"b-{n}", days_ago=1 + n, tags=[f"t-{n}"],
                                          authors=["alex"]) for n in range(25)]))  # fmt: skip
    large = [statements(url) for url in urls]
    assert small == large, dict(zip(urls, zip(small, large, strict=True), strict=True))
    assert small[0] <= 6, "the index: site, months, pages, tags, authors"

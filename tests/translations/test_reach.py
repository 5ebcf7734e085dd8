"""Translations beyond the article reads: feeds, sitemaps (`hreflang` alternates), JSON-LD,
Ghost's Content API, the content bundle, and the query plan of a list with a preference."""

from datetime import timedelta
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from api.articles.models import ArticleKind
from api.articles.service import page_statements
from api.core.languages import LanguagePreference
from tests.conftest import FIXED_NOW
from tests.factories import article, bundle, load
from tests.jsonld.vocabulary import schema_org
from tests.pages.test_pages import explain
from tests.translations.test_translations import langs_of, stories

XSD = Path(__file__).resolve().parents[1] / "data" / "xsd"
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}


def valid(response, xsd: str):
    assert response.status_code == 200, response.text
    document = etree.fromstring(response.content)
    checker = etree.XMLSchema(etree.parse(str(XSD / xsd)))
    assert checker.validate(document), checker.error_log
    return document


# --- Feeds --------------------------------------------------------------------------------


def test_feeds_follow_lang(client, engine):
    load(
        engine, bundle(articles=[*stories("one", "two"), article("solo", lang="it", days_ago=0.5)])
    )
    titles = lambda url: [e.link for e in feedparser.parse(client.get(url).content).entries]  # noqa: E731
    assert titles("/feeds/rss.xml") == [
        "http://testserver/solo/",
        "http://testserver/one-en/",
        "http://testserver/two-en/",
    ]
    assert titles("/feeds/atom.xml?lang=de") == [
        "http://testserver/one-de/",
        "http://testserver/two-de/",
    ]
    items = client.get("/feeds/feed.json?lang=fr,*").json()["items"]
    assert [(i["url"], i["language"]) for i in items] == [
        ("http://testserver/solo/", "it"),
        ("http://testserver/one-fr/", "fr"),
        ("http://testserver/two-fr/", "fr"),
    ]
    assert client.get("/feeds/rss.xml?lang=de;en").status_code == 422


# --- Sitemaps -----------------------------------------------------------------------------


def test_sitemaps_list_every_version_with_hreflang_alternates(client, engine):
    items = [*stories("one"), article("solo", lang="it", days_ago=2)]
    items += [
        article("about", kind="page", lang="en"),
        article("ueber", kind="page", lang="de", translation_of="about"),
        article("story-draft-de", lang="es", status="draft", translation_of="one-en"),
    ]
    load(engine, bundle(articles=items))
    month = (FIXED_NOW - timedelta(days=1)).strftime("%Y-%m")
    document = valid(client.get(f"/sitemaps/articles-{month}.xml"), "hreflang-urlset.xsd")
    by_loc = {
        url.findtext("s:loc", namespaces=NS): [
            (link.get("hreflang"), link.get("href")) for link in url.findall("x:link", NS)
        ]
        for url in document.findall("s:url", NS)
    }
    versions = [
        ("de", "http://testserver/one-de/"),
        ("en", "http://testserver/one-en/"),
        ("fr", "http://testserver/one-fr/"),
    ]
    assert by_loc == {
        "http://testserver/solo/": [],
        "http://testserver/one-en/": versions,
        "http://testserver/one-de/": versions,
        "http://testserver/one-fr/": versions,
    }
    assert all(link.get("rel") == "alternate" for link in document.iterfind(".//x:link", NS))
    pages = valid(client.get("/sitemaps/pages.xml"), "hreflang-urlset.xsd")
    about = next(
        u
        for u in pages.findall("s:url", NS)
        if u.findtext("s:loc", namespaces=NS).endswith("/about/")
    )
    assert [(x.get("hreflang"), x.get("href")) for x in about.findall("x:link", NS)] == [
        ("de", "http://testserver/ueber/"),
        ("en", "http://testserver/about/"),
    ]
    # Without the xhtml schema the alternates are refused (processContents="strict"): the
    # check can fail.
    plain = etree.XMLSchema(etree.parse(str(XSD / "sitemap.xsd")))
    assert not plain.validate(document)
    bad = etree.fromstring(
        f'<urlset xmlns="{NS["s"]}" xmlns:xhtml="{NS["x"]}"><url><loc>https://a.example/x</loc>'
        '<xhtml:link rel="alternate" hreflang="not a tag" href="https://a.example/y"/>'
        "</url></urlset>"
    )
    assert not etree.XMLSchema(etree.parse(str(XSD / "hreflang-urlset.xsd"))).validate(bad)


def test_the_news_sitemap_names_each_article_language(client, engine):
    load(engine, bundle(articles=stories("one")))
    document = valid(client.get("/sitemap-news.xml"), "news-urlset.xsd")
    news = "{http://www.google.com/schemas/sitemap-news/0.9}"
    languages = [node.text for node in document.iter(f"{news}language")]
    assert sorted(languages) == ["de", "en", "fr"]


def test_sitemap_alternates_cost_one_statement_per_batch(uncached_client, engine, count_statements):
    month = (FIXED_NOW - timedelta(days=1)).strftime("%Y-%m")
    load(engine, bundle(articles=stories("s0")))
    uncached_client.get(f"/sitemaps/articles-{month}.xml")
    with count_statements() as small:
        uncached_client.get(f"/sitemaps/articles-{month}.xml")
    load(engine, bundle(articles=stories(*(f"s{n}" for n in range(1, 20)), days_ago=2)))
    with count_statements() as large:
        response = uncached_client.get(f"/sitemaps/articles-{month}.xml")
    assert response.content.count(b"<url>") > 30
    assert small.count == large.count


# --- JSON-LD ------------------------------------------------------------------------------


def test_jsonld_names_the_original_and_its_translations(client, engine):
    load(engine, bundle(articles=stories("one")))
    original = client.get("/v1/articles/one-en/jsonld").json()
    assert schema_org().problems(original) == []
    assert original["inLanguage"] == "en"
    assert original["workTranslation"] == [
        {
            "@type": "NewsArticle",
            "@id": f"http://testserver/one-{lang}/#article",
            "url": f"http://testserver/one-{lang}/",
            "inLanguage": lang,
        }
        for lang in ("de", "fr")
    ]
    assert "translationOfWork" not in original
    german = client.get("/v1/articles/one-de/jsonld").json()
    assert schema_org().problems(german) == []
    assert german["inLanguage"] == "de"
    assert german["translationOfWork"]["@id"] == "http://testserver/one-en/#article"
    assert "workTranslation" not in german
    embedded = client.get("/v1/articles/one-de?include=jsonld&fields=slug").json()["data"]
    assert embedded["jsonld"] == german


# --- Ghost ----------------------------------------------------------------------------------


def test_ghost_posts_follow_accept_language(client, engine, tokens):
    load(
        engine, bundle(articles=[*stories("one", "two"), article("solo", lang="it", days_ago=0.5)])
    )
    url = f"/ghost/api/content/posts/?key={tokens['content']}"
    posts = lambda **headers: [p["slug"] for p in client.get(url, headers=headers).json()["posts"]]  # noqa: E731
    assert posts() == ["solo", "one-en", "two-en"]
    assert posts(**{"Accept-Language": "de, fr;q=0.5"}) == ["solo", "one-de", "two-de"]
    response = client.get(url, headers={"Accept-Language": "fr"})
    assert "Accept-Language" in response.headers["Vary"]
    assert response.json()["meta"]["pagination"]["total"] == 3
    streamed = client.get(url + "&limit=all", headers={"Accept-Language": "fr"})
    assert [p["slug"] for p in streamed.json()["posts"]] == ["solo", "one-fr", "two-fr"]


# --- Bundles --------------------------------------------------------------------------------


def test_export_then_import_keeps_the_groups(client, engine, as_):
    load(engine, bundle(articles=[*stories("one"), article("solo", lang="it")]))
    exported = client.get("/v1/admin/export", headers=as_("editor")).json()
    named = {item["slug"]: item.get("translation_of") for item in exported["articles"]}
    assert named == {"one-en": None, "one-de": "one-en", "one-fr": "one-en", "solo": None}
    before = client.get("/v1/articles/one-de").json()["data"]["translations"]
    again = client.post("/v1/admin/import", json=exported, headers=as_("editor"))
    assert again.status_code == 200, again.text
    assert client.get("/v1/articles/one-de").json()["data"]["translations"] == before
    # Into a database where nothing is grouped: the groups come back.
    for item in exported["articles"]:
        item.pop("id")
        item["slug"] = f"copy-{item['slug']}"
        if item.get("translation_of"):
            item["translation_of"] = f"copy-{item['translation_of']}"
    copied = client.post("/v1/admin/import", json=exported, headers=as_("editor"))
    assert copied.status_code == 200, copied.text
    assert langs_of(client.get("/v1/articles/copy-one-fr").json()["data"]) == {
        "de": "copy-one-de",
        "en": "copy-one-en",
    }


@pytest.mark.parametrize(
    ("items", "where"),
    [
        ([article("a"), article("b", lang="de", translation_of="nowhere")], 1),
        ([article("a", lang="de", translation_of="a")], 0),
        ([article("a"), article("b", kind="page", lang="de", translation_of="a")], 1),
        ([article("a"), article("b", translation_of="a")], 1),  # two English versions
    ],
    ids=["unknown", "itself", "other-kind", "same-language"],
)
def test_a_bundle_with_a_bad_translation_of_is_refused_whole(client, as_, items, where):
    response = client.post("/v1/admin/import", json=bundle(articles=items), headers=as_("editor"))
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == ["body", "articles", where, "translation_of"]
    assert client.get("/v1/admin/articles", headers=as_("editor")).json()["data"] == []


# --- Plans ----------------------------------------------------------------------------------


@pytest.mark.parametrize("preference", ["languages:0*", "languages:2", "languages:2*"])
def test_a_list_with_a_preference_walks_the_index_and_looks_siblings_up(engine, preference):
    load(engine, bundle(articles=stories("one", "two")))
    paged, _ = page_statements((preference,), "-published_at", False, False, ArticleKind.article)
    sqlite = engine.dialect.name == "sqlite"
    params = {
        "now": "2026-06-01 12:00:00.000000" if sqlite else FIXED_NOW,
        "limit": 16,
        **LanguagePreference(("de", "fr")).params(),
    }
    plan = explain(engine, paged, params)
    assert "ix_articles_published" in plan, plan
    # Each listed row's siblings by the group's index (on PostgreSQL, with the planner's
    # choice of the two on a table this small), never every visible article.
    assert "ix_articles_translation_" in plan, plan
    if sqlite:
        assert "ix_articles_translation_visible (translation_group=?" in plan, plan
        assert "SCAN articles" not in plan and "SCAN sibling" not in plan, plan
    else:
        assert "Seq Scan" not in plan, plan

"""GET /v1/articles/{slug}/jsonld and `?include=jsonld`: schema.org NewsArticle, checked
against the schema.org vocabulary (every type and property exists and fits)."""

from types import SimpleNamespace

import pytest

from api.articles.service import get_visible_article
from api.core.db import make_sessionmaker
from api.jsonld.service import JSONLD_RELATIONS, news_article
from api.site.service import load_site
from tests.conftest import FIXED_NOW
from tests.factories import article, author, bundle, load, source, tag
from tests.jsonld.vocabulary import schema_org
from tests.site.test_site import SETTINGS, patch_site

CITATIONS = [
    {"source": "hrw", "cited_url": "https://hrw.example.org/report", "context": "Confirmed it"},
    {"source": "milashina", "cited_url": None, "context": "Broke the story"},
]


def content(**story):
    return bundle(
        authors=[author("alex", url="https://alex.example.net/")],
        tags=[tag("rights", name="LGBTIQ rights"), tag("russia")],
        sources=[source("hrw"), source("milashina", kind="person", name="Elena Milashina")],
        articles=[
            article(
                "story",
                title="Demonstrations in London",
                subtitle="Russia refuses to act",
                excerpt="About 400 protesters gathered.",
                lang="en-GB",
                authors=["alex"],
                tags=["rights", "russia"],
                sources=CITATIONS,
                feature_image={
                    "url": "https://img.example.org/a.jpg",
                    "alt": "Protest",
                    "caption": "Outside the embassy",
                },
                **story,
            ),
            article("draft", status="draft", published_at=None),
            article("about", kind="page"),
        ],
    )


@pytest.fixture
def site(client, as_):
    saved = patch_site(client, as_, SETTINGS)
    assert saved.status_code == 200, saved.text


def test_the_article_is_a_valid_news_article(client, engine, site):
    load(engine, content())
    response = client.get("/v1/articles/story/jsonld")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/ld+json"
    assert response.headers["ETag"]
    assert "article:" in response.headers["Surrogate-Key"]
    assert "site" in response.headers["Surrogate-Key"].split()
    doc = response.json()
    assert schema_org().problems(doc) == []
    url = "https://news.example.org/news/story/"  # the site's article_url_template
    assert doc["@context"] == "https://schema.org" and doc["@type"] == "NewsArticle"
    assert doc["url"] == url and doc["mainEntityOfPage"]["@id"] == url
    assert doc["headline"] == "Demonstrations in London"
    assert doc["alternativeHeadline"] == "Russia refuses to act"
    assert doc["datePublished"] == "2026-05-31T12:00:00Z"
    assert doc["dateModified"].endswith("Z")
    assert doc["inLanguage"] == "en-GB"
    assert doc["isAccessibleForFree"] is True
    assert doc["keywords"] == ["LGBTIQ rights", "Russia"]
    assert doc["image"]["url"] == "https://img.example.org/a.jpg"
    assert doc["author"] == [
        {
            "@type": "Person",
            "name": "Alex",
            "url": "https://news.example.org/author/alex/",
            "sameAs": "https://alex.example.net/",
        }
    ]
    assert doc["publisher"] == {
        "@type": "Organization",
        "name": "The Campaign Desk",
        "url": "https://news.example.org",
        "logo": {"@type": "ImageObject", "url": "https://news.example.org/logo.png"},
    }
    cited, named_only = doc["citation"]
    assert cited["@type"] == "CreativeWork"
    assert cited["url"] == "https://hrw.example.org/report"
    assert cited["publisher"] == {"@type": "Organization", "name": "HRW",
                                  "url": "https://hrw.example.org/"}  # fmt: skip
    assert "url" not in named_only  # no cited page: the work has no known URL
    assert named_only["publisher"]["@type"] == "Person"
    assert "correction" not in doc  # no corrections yet
    again = client.get(
        "/v1/articles/story/jsonld", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304


def test_include_jsonld_embeds_the_same_object(client, engine, site):
    load(engine, content())
    alone = client.get("/v1/articles/story/jsonld").json()
    embedded = client.get("/v1/articles/story?include=jsonld").json()["data"]
    assert embedded["jsonld"] == alone
    assert {"authors", "tags", "sources", "actions"} <= set(embedded)  # the usual relations
    narrowed = client.get("/v1/articles/story?include=tags,jsonld").json()["data"]
    assert narrowed["jsonld"] == alone
    assert "tags" in narrowed and "authors" not in narrowed and "sources" not in narrowed
    assert "jsonld" not in client.get("/v1/articles/story").json()["data"]
    assert client.get("/v1/articles?include=jsonld").status_code == 422  # one article only
    assert client.get("/v1/pages/about?include=jsonld").status_code == 422
    assert client.get("/v1/articles/story?fields=jsonld").status_code == 422


def test_without_site_settings_the_publisher_is_the_default_site(client, engine):
    load(engine, content(canonical_url="https://old.example.com/story"))
    doc = client.get("/v1/articles/story/jsonld").json()
    assert schema_org().problems(doc) == []
    assert doc["publisher"] == {"@type": "Organization", "name": "Masthead",
                                "url": "http://testserver"}  # fmt: skip
    assert doc["url"] == "http://testserver/story/"  # the frontend's page, not the old URL


@pytest.mark.parametrize("slug", ["draft", "about", "missing"])
def test_drafts_pages_and_unknown_slugs_are_404(client, engine, slug):
    load(engine, content())
    response = client.get(f"/v1/articles/{slug}/jsonld")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_corrections_become_correction_comments(engine):
    """The hook for corrections: a view's `corrections` become `correction` entries."""
    load(engine, content())
    with make_sessionmaker(engine)() as session:
        view = get_visible_article(session, FIXED_NOW, "story", JSONLD_RELATIONS)
        site = load_site(session, "http://testserver")
    view.corrections = [  # type: ignore[attr-defined]
        SimpleNamespace(
            kind="correction", text="An earlier version gave 300.", published_at=FIXED_NOW
        ),
    ]
    doc = news_article(view, site)
    assert schema_org().problems(doc) == []
    assert doc["correction"] == [
        {
            "@type": "CorrectionComment",
            "name": "Correction",
            "text": "An earlier version gave 300.",
            "datePublished": "2026-06-01T12:00:00Z",
        }
    ]


def test_the_vocabulary_check_can_fail():
    check = schema_org().problems
    assert check({"@type": "NewsArticle", "headline": "x"}) == []
    assert check({"@type": "NewsArcticle"}) == ["$: unknown type 'NewsArcticle'"]
    assert check({"@type": "NewsArticle", "logo": "https://x.example/l.png"}) == [
        "$.logo: 'logo' is not a property of NewsArticle"
    ]
    assert check({"@type": "NewsArticle", "isAccessibleForFree": "yes"})
    assert check({"@type": "NewsArticle", "author": {"@type": "Place", "name": "Here"}})
    assert check({"@type": "NewsArticle", "headlines": "x"})

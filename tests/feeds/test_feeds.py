from datetime import timedelta

import feedparser
import pytest

from tests.conftest import FIXED_NOW
from tests.factories import article, author, bundle, iso, load, source, tag

FEEDS = ["/feeds/rss.xml", "/feeds/atom.xml"]


def seed(engine):
    load(
        engine,
        bundle(
            authors=[author("alex", url="https://alex.example.org/")],
            tags=[tag("rights"), tag("russia")],
            sources=[source("hrw")],
            articles=[
                article(
                    "older",
                    days_ago=3,
                    tags=["rights"],
                    authors=["alex"],
                    body_html="<p>Older <em>body</em> &amp; more.</p>",
                ),
                article(
                    "newer",
                    days_ago=1,
                    tags=["russia"],
                    authors=["alex"],
                    sources=[{"source": "hrw"}],
                ),
                article("a-draft", status="draft", tags=["rights"]),
                article(
                    "scheduled", published_at=iso(FIXED_NOW + timedelta(days=2)), tags=["rights"]
                ),
            ],
        ),
    )


@pytest.mark.parametrize("path", FEEDS)
def test_feed_parses_cleanly_newest_first_with_full_content(client, engine, path):
    seed(engine)
    response = client.get(path)
    assert response.status_code == 200
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert [e.title for e in parsed.entries] == ["Newer", "Older"]
    older = parsed.entries[1]
    assert "<em>body</em>" in older.content[0].value
    assert older.author == "Alex"
    assert older.id.startswith("urn:masthead:article:")
    assert {t.term for t in older.tags} & {"rights", "Rights"}


@pytest.mark.parametrize("path", FEEDS)
def test_feed_narrowed_by_tag_and_source(client, engine, path):
    seed(engine)
    by_tag = feedparser.parse(client.get(f"{path}?tag=rights").content)
    assert [e.title for e in by_tag.entries] == ["Older"]
    by_source = feedparser.parse(client.get(f"{path}?source=hrw").content)
    assert [e.title for e in by_source.entries] == ["Newer"]


def test_json_feed_has_the_required_fields_of_1_1(client, engine):
    seed(engine)
    response = client.get("/feeds/feed.json")
    assert response.headers["content-type"].startswith("application/feed+json")
    feed = response.json()
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["title"] and feed["feed_url"] == "http://testserver/feeds/feed.json"
    assert [item["title"] for item in feed["items"]] == ["Newer", "Older"]
    for item in feed["items"]:
        assert isinstance(item["id"], str) and item["id"]
        assert item.get("content_html") or item.get("content_text")
        assert item["date_published"].endswith("Z")
        assert item["authors"] == [{"name": "Alex", "url": "https://alex.example.org/"}]


@pytest.mark.parametrize("path", [*FEEDS, "/feeds/feed.json"])
def test_feed_revalidates_with_etag_and_last_modified(client, engine, path):
    seed(engine)
    first = client.get(path)
    assert first.headers["etag"] and first.headers["last-modified"]
    assert client.get(path, headers={"If-None-Match": first.headers["etag"]}).status_code == 304
    since = client.get(path, headers={"If-Modified-Since": first.headers["last-modified"]})
    assert since.status_code == 304
    old = client.get(path, headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})
    assert old.status_code == 200


def test_feed_ids_are_stable_across_slug_changes(client, engine):
    seed(engine)
    before = feedparser.parse(client.get("/feeds/atom.xml").content).entries[0].id
    data = client.get("/v1/articles/newer").json()["data"]
    assert before == f"urn:masthead:article:{data['id']}"


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "tag=BAD!", "bogus=1"])
def test_feed_bad_parameters_are_problems(client, engine, query):
    response = client.get(f"/feeds/rss.xml?{query}")
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"

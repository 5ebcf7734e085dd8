"""The site settings: defaults, PATCH with If-Match, validation, and the frontend URLs that
feeds and `canonical_url` fallbacks are built from."""

from xml.etree import ElementTree

import pytest

from tests.factories import article, bundle, load

SETTINGS = {
    "title": "The Campaign Desk",
    "description": "News and calls to action on LGBTIQ rights.",
    "url": "https://news.example.org",
    "language": "en-GB",
    "timezone": "Europe/London",
    "logo": "https://news.example.org/logo.png",
    "navigation": [{"label": "About", "url": "/about/"}],
    "secondary_navigation": [{"label": "Privacy", "url": "/privacy/"}],
    "social": {"twitter": "@campaigndesk", "mastodon": "@desk@social.example"},
    "article_url_template": "/news/{slug}/",
    "tag_url_template": "https://tags.example.org/t/{slug}",
}


def patch_site(client, as_, body, etag=None):
    if etag is None:
        etag = client.get("/v1/admin/site", headers=as_("admin")).headers["ETag"]
    return client.patch("/v1/admin/site", json=body, headers={**as_("admin"), "If-Match": etag})


def test_defaults_until_saved(client):
    response = client.get("/v1/site")
    assert response.status_code == 200
    assert response.headers["Surrogate-Key"] == "site"
    assert response.headers["ETag"]
    data = response.json()["data"]
    assert data["title"] == "Masthead"
    assert data["url"] == "http://testserver"  # MASTHEAD_PUBLIC_URL
    assert data["article_url_template"] == "/{slug}/"
    assert data["tag_url_template"] == "/tag/{slug}/"
    assert data["author_url_template"] == "/author/{slug}/"
    assert data["page_url_template"] == "/{slug}/"
    assert data["updated_at"] is None


def test_patch_needs_if_match_and_a_fresh_one(client, as_):
    assert (
        client.patch("/v1/admin/site", json={"title": "X"}, headers=as_("admin")).status_code == 428
    )
    first = client.get("/v1/admin/site", headers=as_("admin"))
    saved = patch_site(client, as_, SETTINGS, first.headers["ETag"])
    assert saved.status_code == 200, saved.text
    assert saved.json()["data"]["version"] == 1
    stale = patch_site(client, as_, {"title": "Other"}, first.headers["ETag"])
    assert stale.status_code == 412
    public = client.get("/v1/site").json()["data"]
    assert public["title"] == "The Campaign Desk" and public["timezone"] == "Europe/London"
    assert public["social"] == SETTINGS["social"]
    audit = client.get("/v1/admin/audit", headers=as_("admin")).json()["data"]
    assert [(e["action"], e["entity_type"]) for e in audit] == [("site.update", "site")]
    assert patch_site(client, as_, {"url": None}).json()["data"]["url"] == "http://testserver"


def test_only_admins_change_the_site(client, as_):
    assert client.get("/v1/admin/site", headers=as_("editor")).status_code == 403
    assert client.patch("/v1/admin/site", json={}, headers=as_("editor")).status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        {"timezone": "Mars/Olympus"},
        {"language": "english please"},
        {"url": "javascript:alert(1)"},
        {"logo": "ftp://example.org/logo.png"},
        {"article_url_template": "/news/"},
        {"article_url_template": "/news/{id}/"},
        {"page_url_template": "ftp://x/{slug}"},
        {"preview_url_template": "https://front.example/preview/{slug}"},
        {"navigation": [{"label": "x", "url": "javascript:alert(1)"}]},
        {"navigation": [{"label": "", "url": "/about/"}]},
        {"social": {"myspace": "@me"}},
        {"social": {"twitter": "not a handle"}},
        {"title": None},
        {"unknown": 1},
    ],
)
def test_bad_settings_are_422_naming_the_field(client, as_, body):
    response = patch_site(client, as_, body)
    assert response.status_code == 422, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")


def test_feeds_and_fallbacks_link_to_the_frontend(client, as_, engine):
    load(
        engine,
        bundle(
            articles=[
                article("story"),
                article("elsewhere", canonical_url="https://orig.example/x"),
            ]
        ),
    )
    before = client.get("/feeds/feed.json")
    assert before.json()["title"] == "Masthead"
    assert patch_site(client, as_, SETTINGS).status_code == 200
    feed = client.get("/feeds/feed.json").json()
    assert feed["title"] == "The Campaign Desk"
    assert feed["description"] == "News and calls to action on LGBTIQ rights."
    assert feed["home_page_url"] == "https://news.example.org/"
    assert feed["language"] == "en-GB"
    assert {item["url"] for item in feed["items"]} == {
        "https://news.example.org/news/story/",
        "https://orig.example/x",
    }
    rss = ElementTree.fromstring(client.get("/feeds/rss.xml?tag=none-such").content)
    assert rss.findtext("channel/title") == "The Campaign Desk"
    rss = ElementTree.fromstring(client.get("/feeds/rss.xml").content)
    links = sorted(item.findtext("link") for item in rss.iter("item"))
    assert links == ["https://news.example.org/news/story/", "https://orig.example/x"]
    story = client.get("/v1/articles/story").json()["data"]
    assert story["canonical_url"] == "https://news.example.org/news/story/"
    listed = client.get("/v1/articles").json()["data"]
    assert {a["canonical_url"] for a in listed} == {
        "https://news.example.org/news/story/",
        "https://orig.example/x",
    }


def test_frontend_url_templates(client, as_):
    from api.site.service import SiteView, frontend_url

    site = SiteView(
        title="t", url="https://news.example.org/", tag_url_template="https://t.example/{slug}"
    )
    assert frontend_url(site, "article", "a") == "https://news.example.org/a/"
    assert frontend_url(site, "page", "about") == "https://news.example.org/about/"
    assert frontend_url(site, "author", "alex") == "https://news.example.org/author/alex/"
    assert frontend_url(site, "tag", "rights") == "https://t.example/rights"

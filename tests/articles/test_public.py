from datetime import timedelta

from tests.conftest import FIXED_NOW
from tests.factories import action, article, author, bundle, iso, load, source, tag


def seed_basic(engine):
    load(
        engine,
        bundle(
            authors=[author("alex")],
            tags=[tag("rights"), tag("russia")],
            sources=[source("hrw"), source("bbc", kind="news_outlet")],
            actions=[action("petition")],
            articles=[
                article(
                    "published-one",
                    days_ago=2,
                    authors=["alex"],
                    tags=["rights", "russia"],
                    sources=[
                        {
                            "source": "hrw",
                            "cited_url": "https://hrw.example.org/r",
                            "context": "Confirmed",
                        }
                    ],
                    actions=["petition"],
                ),
                article("published-two", days_ago=1, tags=["rights"]),
                article("a-draft", status="draft", tags=["rights"]),
                article(
                    "scheduled",
                    published_at=iso(FIXED_NOW + timedelta(days=1)),
                    tags=["rights"],
                ),
                article("deleted", deleted_at=iso(FIXED_NOW - timedelta(hours=1)), tags=["rights"]),
            ],
        ),
    )


def test_lists_only_visible_articles_newest_first(client, engine):
    seed_basic(engine)
    response = client.get("/v1/articles")
    assert response.status_code == 200
    body = response.json()
    assert [a["slug"] for a in body["data"]] == ["published-two", "published-one"]
    assert body["meta"] == {"limit": 15, "next_cursor": None}
    assert body["links"]["next"] is None
    assert "body_html" not in body["data"][0]
    assert {t["slug"] for t in body["data"][1]["tags"]} == {"rights", "russia"}
    assert body["data"][1]["authors"][0]["slug"] == "alex"
    assert "sources" not in body["data"][1]


def test_draft_scheduled_and_deleted_are_404_publicly(client, engine):
    seed_basic(engine)
    for slug in ("a-draft", "scheduled", "deleted", "never-existed"):
        response = client.get(f"/v1/articles/{slug}")
        assert response.status_code == 404, slug
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == 404


def test_scheduled_article_appears_once_its_time_passes(client, engine, app):
    seed_basic(engine)
    assert client.get("/v1/articles/scheduled").status_code == 404
    app.state.clock = lambda: FIXED_NOW + timedelta(days=2)
    assert client.get("/v1/articles/scheduled").status_code == 200
    slugs = [a["slug"] for a in client.get("/v1/articles").json()["data"]]
    assert slugs[0] == "scheduled"


def test_one_article_embeds_everything(client, engine):
    seed_basic(engine)
    data = client.get("/v1/articles/published-one").json()["data"]
    assert data["body_html"] == "<p>The body of published-one.</p>"
    assert data["sources"] == [
        {
            "source": {
                "id": data["sources"][0]["source"]["id"],
                "slug": "hrw",
                "name": "HRW",
                "kind": "ngo",
                "url": "https://hrw.example.org/",
            },
            "cited_url": "https://hrw.example.org/r",
            "context": "Confirmed",
            "position": 0,
            "status": "unchecked",  # the link checker has not run (tests/citations)
            "archived_url": None,
        }
    ]
    assert data["actions"][0]["slug"] == "petition"
    assert data["actions"][0]["active"] is True
    assert data["actions"][0]["go_url"] == "http://testserver/v1/actions/petition/go"
    assert data["links"]["self"] == "http://testserver/v1/articles/published-one"
    assert data["published_at"].endswith("Z")
    assert data["word_count"] == 4 and data["reading_time"] == 1


def test_tag_counts_ignore_invisible_articles(client, engine):
    seed_basic(engine)
    tags = {t["slug"]: t for t in client.get("/v1/tags").json()["data"]}
    assert tags["rights"]["article_count"] == 2
    assert tags["russia"]["article_count"] == 1
    assert client.get("/v1/tags/rights").json()["data"]["article_count"] == 2
    sources = {s["slug"]: s for s in client.get("/v1/sources").json()["data"]}
    assert sources["hrw"]["article_count"] == 1
    assert sources["bbc"]["article_count"] == 0


def test_filters_by_tag_source_action_author(client, engine):
    seed_basic(engine)

    def slugs(query):
        response = client.get(f"/v1/articles?{query}")
        assert response.status_code == 200, response.text
        return [a["slug"] for a in response.json()["data"]]

    assert slugs("tag=russia") == ["published-one"]
    assert slugs("tag=rights,russia") == ["published-two", "published-one"]
    assert slugs("source=hrw") == ["published-one"]
    assert slugs("action=petition") == ["published-one"]
    assert slugs("author=alex") == ["published-one"]
    assert slugs("tag=nothing-here") == []
    assert slugs("lang=fr") == []
    assert slugs(f"published_after={iso(FIXED_NOW - timedelta(days=1, hours=12))}") == [
        "published-two"
    ]


def test_sparse_fields_and_include(client, engine):
    seed_basic(engine)
    item = client.get("/v1/articles?fields=slug,title").json()["data"][0]
    assert set(item) == {"id", "slug", "title"}
    item = client.get("/v1/articles?fields=slug,body_html").json()["data"][0]
    assert set(item) == {"id", "slug", "body_html"}
    item = client.get("/v1/articles?include=sources,actions&tag=russia").json()["data"][0]
    assert "sources" in item and "actions" in item and "tags" not in item


def test_count_adds_meta_total(client, engine):
    seed_basic(engine)
    meta = client.get("/v1/articles?count=true&limit=1").json()["meta"]
    assert meta["total"] == 2
    assert meta["next_cursor"]


def test_related_shares_tags_never_self_never_invisible(client, engine):
    seed_basic(engine)
    related = client.get("/v1/articles/published-one/related").json()["data"]
    assert [a["slug"] for a in related] == ["published-two"]


def test_actions_list_shows_active_unless_all(client, engine):
    load(
        engine,
        bundle(
            actions=[
                action("open"),
                action(
                    "closed",
                    starts_at=iso(FIXED_NOW - timedelta(days=30)),
                    ends_at=iso(FIXED_NOW - timedelta(days=1)),
                ),
                action("future", starts_at=iso(FIXED_NOW + timedelta(days=3))),
            ]
        ),
    )
    assert [a["slug"] for a in client.get("/v1/actions").json()["data"]] == ["open"]
    every = {a["slug"]: a["active"] for a in client.get("/v1/actions?active=all").json()["data"]}
    assert every == {"open": True, "closed": False, "future": False}
    inactive = client.get("/v1/actions?active=false").json()["data"]
    assert {a["slug"] for a in inactive} == {"closed", "future"}
    assert client.get("/v1/actions/closed").json()["data"]["active"] is False


def test_authors_and_sources_by_slug(client, engine):
    seed_basic(engine)
    assert client.get("/v1/authors/alex").json()["data"]["name"] == "Alex"
    assert client.get("/v1/sources/bbc").json()["data"]["kind"] == "news_outlet"
    assert client.get("/v1/authors/nobody").status_code == 404
    assert client.get("/v1/sources?kind=news_outlet").json()["data"][0]["slug"] == "bbc"


def test_action_go_redirects_and_counts_without_personal_data(client, engine, session):
    from sqlalchemy import select

    from api.actions.models import ActionClick

    seed_basic(engine)
    for query in ("", "?from=published-one", "?from=published-one", "?from=a-draft"):
        response = client.get(f"/v1/actions/petition/go{query}", follow_redirects=False)
        assert response.status_code == 302
        assert response.headers["location"] == "https://act.example.org/petition"
        assert response.headers["cache-control"] == "no-store"
    article_id = client.get("/v1/articles/published-one").json()["data"]["id"]
    rows = session.execute(select(ActionClick.article_id, ActionClick.clicks)).all()
    assert sorted(rows) == [("", 2), (article_id, 2)]
    assert set(ActionClick.model_fields) == {
        "action_id",
        "article_id",
        "placement",
        "day",
        "clicks",
        "readers",
    }
    assert client.get("/v1/actions/nope/go", follow_redirects=False).status_code == 404

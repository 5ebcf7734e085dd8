from datetime import timedelta
from typing import Any

from sqlalchemy import select, text

from api.articles.models import Article, ArticleTag
from api.tags.models import Tag
from tests.conftest import FIXED_NOW
from tests.factories import action, article, author, bundle, iso, load, source, tag


def seed_refs(engine):
    load(
        engine,
        bundle(
            authors=[author("alex")],
            tags=[tag("rights")],
            sources=[source("hrw")],
            actions=[action("petition")],
        ),
    )


def create(client, headers, **fields):
    body = {"title": "Purge in Chechnya", "body_markdown": "Some **bold** words here.", **fields}
    response = client.post("/v1/admin/articles", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response


def test_create_derives_body_fields_and_starts_as_draft(client, engine, as_):
    seed_refs(engine)
    response = create(
        client,
        as_("editor"),
        authors=["alex"],
        tags=["rights", "Chechen Anti-Gay Purge"],
        sources=[{"source": "hrw", "cited_url": "https://hrw.example.org/x", "context": "Report"}],
        actions=["petition"],
    )
    data = response.json()["data"]
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["ETag"]
    assert data["slug"] == "purge-in-chechnya"
    assert data["status"] == "draft"
    assert data["body_html"].strip() == "<p>Some <strong>bold</strong> words here.</p>"
    assert data["word_count"] == 4 and data["reading_time"] == 1
    assert data["excerpt"] == "Some bold words here."
    assert [t["slug"] for t in data["tags"]] == ["rights", "chechen-anti-gay-purge"]
    assert data["tags"][1]["name"] == "Chechen Anti-Gay Purge"
    assert data["tags"][1]["hashtag"] == "#ChechenAntiGayPurge"
    assert data["sources"][0]["source"]["slug"] == "hrw"
    assert data["version"] == 1
    assert client.get(f"/v1/articles/{data['slug']}").status_code == 404


def test_unknown_fields_and_server_owned_fields_are_422(client, as_):
    server_owned = [
        {"id": "x"},
        {"status": "published"},
        {"created_at": iso(FIXED_NOW)},
        {"word_count": 5},
        {"published_at": iso(FIXED_NOW)},
        {"nonsense": 1},
    ]
    for extra in server_owned:
        response = client.post(
            "/v1/admin/articles", json={"title": "T", **extra}, headers=as_("editor")
        )
        assert response.status_code == 422, extra
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["loc"][:2] == ["body", next(iter(extra))]


def test_unknown_source_action_author_slugs_are_422(client, engine, as_):
    seed_refs(engine)
    for field, value in (
        ("authors", ["nobody"]),
        ("actions", ["nothing"]),
        ("sources", [{"source": "nowhere"}]),
    ):
        response = client.post(
            "/v1/admin/articles", json={"title": "T", field: value}, headers=as_("editor")
        )
        assert response.status_code == 422, field
    assert client.get("/v1/admin/articles", headers=as_("editor")).json()["data"] == []


def test_bad_urls_are_422(client, as_):
    for url in ("javascript:alert(1)", "data:text/html,x", "//evil.example", "http://u:p@h.example/",
                "http://exa\tmple.com/", "ftp://x.example/"):  # fmt: skip
        response = client.post(
            "/v1/admin/articles",
            json={"title": "T", "canonical_url": url},
            headers=as_("editor"),
        )
        assert response.status_code == 422, url


def test_taken_slug_is_409(client, as_):
    create(client, as_("editor"))
    response = client.post(
        "/v1/admin/articles", json={"title": "Purge in Chechnya"}, headers=as_("editor")
    )
    assert response.status_code == 409
    assert response.json()["status"] == 409


def test_patch_requires_if_match(client, as_):
    created = create(client, as_("editor"))
    article_id = created.json()["data"]["id"]
    url = f"/v1/admin/articles/{article_id}"
    assert client.patch(url, json={"title": "New"}, headers=as_("editor")).status_code == 428
    stale = {**as_("editor"), "If-Match": '"0000"'}
    assert client.patch(url, json={"title": "New"}, headers=stale).status_code == 412
    ok = {**as_("editor"), "If-Match": created.headers["ETag"]}
    response = client.patch(url, json={"title": "New"}, headers=ok)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["title"] == "New"
    assert response.json()["data"]["version"] == 2
    # The old ETag is now stale.
    assert client.patch(url, json={"title": "Newer"}, headers=ok).status_code == 412
    assert client.get(url, headers=as_("editor")).json()["data"]["title"] == "New"


def test_stale_if_match_is_412_after_a_second_save(client, as_):
    created = create(client, as_("editor"))
    url = f"/v1/admin/articles/{created.json()['data']['id']}"
    headers = {**as_("editor"), "If-Match": created.headers["ETag"]}
    first = client.patch(url, json={"subtitle": "one"}, headers=headers)
    second = client.patch(url, json={"subtitle": "two"}, headers=headers)
    assert sorted([first.status_code, second.status_code]) == [200, 412]


def test_body_change_rederives_excerpt_and_markdown_to_html_switch(client, as_):
    created = create(client, as_("editor"))
    url = f"/v1/admin/articles/{created.json()['data']['id']}"
    headers = {**as_("editor"), "If-Match": created.headers["ETag"]}
    response = client.patch(url, json={"body_html": "<p>Other text</p>"}, headers=headers)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["body_markdown"] is None
    assert data["excerpt"] == "Other text"
    assert data["word_count"] == 2


def test_publish_schedule_unpublish(client, app, as_):
    created = create(client, as_("editor"))
    article_id = created.json()["data"]["id"]
    slug = created.json()["data"]["slug"]
    future = iso(FIXED_NOW + timedelta(days=1))
    response = client.post(
        f"/v1/admin/articles/{article_id}/publish",
        json={"published_at": future},
        headers=as_("editor"),
    )
    assert response.json()["data"]["status"] == "scheduled"
    assert client.get(f"/v1/articles/{slug}").status_code == 404
    listed = client.get("/v1/admin/articles?status=scheduled", headers=as_("editor")).json()
    assert [a["id"] for a in listed["data"]] == [article_id]
    app.state.clock = lambda: FIXED_NOW + timedelta(days=2)
    assert client.get(f"/v1/articles/{slug}").status_code == 200
    app.state.clock = lambda: FIXED_NOW
    response = client.post(f"/v1/admin/articles/{article_id}/publish", headers=as_("editor"))
    assert response.json()["data"]["status"] == "published"
    assert client.get(f"/v1/articles/{slug}").status_code == 200
    response = client.post(f"/v1/admin/articles/{article_id}/unpublish", headers=as_("editor"))
    assert response.json()["data"]["status"] == "draft"
    assert client.get(f"/v1/articles/{slug}").status_code == 404


def test_contributor_edits_own_drafts_only_and_cannot_publish(client, as_):
    own = create(client, as_("contributor"))
    article_id = own.json()["data"]["id"]
    url = f"/v1/admin/articles/{article_id}"
    response = client.patch(
        url, json={"title": "Mine"}, headers={**as_("contributor"), "If-Match": own.headers["ETag"]}
    )
    assert response.status_code == 200
    etag = response.headers["ETag"]
    assert client.patch(
        url, json={"title": "Theirs"}, headers={**as_("contributor2"), "If-Match": etag}
    ).status_code == 403  # fmt: skip
    assert client.get(url, headers=as_("contributor2")).status_code == 403
    assert client.get("/v1/admin/articles", headers=as_("contributor2")).json()["data"] == []
    assert client.post(f"{url}/publish", headers=as_("contributor")).status_code == 403
    published = client.post(f"{url}/publish", headers=as_("editor"))
    assert published.status_code == 200
    assert client.patch(
        url, json={"title": "Sneaky"},
        headers={**as_("contributor"), "If-Match": published.headers["ETag"]},
    ).status_code == 403  # fmt: skip
    assert client.get(url, headers=as_("editor")).json()["data"]["title"] == "Mine"


def test_soft_delete_hides_publicly_at_once_and_restore_brings_it_back(client, as_, session):
    created = create(client, as_("editor"))
    article_id = created.json()["data"]["id"]
    slug = created.json()["data"]["slug"]
    client.post(f"/v1/admin/articles/{article_id}/publish", headers=as_("editor"))
    assert client.get(f"/v1/articles/{slug}").status_code == 200
    response = client.delete(f"/v1/admin/articles/{article_id}", headers=as_("editor"))
    assert response.status_code == 200
    assert response.json()["data"]["deleted_at"] is not None
    assert client.get(f"/v1/articles/{slug}").status_code == 404
    assert client.get("/v1/search?q=chechnya").json()["data"] == []
    assert session.get(Article, article_id) is not None  # kept for sync and restore
    listed = client.get("/v1/admin/articles?deleted=true", headers=as_("editor")).json()
    assert [a["id"] for a in listed["data"]] == [article_id]
    response = client.post(
        f"/v1/admin/articles/{article_id}/revisions/1/restore", headers=as_("editor")
    )
    assert response.status_code == 200
    assert response.json()["data"]["deleted_at"] is None
    assert client.get(f"/v1/articles/{slug}").status_code == 200


def test_each_save_keeps_a_revision_and_restore_brings_one_back(client, as_):
    created = create(client, as_("editor"))
    article_id = created.json()["data"]["id"]
    url = f"/v1/admin/articles/{article_id}"
    client.patch(
        url, json={"title": "Second title"},
        headers={**as_("editor"), "If-Match": created.headers["ETag"]},
    )  # fmt: skip
    revisions = client.get(f"{url}/revisions", headers=as_("editor")).json()["data"]
    assert [r["number"] for r in revisions] == [2, 1]
    assert revisions[0]["snapshot"]["title"] == "Second title"
    assert revisions[1]["token_name"] == "editor"
    restored = client.post(f"{url}/revisions/1/restore", headers=as_("editor"))
    assert restored.status_code == 200
    assert restored.json()["data"]["title"] == "Purge in Chechnya"
    revisions = client.get(f"{url}/revisions", headers=as_("editor")).json()["data"]
    assert [r["number"] for r in revisions] == [3, 2, 1]
    assert client.post(f"{url}/revisions/9/restore", headers=as_("editor")).status_code == 404


def test_search_follows_article_writes(client, as_):
    created = create(client, as_("editor"), title="Kadyrov denies")
    article_id = created.json()["data"]["id"]
    client.post(f"/v1/admin/articles/{article_id}/publish", headers=as_("editor"))
    hits = client.get("/v1/search?q=kadyrov").json()["data"]
    assert [h["id"] for h in hits] == [article_id]
    etag = client.get(f"/v1/admin/articles/{article_id}", headers=as_("editor")).headers["ETag"]
    client.patch(
        f"/v1/admin/articles/{article_id}", json={"title": "Grozny responds"},
        headers={**as_("editor"), "If-Match": etag},
    )  # fmt: skip
    assert client.get("/v1/search?q=kadyrov").json()["data"] == []
    assert [h["id"] for h in client.get("/v1/search?q=grozny").json()["data"]] == [article_id]


def indexed(engine) -> list[str]:
    """Article ids in the search index; on SQLite each FTS5 row must sit at its article's key."""
    with engine.connect() as connection:
        if engine.dialect.name != "sqlite":
            return sorted(connection.scalars(text("SELECT article_id FROM article_search")))
        rows = connection.execute(
            text(
                "SELECT s.article_id, k.article_id FROM article_search AS s "
                "LEFT JOIN article_search_keys AS k ON k.id = s.rowid"
            )
        ).all()
        keys = connection.scalar(text("SELECT count(*) FROM article_search_keys"))
    assert all(row_id == key_id for row_id, key_id in rows), rows
    assert keys == len(rows)
    return sorted(row_id for row_id, _ in rows)


def test_the_search_index_holds_one_row_per_indexed_article_through_writes(client, engine, as_):
    first = create(client, as_("editor"), title="Kadyrov denies").json()["data"]["id"]
    second = create(client, as_("editor"), title="Grozny responds").json()["data"]["id"]
    assert indexed(engine) == sorted([first, second])
    for title in ("Second title", "Third title"):
        etag = client.get(f"/v1/admin/articles/{first}", headers=as_("editor")).headers["ETag"]
        response = client.patch(
            f"/v1/admin/articles/{first}", json={"title": title},
            headers={**as_("editor"), "If-Match": etag},
        )  # fmt: skip
        assert response.status_code == 200, response.text
    assert indexed(engine) == sorted([first, second])
    etag = client.get(f"/v1/admin/articles/{first}", headers=as_("editor")).headers["ETag"]
    deleted = client.delete(
        f"/v1/admin/articles/{first}", headers={**as_("editor"), "If-Match": etag}
    )
    assert deleted.status_code in (200, 204), deleted.text
    assert indexed(engine) == [second]
    client.post(f"/v1/admin/articles/{second}/publish", headers=as_("editor"))
    assert [h["id"] for h in client.get("/v1/search?q=grozny").json()["data"]] == [second]
    assert client.get("/v1/search?q=third").json()["data"] == []


def tag_times(engine) -> dict[str, list[Any]]:
    """tag slug -> [(article slug, link row's published_at, article's published_at)]."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(Tag.slug, Article.slug, ArticleTag.published_at, Article.published_at)
            .join(ArticleTag, ArticleTag.tag_id == Tag.id)
            .join(Article, Article.id == ArticleTag.article_id)
            .order_by(Tag.slug, Article.slug)
        ).all()
    times: dict[str, list[Any]] = {}
    for tag_slug, article_slug, linked, own in rows:
        times.setdefault(tag_slug, []).append((article_slug, linked, own))
    return times


def assert_link_times_agree(engine) -> None:
    for rows in tag_times(engine).values():
        for article_slug, linked, own in rows:
            assert linked == own, (article_slug, linked, own)


def test_tag_links_keep_their_articles_publication_time_through_every_write(client, engine, as_):
    load(engine, bundle(tags=[tag("rights"), tag("war")], articles=[article("old", tags=["war"])]))
    assert_link_times_agree(engine)
    first = create(client, as_("editor"), slug="first", tags=["rights"]).json()["data"]["id"]
    assert tag_times(engine)["rights"][0][1] is None  # a draft has no time yet
    url = f"/v1/admin/articles/{first}"
    assert client.post(f"{url}/publish", headers=as_("editor")).status_code == 200
    assert tag_times(engine)["rights"][0][1] == FIXED_NOW
    later = FIXED_NOW + timedelta(days=3)
    client.post(f"{url}/unpublish", headers=as_("editor"))
    client.post(f"{url}/publish", json={"published_at": iso(later)}, headers=as_("editor"))
    assert tag_times(engine)["rights"][0][1] == later
    etag = client.get(url, headers=as_("editor")).headers["ETag"]
    patched = client.patch(
        url, json={"tags": ["rights", "war"]}, headers={**as_("editor"), "If-Match": etag}
    )
    assert patched.status_code == 200, patched.text
    assert [row[:2] for row in tag_times(engine)["war"]] == [
        ("first", later),
        ("old", tag_times(engine)["war"][1][2]),
    ]
    assert_link_times_agree(engine)
    # A re-import that moves an article's time moves its links' too.
    load(
        engine,
        bundle(
            tags=[tag("war")],
            articles=[article("old", tags=["war"], published_at=iso(FIXED_NOW - timedelta(1)))],
        ),
    )
    assert ("old", FIXED_NOW - timedelta(1), FIXED_NOW - timedelta(1)) in tag_times(engine)["war"]
    assert_link_times_agree(engine)
    # And the tag's public list, walked from the links, follows.
    listed = client.get("/v1/articles?tag=war").json()["data"]
    assert [a["slug"] for a in listed] == ["old"]  # "first" is scheduled


def test_rejected_writes_leave_the_row_unchanged(client, session, as_):
    created = create(client, as_("editor"))
    article_id = created.json()["data"]["id"]
    url = f"/v1/admin/articles/{article_id}"

    def row():
        session.expire_all()
        a = session.scalars(select(Article).where(Article.id == article_id)).one()
        return (a.title, a.slug, a.body_html, a.status, a.updated_at, a.deleted_at)

    before = row()
    etag = created.headers["ETag"]
    good = {**as_("editor"), "If-Match": etag}
    attempts = [
        (client.patch, url, {"title": "x"}, as_("editor")),  # 428
        (client.patch, url, {"title": "x"}, {**as_("editor"), "If-Match": '"nope"'}),  # 412
        (client.patch, url, {"title": None}, good),  # 422 merged validation
        (client.patch, url, {"status": "published"}, good),  # 422 server-owned
        (client.patch, url, {"authors": ["ghost"]}, good),  # 422 unknown slug
        (client.patch, url, {"canonical_url": "javascript:x"}, good),  # 422 url
        (client.patch, url, {"title": "x"}, as_("content")),  # 403
        (client.patch, url, {"title": "x"}, as_("revoked")),  # 401
        (client.post, f"{url}/publish", None, as_("contributor")),  # 403
        (client.delete, url, None, as_("contributor")),  # 403
    ]
    for method, path, body, headers in attempts:
        kwargs = {"headers": headers}
        if body is not None:
            kwargs["json"] = body
        response = method(path, **kwargs)
        assert response.status_code in (401, 403, 412, 422, 428), (path, body, response.text)
        assert row() == before, (path, body)
    other = create(client, as_("editor"), title="Other one")
    response = client.patch(
        f"/v1/admin/articles/{other.json()['data']['id']}",
        json={"slug": "purge-in-chechnya"},
        headers={**as_("editor"), "If-Match": other.headers["ETag"]},
    )
    assert response.status_code == 409
    assert row() == before

"""/v1/admin/pages: the articles' workflow for pages (drafts, publishing, revisions,
If-Match, audit), kept apart from articles; pages in delta sync."""

from tests.factories import article, bundle, load


def create_page(client, as_, **fields):
    body = {"title": "About us", "body_markdown": "Who **we** are.", **fields}
    response = client.post("/v1/admin/pages", json=body, headers=as_("editor"))
    assert response.status_code == 201, response.text
    return response


def test_page_workflow_is_the_articles_one(client, as_, engine):
    load(engine, bundle(articles=[article("story")]))
    created = create_page(client, as_)
    page = created.json()["data"]
    assert page["status"] == "draft" and page["slug"] == "about-us"
    assert page["links"]["self"] == "http://testserver/v1/pages/about-us"
    url = f"/v1/admin/pages/{page['id']}"
    # One slug namespace: an article's slug is taken for pages, and the reverse.
    taken = client.post("/v1/admin/pages", json={"title": "Story", "slug": "story"},
                        headers=as_("editor"))  # fmt: skip
    assert taken.status_code == 409
    clash = client.post("/v1/admin/articles", json={"title": "x", "slug": "about-us"},
                        headers=as_("editor"))  # fmt: skip
    assert clash.status_code == 409
    assert client.post("/v1/admin/pages", json={"title": "x", "kind": "article"},
                       headers=as_("editor")).status_code == 422  # fmt: skip
    # Kept apart from articles, in the admin API too.
    assert client.get(f"/v1/admin/articles/{page['id']}", headers=as_("editor")).status_code == 404
    admin_articles = client.get("/v1/admin/articles", headers=as_("editor")).json()["data"]
    assert [a["slug"] for a in admin_articles] == ["story"]
    admin_pages = client.get("/v1/admin/pages", headers=as_("editor")).json()["data"]
    assert [p["slug"] for p in admin_pages] == ["about-us"]
    assert client.get("/v1/pages/about-us").status_code == 404  # a draft

    assert client.patch(url, json={"title": "About"}, headers=as_("editor")).status_code == 428
    matching = {**as_("editor"), "If-Match": created.headers["ETag"]}
    changed = client.patch(url, json={"title": "About"}, headers=matching)
    assert changed.status_code == 200, changed.text
    stale = client.patch(url, json={"title": "Again"}, headers=matching)
    assert stale.status_code == 412
    assert client.post(f"{url}/publish", headers=as_("editor")).status_code == 200
    assert client.get("/v1/pages/about-us").json()["data"]["title"] == "About"
    assert client.get("/v1/articles/about-us").status_code == 404
    revisions = client.get(f"{url}/revisions", headers=as_("editor")).json()["data"]
    assert [r["number"] for r in revisions] == [3, 2, 1]
    restored = client.post(f"{url}/revisions/1/restore", headers=as_("editor"))
    assert restored.status_code == 200
    assert client.get("/v1/pages/about-us").json()["data"]["title"] == "About us"
    assert client.post(f"{url}/unpublish", headers=as_("editor")).status_code == 200
    assert client.get("/v1/pages/about-us").status_code == 404
    assert client.delete(url, headers=as_("editor")).status_code == 200
    audit = client.get("/v1/admin/audit", headers=as_("admin")).json()["data"]
    assert [(e["action"], e["entity_type"]) for e in reversed(audit)] == [
        ("page.create", "page"),
        ("page.update", "page"),
        ("page.publish", "page"),
        ("page.restore", "page"),
        ("page.unpublish", "page"),
        ("page.delete", "page"),
    ]


def test_sync_sends_pages_apart_from_articles(client, as_, engine):
    load(engine, bundle(articles=[article("story"), article("about", kind="page")]))
    first = client.get("/v1/sync").json()
    assert [a["slug"] for a in first["data"]["articles"]["upserted"]] == ["story"]
    [page] = first["data"]["pages"]["upserted"]
    assert page["slug"] == "about" and page["links"]["self"].endswith("/v1/pages/about")
    assert page["canonical_url"] == "http://testserver/about/"
    since = first["meta"]["next_since"]
    assert (
        client.post(f"/v1/admin/pages/{page['id']}/unpublish", headers=as_("editor")).status_code
        == 200
    )
    later = client.get(f"/v1/sync?since={since}").json()["data"]
    assert later["pages"]["deleted"] == [page["id"]]
    assert later["articles"] == {"upserted": [], "deleted": []}
    since = client.get(f"/v1/sync?since={since}").json()["meta"]["next_since"]
    assert (
        client.post(f"/v1/admin/pages/{page['id']}/publish", headers=as_("editor")).status_code
        == 200
    )
    again = client.get(f"/v1/sync?since={since}").json()["data"]
    assert [p["slug"] for p in again["pages"]["upserted"]] == ["about"]
    assert again["articles"]["upserted"] == [] and again["articles"]["deleted"] == []

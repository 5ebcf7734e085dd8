"""Pages fire their own webhook events (page.published, page.updated, page.unpublished,
page.deleted), delivered signed to a real receiver on loopback; article hooks hear none."""

import json

from tests.webhooks.test_webhooks import create_hook, events_of

PAGE_EVENTS = ["page.published", "page.updated", "page.unpublished", "page.deleted"]
ARTICLE_EVENTS = ["article.published", "article.updated", "article.unpublished", "article.deleted"]


def test_each_kind_of_page_change_is_its_own_event(client, as_, receiver, run_pass):
    create_hook(client, as_, receiver, events=PAGE_EVENTS)
    created = client.post(
        "/v1/admin/pages",
        json={"title": "Privacy policy", "body_markdown": "We keep little."},
        headers=as_("editor"),
    )
    assert created.status_code == 201, created.text
    page = created.json()["data"]
    url = f"/v1/admin/pages/{page['id']}"
    run_pass()
    assert receiver.requests == []  # a draft is nobody's business
    published = client.post(f"{url}/publish", headers=as_("editor"))
    assert published.status_code == 200, published.text
    run_pass()
    changed = client.patch(
        url,
        json={"title": "Privacy notice"},
        headers={**as_("editor"), "If-Match": published.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.text
    run_pass()
    assert client.post(f"{url}/unpublish", headers=as_("editor")).status_code == 200
    run_pass()
    assert client.post(f"{url}/publish", headers=as_("editor")).status_code == 200
    run_pass()
    assert client.delete(url, headers=as_("editor")).status_code == 200
    run_pass()

    assert events_of(receiver) == [
        "page.published",
        "page.updated",
        "page.unpublished",
        "page.published",
        "page.deleted",
    ]
    bodies = [json.loads(r.body) for r in receiver.requests]
    assert bodies[0]["data"]["id"] == page["id"]
    assert bodies[0]["data"]["links"]["self"] == f"http://testserver/v1/pages/{page['slug']}"
    assert bodies[1]["data"]["title"] == "Privacy notice"
    assert bodies[2]["data"] == {"id": page["id"], "slug": page["slug"]}
    assert bodies[4]["data"] == {"id": page["id"], "slug": page["slug"]}
    assert all(r.verified for r in receiver.requests)  # Standard Webhooks signatures


def test_article_hooks_hear_nothing_of_pages(client, as_, receiver, run_pass):
    create_hook(client, as_, receiver, events=ARTICLE_EVENTS)
    created = client.post("/v1/admin/pages", json={"title": "About"}, headers=as_("editor"))
    assert created.status_code == 201, created.text
    published = client.post(
        f"/v1/admin/pages/{created.json()['data']['id']}/publish", headers=as_("editor")
    )
    assert published.status_code == 200, published.text
    article = client.post("/v1/admin/articles", json={"title": "Story"}, headers=as_("editor"))
    client.post(f"/v1/admin/articles/{article.json()['data']['id']}/publish", headers=as_("editor"))
    run_pass()
    assert events_of(receiver) == ["article.published"]

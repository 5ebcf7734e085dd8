"""After any admin write, no public response (nor a 304 on an old ETag) is stale."""

from sqlalchemy import select

from api.tags.models import Tag
from tests.factories import article, bundle, load, tag


def admin_etag(client, url, headers):
    return client.get(url, headers=headers).headers["ETag"]


def test_public_reads_reflect_every_write_at_once(client, engine, as_, session):
    load(engine, bundle(tags=[tag("rights")], articles=[article("story", tags=["rights"])]))
    article_id = client.get("/v1/articles/story").json()["data"]["id"]
    public = client.get("/v1/articles/story")
    old_etag = public.headers["ETag"]
    old_list_etag = client.get("/v1/articles").headers["ETag"]
    assert client.get("/v1/articles/story", headers={"If-None-Match": old_etag}).status_code == 304

    url = f"/v1/admin/articles/{article_id}"
    response = client.patch(
        url,
        json={"title": "Story, corrected"},
        headers={**as_("editor"), "If-Match": admin_etag(client, url, as_("editor"))},
    )
    assert response.status_code == 200, response.text
    fresh = client.get("/v1/articles/story", headers={"If-None-Match": old_etag})
    assert fresh.status_code == 200
    assert fresh.json()["data"]["title"] == "Story, corrected"
    listed = client.get("/v1/articles", headers={"If-None-Match": old_list_etag})
    assert listed.status_code == 200
    assert listed.json()["data"][0]["title"] == "Story, corrected"

    # A tag rename shows in the article that carries it.
    tag_id = session.scalar(select(Tag.id).where(Tag.slug == "rights"))
    tag_url = f"/v1/admin/tags/{tag_id}"
    etag = fresh.headers["ETag"]
    client.patch(
        tag_url,
        json={"name": "Human rights"},
        headers={**as_("editor"), "If-Match": admin_etag(client, tag_url, as_("editor"))},
    )
    after_tag = client.get("/v1/articles/story", headers={"If-None-Match": etag})
    assert after_tag.status_code == 200
    assert after_tag.json()["data"]["tags"][0]["name"] == "Human rights"

    # Unpublishing and deleting make it vanish at once.
    client.post(f"{url}/unpublish", headers=as_("editor"))
    assert client.get("/v1/articles/story", headers={"If-None-Match": etag}).status_code == 404
    assert client.get("/v1/articles").json()["data"] == []
    client.post(f"{url}/publish", headers=as_("editor"))
    assert client.get("/v1/articles/story").status_code == 200
    client.delete(url, headers=as_("editor"))
    assert client.get("/v1/articles/story").status_code == 404
    assert client.get("/v1/tags/rights").json()["data"]["article_count"] == 0

import pytest
from sqlalchemy import select

from api.actions.models import Action
from api.authors.models import Author
from api.sources.models import Source
from api.tags.models import Tag
from tests.factories import article, bundle, load, source, tag

NEW = {
    "tags": {"name": "Chechen Anti-Gay Purge"},
    "sources": {"name": "Human Rights Watch", "kind": "ngo", "url": "https://hrw.org/"},
    "actions": {"title": "Sign the petition", "kind": "petition", "url": "https://act.example/"},
    "authors": {"name": "Alex Writer", "url": "https://alex.example/"},
}
SLUG = {
    "tags": "chechen-anti-gay-purge",
    "sources": "human-rights-watch",
    "actions": "sign-the-petition",
    "authors": "alex-writer",
}
MODELS = {"tags": Tag, "sources": Source, "actions": Action, "authors": Author}
CHANGE = {
    "tags": {"description": "Changed"},
    "sources": {"country": "GB"},
    "actions": {"organisation": "Amnesty"},
    "authors": {"bio": "Writes."},
}

resources = pytest.mark.parametrize("kind", list(NEW))


@resources
def test_create_get_list_patch(client, as_, kind):
    created = client.post(f"/v1/admin/{kind}", json=NEW[kind], headers=as_("editor"))
    assert created.status_code == 201, created.text
    data = created.json()["data"]
    assert data["slug"] == SLUG[kind]
    assert created.headers["Cache-Control"] == "private, no-store"
    url = f"/v1/admin/{kind}/{data['id']}"
    got = client.get(url, headers=as_("contributor"))
    assert got.status_code == 200 and got.headers["ETag"] == created.headers["ETag"]
    listed = client.get(f"/v1/admin/{kind}?count=true", headers=as_("editor")).json()
    assert listed["meta"]["total"] == 1
    assert client.patch(url, json=CHANGE[kind], headers=as_("editor")).status_code == 428
    patched = client.patch(
        url, json=CHANGE[kind], headers={**as_("editor"), "If-Match": got.headers["ETag"]}
    )
    assert patched.status_code == 200, patched.text
    field, value = next(iter(CHANGE[kind].items()))
    assert patched.json()["data"][field] == value
    assert patched.json()["data"]["version"] == 2
    stale = client.patch(
        url, json=CHANGE[kind], headers={**as_("editor"), "If-Match": got.headers["ETag"]}
    )
    assert stale.status_code == 412


@resources
def test_taken_slug_is_409_and_unknown_field_is_422(client, as_, kind):
    assert (
        client.post(f"/v1/admin/{kind}", json=NEW[kind], headers=as_("editor")).status_code == 201
    )
    again = client.post(f"/v1/admin/{kind}", json=NEW[kind], headers=as_("editor"))
    assert again.status_code == 409
    for extra in ({"id": "abc"}, {"created_at": "2026-01-01T00:00:00Z"}, {"article_count": 3}):
        response = client.post(
            f"/v1/admin/{kind}", json={**NEW[kind], "slug": "other", **extra}, headers=as_("editor")
        )
        assert response.status_code == 422, (kind, extra)


@resources
def test_contributors_cannot_write_taxonomy(client, as_, kind):
    assert (
        client.post(f"/v1/admin/{kind}", json=NEW[kind], headers=as_("contributor")).status_code
        == 403
    )


def test_imported_items_can_be_patched_from_version_zero(client, engine, as_):
    load(engine, bundle(tags=[tag("rights")]))
    listed = client.get("/v1/admin/tags", headers=as_("editor")).json()["data"]
    assert listed[0]["version"] == 0
    url = f"/v1/admin/tags/{listed[0]['id']}"
    etag = client.get(url, headers=as_("editor")).headers["ETag"]
    headers = {**as_("editor"), "If-Match": etag}
    first = client.patch(url, json={"name": "Human rights"}, headers=headers)
    second = client.patch(url, json={"name": "Rights!"}, headers=headers)
    assert (first.status_code, second.status_code) == (200, 412)
    assert first.json()["data"]["version"] == 1


def test_patch_is_validated_as_a_whole(client, as_):
    created = client.post(
        "/v1/admin/actions",
        json={**NEW["actions"], "starts_at": "2026-01-01T00:00:00Z"},
        headers=as_("editor"),
    )
    url = f"/v1/admin/actions/{created.json()['data']['id']}"
    response = client.patch(
        url,
        json={"ends_at": "2025-01-01T00:00:00Z"},
        headers={**as_("editor"), "If-Match": created.headers["ETag"]},
    )
    assert response.status_code == 422
    assert client.get(url, headers=as_("editor")).json()["data"]["ends_at"] is None


def test_deleting_a_tag_in_use_is_409_naming_articles_unless_forced(client, engine, as_, session):
    load(
        engine,
        bundle(
            tags=[tag("rights")],
            sources=[source("hrw")],
            articles=[article("story", tags=["rights"], sources=[{"source": "hrw"}])],
        ),
    )
    tag_id = session.scalar(select(Tag.id).where(Tag.slug == "rights"))
    source_id = session.scalar(select(Source.id).where(Source.slug == "hrw"))
    response = client.delete(f"/v1/admin/tags/{tag_id}", headers=as_("editor"))
    assert response.status_code == 409
    assert "story" in response.json()["detail"]
    assert client.get("/v1/tags/rights").status_code == 200
    response = client.delete(f"/v1/admin/tags/{tag_id}?force=true", headers=as_("editor"))
    assert response.status_code == 204
    assert client.get("/v1/tags/rights").status_code == 404
    assert client.get("/v1/articles/story").json()["data"]["tags"] == []
    assert client.delete(f"/v1/admin/sources/{source_id}", headers=as_("editor")).status_code == 409
    assert client.delete(
        f"/v1/admin/sources/{source_id}?force=true", headers=as_("editor")
    ).status_code == 204  # fmt: skip
    assert client.get("/v1/articles/story").json()["data"]["sources"] == []


@resources
def test_rejected_writes_leave_the_row_unchanged(client, as_, session, kind):
    created = client.post(f"/v1/admin/{kind}", json=NEW[kind], headers=as_("editor"))
    item_id = created.json()["data"]["id"]
    model = MODELS[kind]

    def row():
        session.expire_all()
        item = session.get(model, item_id)
        return {c.key: getattr(item, c.key) for c in model.__table__.columns}

    before = row()
    url = f"/v1/admin/{kind}/{item_id}"
    good = {**as_("editor"), "If-Match": created.headers["ETag"]}
    for body, headers in (
        ({"slug": "x"}, as_("editor")),
        ({"slug": "x"}, {**as_("editor"), "If-Match": '"stale"'}),
        ({"slug": "Not A Slug"}, good),
        ({"id": "x"}, good),
        ({"url": "javascript:alert(1)"}, good),
        ({"slug": "x"}, as_("contributor")),
        ({"slug": "x"}, as_("content")),
        ({"slug": "x"}, as_("expired")),
    ):
        response = client.patch(url, json=body, headers=headers)
        assert response.status_code in (401, 403, 412, 422, 428), (body, response.text)
        assert row() == before

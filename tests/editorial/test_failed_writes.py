"""A failed write changes nothing: no row, no version, no ETag moves (other editors would
otherwise get false 412s, and a refused request would leave half of itself behind)."""

from typing import Any


def _etag(client: Any, path: str, headers: dict[str, str]) -> str:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return str(response.headers["etag"])


def test_each_kind_of_rejected_patch_leaves_the_etag_unchanged(client: Any, as_: Any) -> None:
    editor = as_("editor")
    client.post("/v1/admin/tags", json={"name": "Alpha"}, headers=editor)
    beta = client.post("/v1/admin/tags", json={"name": "Beta"}, headers=editor).json()["data"]
    first = client.post(
        "/v1/admin/articles", json={"title": "First", "body_html": "<p>1</p>"}, headers=editor
    ).json()["data"]
    second = client.post(
        "/v1/admin/articles", json={"title": "Second", "body_html": "<p>2</p>"}, headers=editor
    ).json()["data"]
    rejected = [
        (f"/v1/admin/tags/{beta['id']}", {"slug": "alpha"}, 409),
        (f"/v1/admin/articles/{second['id']}", {"slug": first["slug"]}, 409),
        (f"/v1/admin/articles/{second['id']}", {"authors": ["nobody"]}, 422),
        (f"/v1/admin/articles/{second['id']}", {"sources": [{"source": "nowhere"}]}, 422),
        (f"/v1/admin/articles/{second['id']}", {"actions": ["no-such-action"]}, 422),
    ]
    for path, change, status in rejected:
        before = _etag(client, path, editor)
        response = client.patch(path, json=change, headers={**editor, "If-Match": before})
        assert response.status_code == status, (path, change, response.text)
        assert _etag(client, path, editor) == before, (path, change)
        # The ETag read before still works: no one else's save is refused because of it.
        retry = client.patch(path, json={}, headers={**editor, "If-Match": before})
        assert retry.status_code == 200, (path, change, retry.text)


def test_a_refused_create_leaves_no_tag_it_would_have_made(client: Any, as_: Any) -> None:
    editor = as_("editor")
    refused = client.post(
        "/v1/admin/articles",
        json={"title": "Refused", "body_html": "<p>x</p>", "tags": ["brand-new"],
              "authors": ["nobody"]},
        headers=editor,
    )  # fmt: skip
    assert refused.status_code == 422, refused.text
    tags = client.get("/v1/admin/tags", headers=editor).json()["data"]
    assert [t["slug"] for t in tags] == []
    articles = client.get("/v1/admin/articles", headers=editor).json()["data"]
    assert articles == []


def test_restoring_a_revision_whose_author_was_deleted_is_409(client: Any, as_: Any) -> None:
    editor = as_("editor")
    author = client.post("/v1/admin/authors", json={"name": "Gone Author"}, headers=editor)
    article = client.post(
        "/v1/admin/articles",
        json={"title": "T", "body_markdown": "x", "authors": ["gone-author"]},
        headers=editor,
    ).json()["data"]
    removed = client.delete(
        f"/v1/admin/authors/{author.json()['data']['id']}?force=true", headers=editor
    )
    assert removed.status_code == 204
    path = f"/v1/admin/articles/{article['id']}"
    before = _etag(client, path, editor)
    restore = client.post(f"{path}/revisions/1/restore", headers=editor)
    assert restore.status_code == 409, restore.text
    assert "gone-author" in restore.json()["detail"]
    assert _etag(client, path, editor) == before

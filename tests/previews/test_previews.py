"""Draft previews: a signed link shows one item's current state until it expires, its
previews are revoked or the item is deleted; never cached, never indexed."""

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from api.editorial.models import AuditEntry
from api.previews.service import PreviewClaim, sign_claim
from tests.conftest import FIXED_NOW
from tests.factories import action, bundle, load, source, tag


def draft(client: Any, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    body = {"title": "Secret prisons", "body_markdown": "First **draft**.", **fields}
    response = client.post("/v1/admin/articles", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json()["data"])


def make_link(client: Any, headers: dict[str, str], article_id: str, **body: Any) -> Any:
    return client.post(
        f"/v1/admin/articles/{article_id}/preview", json=body or None, headers=headers
    )


def path_of(url: str) -> str:
    return urlsplit(url).path


def test_a_link_shows_the_draft_in_the_public_shape(client, engine, as_):
    load(engine, bundle(tags=[tag("rights")], sources=[source("hrw")], actions=[action()]))
    article = draft(
        client,
        as_("editor"),
        tags=["rights"],
        sources=[{"source": "hrw", "cited_url": "https://hrw.example.org/r", "context": "Data"}],
        actions=["petition"],
    )
    made = make_link(client, as_("editor"), article["id"])
    assert made.status_code == 201, made.text
    link = made.json()["data"]
    assert made.headers["Cache-Control"] == "private, no-store"
    assert link["url"] == f"http://testserver/v1/preview/{link['token']}"
    assert link["frontend_url"] is None
    assert link["kind"] == "article" and link["item_id"] == article["id"]
    assert link["expires_at"] == "2026-06-02T12:00:00Z"  # 24 hours by default

    shown = client.get(path_of(link["url"]))
    assert shown.status_code == 200, shown.text
    assert shown.headers["Cache-Control"] == "private, no-store"
    assert shown.headers["X-Robots-Tag"] == "noindex"
    assert "Surrogate-Key" not in shown.headers
    assert "ETag" not in shown.headers
    data = shown.json()["data"]
    assert data["id"] == article["id"] and data["title"] == "Secret prisons"
    assert data["body_html"].strip() == "<p>First <strong>draft</strong>.</p>"
    assert data["published_at"] is None
    assert [t["slug"] for t in data["tags"]] == ["rights"]
    assert data["sources"][0]["cited_url"] == "https://hrw.example.org/r"
    assert data["actions"][0]["go_url"].endswith("/v1/actions/petition/go")
    # The public shape, not the editors' one.
    assert "status" not in data and "version" not in data and "body_markdown" not in data
    assert shown.json()["meta"] == {
        "kind": "article",
        "status": "draft",
        "expires_at": "2026-06-02T12:00:00Z",
    }
    # The draft itself stays invisible publicly.
    assert client.get(f"/v1/articles/{article['slug']}").status_code == 404


def test_a_link_shows_the_current_state_after_edits_and_scheduling(client, app, as_):
    article = draft(client, as_("editor"))
    url = path_of(make_link(client, as_("editor"), article["id"]).json()["data"]["url"])
    assert client.get(url).json()["data"]["title"] == "Secret prisons"

    current = client.get(f"/v1/admin/articles/{article['id']}", headers=as_("editor"))
    edited = client.patch(
        f"/v1/admin/articles/{article['id']}",
        json={"title": "Four secret prisons", "body_markdown": "Second draft."},
        headers={**as_("editor"), "If-Match": current.headers["ETag"]},
    )
    assert edited.status_code == 200, edited.text
    shown = client.get(url).json()
    assert shown["data"]["title"] == "Four secret prisons"
    assert shown["data"]["body_html"].strip() == "<p>Second draft.</p>"

    later = FIXED_NOW + timedelta(hours=5)
    scheduled = client.post(
        f"/v1/admin/articles/{article['id']}/publish",
        json={"published_at": later.isoformat()},
        headers=as_("editor"),
    )
    assert scheduled.status_code == 200, scheduled.text
    shown = client.get(url).json()
    assert shown["meta"]["status"] == "scheduled"
    assert shown["data"]["published_at"] == "2026-06-01T17:00:00Z"


def test_a_preview_is_never_stored_in_the_response_cache(client, app, as_):
    article = draft(client, as_("editor"))
    url = path_of(make_link(client, as_("editor"), article["id"]).json()["data"]["url"])
    stats = app.state.cache_stats
    before = (stats.hits, stats.misses, len(app.response_cache.entries))
    for _ in range(3):
        assert client.get(url).status_code == 200
    assert (stats.hits, stats.misses, len(app.response_cache.entries)) == before
    # A public read next to it is cached, so the cache is on and would have kept it.
    client.get("/v1/tags")
    client.get("/v1/tags")
    assert stats.hits == before[0] + 1


def test_a_link_expires_with_the_apps_clock(client, app, as_):
    article = draft(client, as_("editor"))
    made = make_link(client, as_("editor"), article["id"], expires_in=3600)
    link = made.json()["data"]
    assert link["expires_at"] == "2026-06-01T13:00:00Z"
    url = path_of(link["url"])

    app.state.clock = lambda: FIXED_NOW + timedelta(minutes=59, seconds=59)
    assert client.get(url).status_code == 200
    app.state.clock = lambda: FIXED_NOW + timedelta(hours=1)
    expired = client.get(url)
    assert expired.status_code == 404
    assert expired.headers["Content-Type"] == "application/problem+json"
    assert expired.headers["X-Robots-Tag"] == "noindex"
    assert "expired" in expired.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {"expires_in": 59},
        {"expires_in": 30 * 86_400 + 1},
        {"expires_in": "a week"},
        {"expires_in": None},
        {"lifetime": 60},
    ],
)
def test_a_lifetime_out_of_bounds_is_422(client, as_, body):
    article = draft(client, as_("editor"))
    response = make_link(client, as_("editor"), article["id"], **body)
    assert response.status_code == 422, response.text
    assert response.headers["Content-Type"] == "application/problem+json"


def test_thirty_days_is_the_longest_lifetime(client, as_):
    article = draft(client, as_("editor"))
    response = make_link(client, as_("editor"), article["id"], expires_in=30 * 86_400)
    assert response.status_code == 201, response.text
    assert response.json()["data"]["expires_at"] == "2026-07-01T12:00:00Z"


def test_one_revocation_ends_every_link_of_the_item_only(client, as_):
    article = draft(client, as_("editor"))
    other = draft(client, as_("editor"), title="Another draft")
    urls = [
        path_of(make_link(client, as_("editor"), article["id"]).json()["data"]["url"])
        for _ in range(2)
    ]
    other_url = path_of(make_link(client, as_("editor"), other["id"]).json()["data"]["url"])

    revoked = client.delete(f"/v1/admin/articles/{article['id']}/previews", headers=as_("editor"))
    assert revoked.status_code == 204, revoked.text
    for url in urls:
        gone = client.get(url)
        assert gone.status_code == 404
        assert "revoked" in gone.json()["detail"]
    assert client.get(other_url).status_code == 200
    # A link made after the revocation works.
    fresh = path_of(make_link(client, as_("editor"), article["id"]).json()["data"]["url"])
    assert client.get(fresh).status_code == 200
    # Revoking again ends that one too.
    client.delete(f"/v1/admin/articles/{article['id']}/previews", headers=as_("editor"))
    assert client.get(fresh).status_code == 404


def test_deleting_the_item_ends_its_links(client, as_):
    article = draft(client, as_("editor"))
    url = path_of(make_link(client, as_("editor"), article["id"]).json()["data"]["url"])
    deleted = client.delete(f"/v1/admin/articles/{article['id']}", headers=as_("editor"))
    assert deleted.status_code == 200, deleted.text
    gone = client.get(url)
    assert gone.status_code == 404
    assert "no longer exists" in gone.json()["detail"]
    # Nor can links be made for it.
    assert make_link(client, as_("editor"), article["id"]).status_code == 404


def test_restoring_a_deleted_item_does_not_revive_its_old_links(client, as_):
    article = draft(client, as_("editor"))
    old = path_of(make_link(client, as_("editor"), article["id"]).json()["data"]["url"])
    path = f"/v1/admin/articles/{article['id']}"
    assert client.delete(path, headers=as_("editor")).status_code == 200
    restored = client.post(f"{path}/revisions/1/restore", headers=as_("editor"))
    assert restored.status_code == 200, restored.text
    assert client.get(old).status_code == 404
    fresh = path_of(make_link(client, as_("editor"), article["id"]).json()["data"]["url"])
    assert client.get(fresh).status_code == 200


def test_forged_and_malformed_tokens_are_404(client, app, as_):
    article = draft(client, as_("editor"))
    token = make_link(client, as_("editor"), article["id"]).json()["data"]["token"]
    payload, _, signature = token.rpartition(".")
    far = FIXED_NOW + timedelta(days=3650)
    forged = [
        f"{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}",
        token[:-1],
        "not-a-token",
        "x" * 500,
        # Well-formed and unexpired, but signed with another key.
        sign_claim("some-other-secret-key", PreviewClaim("article", article["id"], 0, far)),
        # Signed with our key but of a kind we do not preview.
        sign_claim(app.state.settings.secret_key, PreviewClaim("tag", article["id"], 0, far)),
        # Signed with our key for an item that does not exist.
        sign_claim(app.state.settings.secret_key, PreviewClaim("article", "nope", 0, far)),
    ]
    for candidate in forged:
        response = client.get(f"/v1/preview/{candidate}")
        assert response.status_code == 404, (candidate, response.text)
        assert response.headers["Content-Type"] == "application/problem+json"
    assert client.get(f"/v1/preview/{'x' * 501}").status_code == 422
    assert client.get(f"/v1/preview/{token}?fields=title").status_code == 422


def test_who_may_make_and_revoke_links(client, as_):
    own = draft(client, as_("contributor"))
    editors = draft(client, as_("editor"), title="An editor's draft")
    assert make_link(client, as_("contributor"), own["id"]).status_code == 201
    assert make_link(client, as_("contributor2"), own["id"]).status_code == 403
    assert make_link(client, as_("contributor"), editors["id"]).status_code == 403
    assert make_link(client, as_("editor"), own["id"]).status_code == 201
    assert make_link(client, as_("admin"), own["id"]).status_code == 201
    assert make_link(client, as_("content"), own["id"]).status_code == 403
    assert client.post(f"/v1/admin/articles/{own['id']}/preview").status_code == 401
    assert make_link(client, as_("editor"), "0" * 32).status_code == 404

    revoke = f"/v1/admin/articles/{own['id']}/previews"
    assert client.delete(revoke, headers=as_("contributor2")).status_code == 403
    assert client.delete(revoke, headers=as_("contributor")).status_code == 204
    assert client.delete(revoke).status_code == 401


def test_the_audit_names_who_made_and_revoked_links(client, engine, session, as_):
    article = draft(client, as_("contributor"))
    make_link(client, as_("contributor"), article["id"])
    make_link(client, as_("editor"), article["id"])
    client.delete(f"/v1/admin/articles/{article['id']}/previews", headers=as_("editor"))
    entries = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity_id == article["id"], AuditEntry.action.like("%preview%"))
        .order_by(AuditEntry.id)
    ).all()
    assert [(e.token_name, e.action, e.entity_type) for e in entries] == [
        ("contributor", "article.preview", "article"),
        ("editor", "article.preview", "article"),
        ("editor", "article.preview_revoke", "article"),
    ]
    listed = client.get("/v1/admin/audit", headers=as_("admin")).json()["data"]
    assert {e["action"] for e in listed} >= {"article.preview", "article.preview_revoke"}


def test_a_refused_request_makes_no_audit_entry(client, session, as_):
    article = draft(client, as_("editor"))
    assert make_link(client, as_("editor"), article["id"], expires_in=1).status_code == 422
    assert (
        client.delete(
            f"/v1/admin/articles/{article['id']}/previews", headers=as_("contributor")
        ).status_code
        == 403
    )
    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity_id == article["id"])
    ).all()
    assert not [a for a in actions if "preview" in a]


def configure_site(client: Any, as_: Any, **settings: Any) -> None:
    current = client.get("/v1/admin/site", headers=as_("admin"))
    changed = client.patch(
        "/v1/admin/site",
        json=settings,
        headers={**as_("admin"), "If-Match": current.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.text


def test_the_frontend_url_comes_from_the_sites_preview_template(client, as_):
    article = draft(client, as_("editor"))
    configure_site(
        client,
        as_,
        url="https://www.example.org",
        preview_url_template="/preview/{kind}/{id}?slug={slug}&token={token}",
    )
    link = make_link(client, as_("editor"), article["id"]).json()["data"]
    assert link["frontend_url"] == (
        f"https://www.example.org/preview/article/{article['id']}"
        f"?slug={article['slug']}&token={link['token']}"
    )
    # The API's own link is unchanged: the frontend fetches it with the token.
    assert link["url"] == f"http://testserver/v1/preview/{link['token']}"
    # The previewed article's canonical URL is the frontend's, as in the public API.
    shown = client.get(path_of(link["url"])).json()["data"]
    assert shown["canonical_url"] == f"https://www.example.org/{article['slug']}/"


def page(client: Any, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    body = {"title": "Privacy policy", "body_markdown": "We keep **little**.", **fields}
    response = client.post("/v1/admin/pages", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json()["data"])


def test_pages_have_the_same_previews(client, session, as_):
    draft_page = page(client, as_("editor"))
    made = client.post(f"/v1/admin/pages/{draft_page['id']}/preview", headers=as_("editor"))
    assert made.status_code == 201, made.text
    link = made.json()["data"]
    assert link["kind"] == "page"
    shown = client.get(path_of(link["url"]))
    assert shown.status_code == 200, shown.text
    assert shown.json()["data"]["title"] == "Privacy policy"
    assert shown.json()["meta"]["kind"] == "page"
    assert shown.headers["X-Robots-Tag"] == "noindex"
    # A page is not an article, and the reverse.
    assert make_link(client, as_("editor"), draft_page["id"]).status_code == 404
    article = draft(client, as_("editor"))
    assert (
        client.post(f"/v1/admin/pages/{article['id']}/preview", headers=as_("editor")).status_code
        == 404
    )

    revoked = client.delete(f"/v1/admin/pages/{draft_page['id']}/previews", headers=as_("editor"))
    assert revoked.status_code == 204
    assert client.get(path_of(link["url"])).status_code == 404
    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity_id == draft_page["id"])
    ).all()
    assert {"page.preview", "page.preview_revoke"} <= set(actions)

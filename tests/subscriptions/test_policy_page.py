"""Each sign-up's consent record names the published privacy-policy page
(MASTHEAD_PRIVACY_PAGE_SLUG) and the revision of it in force, shown to admins."""

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import FIXED_NOW
from tests.factories import article, bundle, load
from tests.subscriptions.conftest import signup


def consents(client: TestClient, as_: Any) -> list[dict[str, Any]]:
    [listed] = client.get("/v1/admin/subscribers", headers=as_("admin")).json()["data"]
    item = client.get(f"/v1/admin/subscribers/{listed['id']}", headers=as_("admin"))
    assert item.status_code == 200, item.text
    return list(item.json()["data"]["consents"])


def policy(consent: dict[str, Any]) -> tuple[Any, Any]:
    return consent["policy_page_id"], consent["policy_page_revision"]


def create_policy_page(client: TestClient, as_: Any) -> dict[str, Any]:
    body = {"title": "Privacy policy", "slug": "privacy-policy", "body_markdown": "We keep..."}
    created = client.post("/v1/admin/pages", json=body, headers=as_("editor"))
    assert created.status_code == 201, created.text
    return dict(created.json()["data"])


def later(app: Any, minutes: int) -> None:
    """Each sign-up at its own time, so newest first is a defined order."""
    app.state.clock = lambda: FIXED_NOW + timedelta(minutes=minutes)


def test_the_consent_names_the_published_page_and_its_current_revision(
    client: TestClient, app: Any, as_: Any
) -> None:
    page = create_policy_page(client, as_)  # revision 1, a draft
    assert signup(client).status_code == 202
    later(app, 1)
    url = f"/v1/admin/pages/{page['id']}"
    published = client.post(f"{url}/publish", headers=as_("editor"))  # revision 2
    assert published.status_code == 200, published.text
    assert signup(client).status_code == 202
    later(app, 2)
    changed = client.patch(
        url,
        json={"body_markdown": "We keep less."},
        headers={**as_("editor"), "If-Match": published.headers["ETag"]},
    )  # revision 3
    assert changed.status_code == 200, changed.text
    assert signup(client).status_code == 202
    revisions = client.get(f"{url}/revisions", headers=as_("editor")).json()["data"]
    assert max(r["number"] for r in revisions) == 3

    newest, after_publish, while_draft = consents(client, as_)
    assert policy(while_draft) == (None, None)  # a draft is no published policy
    assert policy(after_publish) == (page["id"], 2)
    assert policy(newest) == (page["id"], 3)


def test_an_imported_page_without_revisions_is_revision_0(
    client: TestClient, as_: Any, engine: Any
) -> None:
    load(engine, bundle(articles=[article("privacy-policy", kind="page")]))
    assert signup(client).status_code == 202
    [consent] = consents(client, as_)
    assert consent["policy_page_id"] is not None
    assert consent["policy_page_revision"] == 0


def test_an_article_with_the_slug_is_no_policy(client: TestClient, as_: Any, engine: Any) -> None:
    load(engine, bundle(articles=[article("privacy-policy")]))  # an article, not a page
    assert signup(client).status_code == 202
    [consent] = consents(client, as_)
    assert policy(consent) == (None, None)


def test_the_slug_setting_chooses_the_page(client: TestClient, app: Any, as_: Any, engine: Any):
    load(engine, bundle(articles=[article("data-protection", kind="page")]))
    signup(client)
    later(app, 1)
    app.state.settings = app.state.settings.model_copy(
        update={"privacy_page_slug": "data-protection"}
    )
    signup(client)
    later(app, 2)
    app.state.settings = app.state.settings.model_copy(update={"privacy_page_slug": ""})
    signup(client)
    off, chosen, default = consents(client, as_)
    assert policy(default) == (None, None)  # no page at the default slug
    assert chosen["policy_page_id"] is not None and chosen["policy_page_revision"] == 0
    assert policy(off) == (None, None)


def test_the_default_slug_is_the_demo_privacy_page() -> None:
    from api.core.settings import load_settings
    from api.demo import demo_bundle

    slug = load_settings().privacy_page_slug
    pages = [a for a in demo_bundle()["articles"] if a.get("kind") == "page"]
    assert slug in [p["slug"] for p in pages]

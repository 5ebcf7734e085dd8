"""The demo content `masthead serve` loads into an empty database: the seed page's
publication (site settings), its article, and the About and privacy-policy pages that the
sign-up's consent names."""

from typing import Any

from fastapi.testclient import TestClient

from api.cli import load_demo_if_empty, sample_article
from api.demo import demo_bundle
from tests.subscriptions.conftest import signup

DEMO_ARTICLE = "demonstrations-in-london-as-russia-refuses-to-act-over-chechnya"


def test_the_demo_is_the_seed_pages_publication(client: TestClient, settings: Any) -> None:
    assert load_demo_if_empty(settings) is True
    site = client.get("/v1/site").json()["data"]
    assert site["title"] == "Accidentally Alex"
    assert site["url"] == "https://accidentallyalex.example"
    assert site["updated_at"] is not None  # saved: the example page shows this title
    assert {"label": "About", "url": "/about/"} in site["navigation"]
    about = client.get("/v1/pages/about").json()["data"]
    assert about["title"] == "About"
    assert about["canonical_url"] == "https://accidentallyalex.example/about/"
    policy = client.get("/v1/pages/privacy-policy").json()["data"]
    assert policy["title"] == "Privacy policy"
    assert "double opt-in" in policy["body_html"]
    article = client.get(f"/v1/articles/{DEMO_ARTICLE}").json()["data"]
    assert article["canonical_url"].startswith("https://accidentallyalex.example/articles/")
    listed = client.get("/v1/pages").json()["data"]
    assert sorted(p["slug"] for p in listed) == ["about", "privacy-policy"]
    assert sample_article(settings) == DEMO_ARTICLE  # never a page
    assert load_demo_if_empty(settings) is False  # not twice


def test_a_demo_signup_names_the_demo_privacy_page(
    client: TestClient, settings: Any, as_: Any
) -> None:
    load_demo_if_empty(settings)
    policy = client.get("/v1/pages/privacy-policy").json()["data"]
    assert signup(client).status_code == 202
    [listed] = client.get("/v1/admin/subscribers", headers=as_("admin")).json()["data"]
    [consent] = listed["consents"]
    assert consent["policy_page_id"] == policy["id"]
    assert consent["policy_page_revision"] == 0  # imported, never edited


def test_saved_site_settings_are_kept(client: TestClient, settings: Any, as_: Any) -> None:
    current = client.get("/v1/admin/site", headers=as_("admin"))
    saved = client.patch(
        "/v1/admin/site",
        json={"title": "Ours"},
        headers={**as_("admin"), "If-Match": current.headers["ETag"]},
    )
    assert saved.status_code == 200, saved.text
    load_demo_if_empty(settings)
    assert client.get("/v1/site").json()["data"]["title"] == "Ours"


def test_the_example_page_reads_the_demo_privacy_page() -> None:
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "examples" / "seed-page" / "seed-page.js"
    slugs = [a["slug"] for a in demo_bundle()["articles"] if a.get("kind") == "page"]
    assert 'const PRIVACY_POLICY = "privacy-policy";' in script.read_text()
    assert "privacy-policy" in slugs

"""`masthead import --from ghost`: a hand-made Ghost 5 export through the CLI, then the API."""

import io
import json

import orjson
import pytest
from rich.console import Console

from api.importers import ImportSource, common
from api.importers.cli import import_export
from tests.bundle.conftest import database_state
from tests.factories import article, bundle, load
from tests.importers.conftest import FIXTURES, GHOST_SITE, counts, one_line, public_answers

EXPORT = FIXTURES / "ghost-export.json"
# Ghost keeps slugs per type: the post `about` shares its slug with the page `about`.
ABOUT_POST = "about-2" if common.PAGES_IMPORTED else "about"
VISIBLE = sorted(["welcome", ABOUT_POST, "zurich-vigil", "orphan"])


def run(masthead, path=EXPORT, *extra):
    return masthead("import", "--from", "ghost", "--site-url", GHOST_SITE, *extra, path)


def test_the_export_lands_as_articles_tags_and_authors(masthead, client):
    result = run(masthead)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert counts(report, "created") == {
        "articles": 8 if common.PAGES_IMPORTED else 7,
        "authors": 2,  # the site owner wrote nothing and is not an author
        "tags": 3,  # the internal #featured-slider tag stays out
    }
    assert counts(report, "updated") == counts(report, "unchanged") == {}
    assert report["skipped"]["posts with status 'sent'"] == 1
    if not common.PAGES_IMPORTED:
        assert report["skipped"]["pages (this Masthead has no pages yet)"] == 1
    assert "members-only posts imported as drafts" in result.stderr

    listing = client.get("/v1/articles", params={"limit": 100}).json()["data"]
    # Drafts, the members-only post and the post scheduled for 2031 are not public.
    assert sorted(a["slug"] for a in listing) == VISIBLE
    assert [a["slug"] for a in client.get("/v1/authors").json()["data"]] == ["alex", "sam"]
    if common.PAGES_IMPORTED:
        page = client.get("/v1/pages/about").json()["data"]
        assert (page["title"], page["body_html"]) == ("About us", "<p>We campaign.</p>")
        assert page["canonical_url"] == "https://campaign.example.org/about/"
    assert sorted(t["slug"] for t in client.get("/v1/tags").json()["data"]) == [
        "human-rights",
        "protests",
        "schweiz",
    ]


def test_bodies_are_sanitised_and_urls_made_absolute(masthead, client):
    assert run(masthead).exit_code == 0
    welcome = client.get("/v1/articles/welcome").json()["data"]
    body = welcome["body_html"]
    for forbidden in ("<script", "onclick", "onerror", "javascript:", "__GHOST_URL__", "<h1"):
        assert forbidden not in body
    assert '<img src="https://campaign.example.org/content/images/2024/11/inline.jpg"' in body
    assert '<a href="https://campaign.example.org/about/"' in body
    assert "<h2>Second heading</h2>" in body
    assert welcome["canonical_url"] == "https://campaign.example.org/welcome/"
    assert welcome["published_at"] == "2024-11-21T10:00:00Z"
    assert welcome["excerpt"] == "The first post on the new site."
    assert welcome["feature_image"] == {
        "url": "https://campaign.example.org/content/images/2024/11/hero.jpg",
        "alt": "Crowd outside the embassy",
        "caption": "Photo by Sam",
    }
    # posts_tags and posts_authors in sort_order, not file order.
    assert [t["slug"] for t in welcome["tags"]] == ["human-rights", "protests"]
    assert [a["slug"] for a in welcome["authors"]] == ["sam", "alex"]
    alex = client.get("/v1/authors/alex").json()["data"]
    assert (alex["name"], alex["bio"], alex["url"]) == (
        "Alex Rivera",
        "Editor.",
        "https://alex.example.org",
    )
    # Ghost's own canonical_url wins over the old address.
    about = client.get(f"/v1/articles/{ABOUT_POST}").json()["data"]
    assert about["canonical_url"] == "https://medium.example.com/@alex/about-the-campaign-123"
    vigil = client.get("/v1/articles/zurich-vigil").json()["data"]
    assert vigil["authors"] == []
    assert vigil["canonical_url"] == "https://campaign.example.org/z%C3%BCrich-vigil-%F0%9F%95%AF/"


def test_lexical_and_mobiledoc_bodies_are_rendered(masthead, engine):
    assert run(masthead).exit_code == 0
    exported = {a["slug"]: a for a in database_state(engine)["export"]["articles"]}
    scheduled = exported["coming-soon"]
    assert (
        scheduled["status"] == "published" and scheduled["published_at"] == "2031-01-15T08:00:00Z"
    )
    assert scheduled["body_html"].startswith(
        '<p><strong>Embargoed</strong> until the launch, see <a href="https://example.org/brief"'
    )
    assert "<ol><li>one</li><li><em>two</em></li></ol>" in scheduled["body_html"]
    assert (
        'src="https://campaign.example.org/content/images/2024/11/chart.png"'
        in (scheduled["body_html"])
    )
    draft = exported["notes-for-a-draft"]
    assert draft["status"] == "draft" and draft["published_at"] is None
    assert draft["created_at"] == "2024-11-26T05:46:40Z"  # milliseconds since 1970
    assert "<strong> bold</strong><br>next line" in draft["body_html"]
    assert "<em>markdown</em>" in draft["body_html"] and "<script" not in draft["body_html"]
    assert exported["members-only"]["status"] == "draft"


def test_a_second_run_changes_nothing(masthead, client, engine):
    assert run(masthead).exit_code == 0
    before, state = public_answers(client), database_state(engine)

    again = run(masthead)

    assert again.exit_code == 0, again.output
    report = json.loads(again.stdout)
    assert counts(report, "created") == counts(report, "updated") == {}
    assert counts(report, "unchanged") == {
        "articles": 8 if common.PAGES_IMPORTED else 7,
        "authors": 2,
        "tags": 3,
    }
    assert public_answers(client) == before
    assert database_state(engine) == state


def test_a_slug_already_taken_is_numbered_and_the_article_left_alone(masthead, client, engine):
    load(engine, bundle(articles=[article("welcome", title="Ours, not Ghost's")]))

    assert run(masthead).exit_code == 0

    assert client.get("/v1/articles/welcome").json()["data"]["title"] == "Ours, not Ghost's"
    imported = client.get("/v1/articles/welcome-2").json()["data"]
    assert imported["canonical_url"] == "https://campaign.example.org/welcome/"
    # Found again by its Ghost identity: the second run keeps `welcome-2`.
    again = json.loads(run(masthead).stdout)
    assert counts(again, "created") == counts(again, "updated") == {}


def test_one_invalid_post_refuses_the_whole_export(masthead, engine, tmp_path, monkeypatch):
    load(engine, bundle(articles=[article("already-here")]))
    before = database_state(engine)
    monkeypatch.setattr(common, "BATCH", 2)  # earlier batches are written, then undone
    data = orjson.loads(EXPORT.read_bytes())
    data["db"][0]["data"]["posts"][7]["feature_image"] = "javascript:alert(1)"
    bad = tmp_path / "bad.json"
    bad.write_bytes(orjson.dumps(data))

    result = run(masthead, bad)

    assert result.exit_code == 1
    line = one_line(result.stderr)
    assert line.startswith("masthead: Import refused, nothing was imported: post 'orphan'")
    assert "feature_image.url" in line and "http" in line
    assert database_state(engine) == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(db="nope"), "not a Ghost export"),
        (lambda d: d["db"][0]["data"]["posts"][0].update(published_at="soon"), "not a date"),
        (lambda d: d["db"][0]["data"]["posts"][0].update(title="x" * 301), "title"),
    ],
)
def test_a_broken_export_is_one_line_and_nothing(masthead, engine, tmp_path, change, message):
    data = orjson.loads(EXPORT.read_bytes())
    change(data)
    path = tmp_path / "broken.json"
    path.write_bytes(orjson.dumps(data))

    result = run(masthead, path)

    assert result.exit_code == 1
    assert message in one_line(result.stderr)
    assert database_state(engine)["rows"]["articles"] == 0


def test_the_site_address_is_required(masthead, engine):
    result = masthead("import", "--from", "ghost", EXPORT)
    assert result.exit_code == 1
    assert "--site-url" in one_line(result.stderr)
    assert database_state(engine)["rows"]["articles"] == 0


def test_a_terminal_shows_progress(settings):
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    report = import_export(
        settings, ImportSource.ghost, EXPORT, site_url=GHOST_SITE, console=console
    )
    assert report["created"]["articles"] > 0
    assert "reading ghost-export.json" in out.getvalue() and "100%" in out.getvalue()

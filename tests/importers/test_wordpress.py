"""`masthead import --from wordpress`: a hand-made WXR 1.2 file through the CLI, then the API;
hostile XML refused before anything is read; a large file read in constant memory."""

import io
import json
import tracemalloc
from pathlib import Path

import pytest
from rich.console import Console

from api.importers import ImportSource, common
from api.importers.cli import import_export
from tests.bundle.conftest import database_state
from tests.factories import article, bundle, load
from tests.importers.conftest import FIXTURES, counts, one_line, public_answers
from tests.importers.wxr import HEAD, item, write_wxr

EXPORT = FIXTURES / "wordpress-export.xml"
VISIBLE = sorted(["tom-and-jerry", "tom-and-jerry-2", "privet-mir", "former", "108"])
ARTICLES = 10 if common.PAGES_IMPORTED else 9


def run(masthead, path=EXPORT):
    return masthead("import", "--from", "wordpress", path)


def test_the_export_lands_as_articles_tags_and_authors(masthead, client):
    result = run(masthead)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    # Authors: the three listed (carol wrote only a private post) and one only named.
    assert counts(report, "created") == {"articles": ARTICLES, "authors": 4, "tags": 3}
    assert counts(report, "updated") == counts(report, "unchanged") == {}
    skipped = report["skipped"]
    assert skipped["attachments (media files are not imported)"] == 1
    assert skipped["items of type 'nav_menu_item'"] == 1
    assert skipped["items with status 'trash'"] == 1
    for note in ("private posts imported as drafts", "password-protected posts imported"):
        assert note in result.stderr

    listing = client.get("/v1/articles", params={"limit": 100}).json()["data"]
    # Drafts, the private and the password-protected posts and the future one are not public.
    assert sorted(a["slug"] for a in listing) == VISIBLE
    if common.PAGES_IMPORTED:
        page = client.get("/v1/pages/about").json()["data"]
        assert (page["title"], page["canonical_url"]) == (
            "About",
            "https://blog.example.org/about/",
        )
    tags = {t["slug"]: t for t in client.get("/v1/tags").json()["data"]}
    assert sorted(tags) == ["climate", "mir", "news"]  # never WordPress's "uncategorized"
    assert tags["news"]["description"] == "News & views, weekly"
    assert tags["mir"]["name"] == "Мир"
    authors = {a["slug"]: a["name"] for a in client.get("/v1/authors").json()["data"]}
    # A login that is an email address is not published as a slug.
    assert authors == {
        "alice": "Alice Example",
        "bob-builder": "Bob Builder",
        "carol": "Carol",
        "ghostwriter": "ghostwriter",
    }


def test_bodies_are_sanitised_and_entities_read(masthead, client, engine):
    assert run(masthead).exit_code == 0
    post = client.get("/v1/articles/tom-and-jerry").json()["data"]
    assert post["title"] == "Tom & Jerry\u2019s <day> out"
    body = post["body_html"]
    for forbidden in ("<script", "document.cookie", "onclick", "javascript:", "<h1", "[caption"):
        assert forbidden not in body
    # Classic-editor text gets its paragraphs, as WordPress shows it.
    assert body.startswith(
        "<p>A classic-editor post, first paragraph.<br>\nSame paragraph, new line.</p>"
    )
    assert "<figcaption>Marchers on Whitehall</figcaption></figure>" in body
    assert '<a href="https://example.org/report" rel="noopener noreferrer">a good one</a>' in body
    assert post["canonical_url"] == "https://blog.example.org/2024/11/tom-and-jerry/"
    assert post["excerpt"] == "Cats & mice."
    assert post["lang"] == "en-GB"
    assert post["published_at"] == "2024-11-18T10:00:00Z"
    # A category and a tag of the same slug are one tag.
    assert [t["slug"] for t in post["tags"]] == ["news", "climate"]
    assert [a["slug"] for a in post["authors"]] == ["alice"]

    privet = client.get("/v1/articles/privet-mir").json()["data"]
    assert privet["title"] == "Привет, мир"
    assert "onload" not in privet["body_html"] and "<!--" not in privet["body_html"]
    assert [t["slug"] for t in privet["tags"]] == ["mir"]
    untitled = client.get("/v1/articles/108").json()["data"]
    assert (untitled["title"], untitled["authors"]) == ("(untitled)", [])

    exported = {a["slug"]: a for a in database_state(engine)["export"]["articles"]}
    assert exported["the-launch"]["published_at"] == "2031-01-15T08:00:00Z"
    assert exported["a-draft"]["status"] == "draft"
    assert exported["locked"]["canonical_url"] is None
    # No email address (authors', commenters') is stored anywhere.
    assert "@example.org" not in json.dumps(database_state(engine)["export"])


def test_a_second_run_changes_nothing(masthead, client, engine):
    assert run(masthead).exit_code == 0
    before, state = public_answers(client), database_state(engine)

    again = run(masthead)

    assert again.exit_code == 0, again.output
    report = json.loads(again.stdout)
    assert counts(report, "created") == counts(report, "updated") == {}
    assert counts(report, "unchanged") == {"articles": ARTICLES, "authors": 4, "tags": 3}
    assert public_answers(client) == before
    assert database_state(engine) == state


def test_an_edited_post_is_updated_and_nothing_else(masthead, client, tmp_path):
    assert run(masthead).exit_code == 0
    edited = tmp_path / "edited.xml"
    edited.write_text(
        EXPORT.read_text().replace("Same slug as post 101 in this file.", "Now corrected.")
    )

    report = json.loads(run(masthead, edited).stdout)

    assert counts(report, "updated") == {"articles": 1}
    assert counts(report, "created") == {}
    body = client.get("/v1/articles/tom-and-jerry-2").json()["data"]["body_html"]
    assert body == "<p>Now corrected.</p>"


def test_an_existing_article_keeps_its_slug(masthead, client, engine):
    load(engine, bundle(articles=[article("former", title="Ours")]))
    assert run(masthead).exit_code == 0
    assert client.get("/v1/articles/former").json()["data"]["title"] == "Ours"
    assert client.get("/v1/articles/former-2").json()["data"]["title"] == (
        "By a former contributor"
    )


def hostile(tmp_path: Path, name: str, doctype: str) -> Path:
    path = tmp_path / name
    text = EXPORT.read_text().replace(
        '<?xml version="1.0" encoding="UTF-8" ?>', '<?xml version="1.0"?>\n' + doctype, 1
    )
    path.write_text(text.replace("<title>Rights &amp; Wrongs</title>", "<title>&e;</title>"))
    return path


BILLION_LAUGHS = (
    '<!DOCTYPE rss [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">'
    '<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">]>'
)


@pytest.mark.parametrize("attack", ["billion-laughs", "xxe-file", "external-dtd"])
def test_entity_attacks_are_refused_before_anything_is_read(masthead, engine, tmp_path, attack):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    doctype = {
        "billion-laughs": BILLION_LAUGHS,
        "xxe-file": f'<!DOCTYPE rss [<!ENTITY e SYSTEM "file://{secret}">]>',
        "external-dtd": '<!DOCTYPE rss SYSTEM "http://127.0.0.1:9/evil.dtd">',
    }[attack]
    load(engine, bundle(articles=[article("already-here")]))
    before = database_state(engine)

    result = run(masthead, hostile(tmp_path, f"{attack}.xml", doctype))

    assert result.exit_code == 1
    line = one_line(result.stderr)
    assert "DOCTYPE" in line and "entit" in line
    assert "TOP-SECRET-VALUE" not in result.output and "lol" not in result.output
    assert database_state(engine) == before


def test_undefined_entities_and_broken_xml_refuse_the_whole_file(
    masthead, engine, tmp_path, monkeypatch
):
    monkeypatch.setattr(common, "BATCH", 2)  # batches before the fault are written, then undone
    load(engine, bundle(articles=[article("already-here")]))
    before = database_state(engine)
    cut = tmp_path / "cut.xml"
    cut.write_text(HEAD + "".join(item(n) for n in range(1, 8)) + "<item><title>cut")
    nbsp = tmp_path / "nbsp.xml"
    nbsp.write_text(
        HEAD + "".join(item(n) for n in range(1, 8)) + item(8, title="]]>A&nbsp;B<![CDATA[")
    )

    for path, expected in ((cut, "not well-formed XML"), (nbsp, "nbsp")):
        result = run(masthead, path)
        assert result.exit_code == 1
        assert expected in one_line(result.stderr)
        assert database_state(engine) == before


def test_one_invalid_post_refuses_the_whole_file(masthead, engine, tmp_path, monkeypatch):
    monkeypatch.setattr(common, "BATCH", 2)
    path = tmp_path / "long-title.xml"
    path.write_text(
        HEAD + "".join(item(n) for n in range(1, 8)) + item(8, title="x" * 301) + "</channel></rss>"
    )

    result = run(masthead, path)

    assert result.exit_code == 1
    line = one_line(result.stderr)
    assert line.startswith("masthead: Import refused, nothing was imported: post 'post-8'")
    assert "WordPress post_id 8" in line and "title" in line
    assert database_state(engine)["rows"]["articles"] == 0


def test_site_url_is_refused_for_wordpress(masthead):
    result = masthead("import", "--from", "wordpress", "--site-url", "https://x.example", EXPORT)
    assert result.exit_code == 1
    assert "--site-url is for Ghost" in one_line(result.stderr)


def _peak_rss_kib() -> int | None:
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
    except (OSError, StopIteration):
        return None


def _reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        return False
    return True


def test_a_large_export_is_read_in_constant_memory(backend, settings, tmp_path):
    """Memory, not time: the file is about 24 MB; the import holds one batch at a time.
    Without clearing parsed elements Python objects peak near the file's size (104 MiB for
    a 59 MiB file), with it near one batch (9.6 MiB). Parsing does not depend on the
    database, so one of them is enough for the suite's time."""
    if backend != "sqlite":
        pytest.skip("the parse's memory does not depend on the database (run on SQLite)")
    path = write_wxr(tmp_path / "large.xml", 2_000)
    size_mib = path.stat().st_size / 2**20
    assert size_mib > 20
    rss_measured = _reset_peak_rss()
    rss_before = _peak_rss_kib()
    tracemalloc.start()
    try:
        report = import_export(
            settings,
            ImportSource.wordpress,
            path,
            site_url=None,
            console=Console(file=io.StringIO()),
        )
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report["created"]["articles"] == 2_000
    peak_mib = peak / 2**20
    assert peak_mib < 16, (
        f"Python objects peaked at {peak_mib:.1f} MiB for a {size_mib:.0f} MiB file"
    )
    rss_after = _peak_rss_kib()
    if rss_measured and rss_before and rss_after:
        # lxml's own memory is not seen by tracemalloc: the process's peak covers it.
        # The database's pages and one batch cost about 21-23 MiB whatever the file's size
        # (24 and 59 MiB files measured); a tree kept whole costs several times the file.
        grown_mib = (rss_after - rss_before) / 1024
        assert grown_mib < 2 * size_mib, f"peak RSS grew {grown_mib:.0f} MiB"

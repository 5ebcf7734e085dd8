"""Importing the content bundle (CONTRACT §7) as the public API then shows it."""

import copy
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.bundle.validation import KINDS, BundleError
from api.core import migrations
from api.core.db import make_engine
from api.core.settings import load_settings
from api.main import create_app
from tests.bundle.conftest import exported, small_bundle, walk
from tests.conftest import FIXED_NOW, fresh_database
from tests.factories import (
    article,
    bundle,
    generated_bundle,
    iso,
    load,
    tag,
)

LATER = FIXED_NOW + timedelta(days=3)


def when(value: str) -> datetime:
    return datetime.fromisoformat(value)


def is_public(item: dict[str, Any]) -> bool:
    return (
        item["status"] != "draft"
        and item.get("deleted_at") is None
        and when(item["published_at"]) <= FIXED_NOW
    )


def whole_report(data: dict[str, Any], **unchanged_except: int) -> dict[str, dict[str, int]]:
    """The report of re-importing `data` when nothing (or only the given counts) changed."""
    return {
        "created": {kind: 0 for kind in KINDS},
        "updated": {kind: unchanged_except.get(kind, 0) for kind in KINDS},
        "unchanged": {kind: len(data[kind]) - unchanged_except.get(kind, 0) for kind in KINDS},
    }


# --- counts ---------------------------------------------------------------------------------


def test_generated_bundle_counts_match_the_public_api(client, engine):
    data = generated_bundle(200)
    report = load(engine, data).as_dict()
    assert report["created"] == {kind: len(data[kind]) for kind in KINDS}

    public = [a for a in data["articles"] if is_public(a)]
    assert 0 < len(public) < 200, "the generator should give some drafts"
    tag_counts = Counter(slug for a in public for slug in a["tags"])
    source_counts = Counter(s for a in public for s in {c["source"] for c in a["sources"]})

    tags = walk(client, "/v1/tags")
    assert sorted(t["slug"] for t in tags) == sorted(t["slug"] for t in data["tags"])
    assert {t["slug"]: t["article_count"] for t in tags} == {
        t["slug"]: tag_counts[t["slug"]] for t in data["tags"]
    }
    sources = walk(client, "/v1/sources")
    assert {s["slug"]: s["article_count"] for s in sources} == {
        s["slug"]: source_counts[s["slug"]] for s in data["sources"]
    }
    articles = walk(client, "/v1/articles", limit=50)
    assert sorted(a["slug"] for a in articles) == sorted(a["slug"] for a in public)
    meta = client.get("/v1/articles?count=true").json()["meta"]
    assert meta["total"] == len(public)
    assert len(walk(client, "/v1/authors")) == len(data["authors"])
    assert len(walk(client, "/v1/actions?active=all")) == len(data["actions"])


# --- idempotence and precise updates --------------------------------------------------------


def test_second_import_of_the_same_bundle_changes_nothing(engine, state):
    data = generated_bundle(200)
    load(engine, data)
    before = state()
    report = load(engine, copy.deepcopy(data), now=LATER).as_dict()
    assert report == whole_report(data)
    assert state() == before


def test_reimporting_an_export_changes_nothing(engine, state):
    load(engine, generated_bundle(40))
    before = state()
    again = exported(engine)
    assert load(engine, again, now=LATER).as_dict() == whole_report(again)
    assert state() == before


def updated_at_by_slug(engine: Engine) -> dict[str, dict[str, str]]:
    export = exported(engine)
    return {kind: {i["slug"]: i["updated_at"] for i in export[kind]} for kind in KINDS}


def test_changing_one_title_updates_only_that_article(client, engine):
    data = generated_bundle(200)
    load(engine, data)
    before = updated_at_by_slug(engine)
    slug = next(a["slug"] for a in data["articles"][5:] if is_public(a))
    changed = copy.deepcopy(data)
    target = next(a for a in changed["articles"] if a["slug"] == slug)
    target["title"] = "Quetzalcoatl files a complaint"

    report = load(engine, changed, now=LATER).as_dict()

    assert report == whole_report(data, articles=1)
    after = updated_at_by_slug(engine)
    assert after["articles"].pop(slug) == iso(LATER)
    before["articles"].pop(slug)
    assert after == before
    shown = client.get(f"/v1/articles/{slug}").json()["data"]
    assert shown["title"] == "Quetzalcoatl files a complaint"
    assert shown["updated_at"] == iso(LATER)
    found = client.get("/v1/search?q=quetzalcoatl").json()["data"]
    assert [hit["slug"] for hit in found] == [slug]


def test_changing_only_the_tags_counts_as_an_update_and_shows(client, engine):
    data = small_bundle()
    load(engine, data)
    changed = copy.deepcopy(data)
    changed["articles"][2]["tags"] = ["russia", "refugees"]

    report = load(engine, changed, now=LATER).as_dict()

    assert report == whole_report(data, articles=1)
    shown = client.get("/v1/articles/story-2").json()["data"]
    assert [t["slug"] for t in shown["tags"]] == ["russia", "refugees"]
    assert shown["updated_at"] == iso(LATER)
    assert client.get("/v1/articles/story-1").json()["data"]["updated_at"] != iso(LATER)
    counts = {t["slug"]: t["article_count"] for t in client.get("/v1/tags").json()["data"]}
    assert counts == {"rights": 4, "russia": 1, "refugees": 1}
    assert [a["slug"] for a in client.get("/v1/articles?tag=refugees").json()["data"]] == [
        "story-2"
    ]
    # The search index follows the new tags too.
    assert [h["slug"] for h in client.get("/v1/search?q=refugees").json()["data"]] == ["story-2"]


def test_changing_only_citations_or_their_order_counts_as_an_update(client, engine):
    data = small_bundle()
    data["articles"][1]["sources"].append({"source": "bbc", "cited_url": None, "context": None})
    load(engine, data)
    changed = copy.deepcopy(data)
    changed["articles"][1]["sources"].reverse()

    assert load(engine, changed, now=LATER).as_dict() == whole_report(data, articles=1)
    cited = client.get("/v1/articles/story-1").json()["data"]["sources"]
    assert [(c["source"]["slug"], c["position"]) for c in cited] == [("bbc", 0), ("hrw", 1)]


def test_renaming_a_tag_reindexes_the_articles_that_carry_it(client, engine):
    data = small_bundle()
    data["articles"][0]["tags"] = ["russia"]
    load(engine, data)
    changed = copy.deepcopy(data)
    changed["tags"][1]["name"] = "Zanzibar"

    report = load(engine, changed, now=LATER).as_dict()

    assert report["updated"]["tags"] == 1
    assert client.get("/v1/tags/russia").json()["data"]["name"] == "Zanzibar"
    hits = client.get("/v1/search?q=zanzibar").json()["data"]
    assert [h["slug"] for h in hits] == ["story-0"]


def test_an_import_may_leave_out_what_is_already_there(client, engine):
    load(engine, small_bundle())
    partial = bundle(
        tags=[tag("new-tag")], articles=[article("late-story", tags=["new-tag"], days_ago=0.5)]
    )
    load(engine, partial)
    slugs = [a["slug"] for a in walk(client, "/v1/articles")]
    assert slugs == ["late-story", *(f"story-{n}" for n in range(5))]


# --- refusal: whole, and naming the item -------------------------------------------------


def broken_at_articles_3(change: Any) -> dict[str, Any]:
    """A bundle that also changes earlier items, so a partial import would show."""
    data = small_bundle()
    data["authors"][0]["name"] = "Alexandra"
    data["tags"].append(tag("brand-new"))
    data["articles"][0]["title"] = "A new title that must not land"
    data["articles"][0]["tags"] = ["brand-new"]
    data["articles"].append(article("story-new", tags=["brand-new"]))
    change(data["articles"][3])
    return data


def _set(**fields: Any) -> Any:
    return lambda item: item.update(fields)


def _citation(**fields: Any) -> Any:
    return lambda item: item["sources"].__setitem__(0, {**item["sources"][0], **fields})


BAD_URLS = ["javascript:alert(1)", "//host/x", "http://user:pass@host/", "https://exa mple.com"]

ARTICLE_FAULTS = {
    "dangling tag": _set(tags=["rights", "no-such-tag"]),
    "dangling source": _citation(source="no-such-source"),
    "dangling action": _set(actions=["no-such-action"]),
    "dangling author": _set(authors=["alex", "no-such-author"]),
    "duplicate slug": _set(slug="story-1"),
    "mass assignment of a counter": _set(article_count=5),
    "unknown field": _set(bogus=True),
    "nested unknown field": _citation(position=3),
    "bad status": _set(status="live"),
    "bad lang": _set(lang="english language"),
    "markdown and html": _set(body_markdown="# Hi"),
    "tag listed twice": _set(tags=["rights", "rights"]),
    "unparsable time": _set(published_at="yesterday"),
    **{f"canonical_url {url!r}": _set(canonical_url=url) for url in BAD_URLS},
    **{f"cited_url {url!r}": _citation(cited_url=url) for url in BAD_URLS},
    **{f"feature_image {url!r}": _set(feature_image={"url": url}) for url in BAD_URLS},
}


@pytest.fixture
def loaded(engine: Engine, state: Any) -> Iterator[dict[str, Any]]:
    """The small bundle is in; yields the state, then checks a refusal left it untouched."""
    load(engine, small_bundle())
    before = state()
    yield before
    assert state() == before


@pytest.mark.parametrize("change", ARTICLE_FAULTS.values(), ids=ARTICLE_FAULTS.keys())
def test_a_bad_article_refuses_the_whole_bundle_naming_it(engine, loaded, change):
    data = broken_at_articles_3(change)
    with pytest.raises(BundleError) as refused:
        load(engine, data, now=LATER)
    detail = refused.value.detail
    assert "articles[3]" in detail or repr(data["articles"][3]["slug"]) in detail, detail
    assert "nothing was imported" in detail


OTHER_FAULTS = {
    "source url": ("sources", 1, {"url": "javascript:alert(1)"}),
    "source url without scheme": ("sources", 1, {"url": "//host/x"}),
    "source url with password": ("sources", 1, {"url": "http://user:pass@host/"}),
    "source url with a space": ("sources", 1, {"url": "https://exa mple.com"}),
    "lowercase country": ("sources", 1, {"country": "gb"}),
    "three-letter country": ("sources", 1, {"country": "GBR"}),
    "country name": ("sources", 1, {"country": "United Kingdom"}),
    "unassigned country": ("sources", 1, {"country": "UK"}),
    "source kind": ("sources", 1, {"kind": "blog"}),
    "source counter": ("sources", 1, {"article_count": 5}),
    "tag counter": ("tags", 2, {"article_count": 5}),
    "tag unknown field": ("tags", 2, {"bogus": "x"}),
    "tag bad hashtag": ("tags", 2, {"hashtag": "#no spaces"}),
    "tag duplicate slug": ("tags", 2, {"slug": "rights"}),
    "tag bad slug": ("tags", 2, {"slug": "Not A Slug"}),
    "action url": ("actions", 1, {"url": "javascript:alert(1)"}),
    "action window": ("actions", 1, {"ends_at": iso(FIXED_NOW - timedelta(days=30))}),
    "action active is derived": ("actions", 1, {"active": True}),
    "author url": ("authors", 1, {"url": "//host/x"}),
    "author id": ("authors", 1, {"id": "not an id!"}),
}


@pytest.mark.parametrize(
    ("kind", "index", "fields"), OTHER_FAULTS.values(), ids=OTHER_FAULTS.keys()
)
def test_a_bad_item_of_any_kind_refuses_the_whole_bundle(engine, loaded, kind, index, fields):
    data = broken_at_articles_3(lambda _item: None)
    data[kind][index].update(fields)
    with pytest.raises(BundleError) as refused:
        load(engine, data, now=LATER)
    assert f"{kind}[{index}]" in refused.value.detail


def test_a_bundle_of_the_wrong_format_is_refused(engine, loaded):
    for wrong in (
        {"format": "wordpress", "version": 1},
        {"format": "masthead-bundle", "version": 2},
        {"format": "masthead-bundle", "version": 1, "comments": []},
        {"format": "masthead-bundle", "version": 1, "articles": {"slug": "x"}},
        [],
    ):
        with pytest.raises(BundleError):
            load(engine, wrong)


def test_a_late_bad_item_in_a_large_bundle_refuses_all_of_it(engine, state):
    empty = state()
    data = generated_bundle(200)
    data["articles"][199]["sources"][0]["cited_url"] = "javascript:alert(1)"
    with pytest.raises(BundleError, match=r"articles\[199\] \(slug 'article-199'\)"):
        load(engine, data)
    assert state() == empty


def test_a_bundle_that_fails_while_writing_leaves_nothing_behind(engine, loaded):
    """Valid JSON and references, but the last article claims another article's id."""
    ids = {a["slug"]: a["id"] for a in exported(engine)["articles"]}
    data = broken_at_articles_3(lambda _item: None)
    data["articles"][4]["id"] = ids["story-0"]
    with pytest.raises(BundleError, match=r"articles\[4\] \(slug 'story-4'\)"):
        load(engine, data, now=LATER)


def test_an_id_held_by_an_item_outside_the_bundle_is_refused_by_name(engine, loaded):
    """A new slug may not take the id of a stored item the bundle does not mention."""
    taken = next(a["id"] for a in exported(engine)["articles"] if a["slug"] == "story-0")
    data = bundle(
        tags=[tag("brand-new")],
        articles=[article("other-story", tags=["brand-new"]), article("thief", id=taken)],
    )
    with pytest.raises(BundleError, match=r"articles\[1\] \(slug 'thief'\): .*'story-0'"):
        load(engine, data, now=LATER)


def test_a_slug_stored_under_another_id_is_refused(engine, loaded):
    data = small_bundle()
    data["articles"][3]["id"] = "someotherid"
    with pytest.raises(BundleError, match="story-3"):
        load(engine, data, now=LATER)


# --- bodies ---------------------------------------------------------------------------------


def body_of(client: TestClient, slug: str) -> str:
    response = client.get(f"/v1/articles/{slug}?fields=body_html")
    assert response.status_code == 200, response.text
    return response.json()["data"]["body_html"]  # type: ignore[no-any-return]


def test_body_html_is_sanitised_on_import(client, engine):
    dirty = (
        '<p onclick="steal()">Hello <a href="javascript:alert(1)">there</a> and '
        '<a href="https://example.org/ok">fine</a>.</p>'
        "<script>alert(2)</script><img src=x onerror=alert(3)>"
        '<a href="JaVaScRiPt:alert(4)">caps</a><a href="data:text/html,x">data</a>'
        '<iframe src="https://evil.example/"></iframe><style>p{}</style>'
    )
    load(engine, bundle(articles=[article("dirty", body_html=dirty)]))
    body = body_of(client, "dirty")
    lowered = body.lower()
    for forbidden in ("<script", "onclick", "onerror", "javascript:", "data:", "<iframe", "<style"):
        assert forbidden not in lowered, body
    assert "alert" not in body
    assert "Hello" in body and "there" in body
    assert '<a href="https://example.org/ok" rel="noopener noreferrer">fine</a>' in body


def test_body_markdown_renders_to_sanitised_html(client, engine):
    markdown = (
        "## Findings\n\nThey were *held* in **secret** sites, [report](https://hrw.example.org/r)."
        "\n\n- one\n- two\n\n<script>alert(1)</script>\n\n[bad](javascript:alert(1))\n"
    )
    load(engine, bundle(articles=[article("marked", body_html=None, body_markdown=markdown)]))
    body = body_of(client, "marked")
    assert "<h2>Findings</h2>" in body
    assert "<em>held</em>" in body and "<strong>secret</strong>" in body
    assert '<a href="https://hrw.example.org/r" rel="noopener noreferrer">report</a>' in body
    assert "<li>one</li>" in body
    assert "<script" not in body and "</script" not in body
    # markdown-it refuses the javascript: link, leaving its source as harmless text.
    assert 'href="javascript' not in body and "<p>[bad](javascript:alert(1))</p>" in body
    excerpt = client.get("/v1/articles/marked").json()["data"]["excerpt"]
    assert excerpt.startswith("Findings They were held in secret sites")


# --- export, and the round trip into an empty database ---------------------------------------


def test_export_carries_id_and_timestamps_on_every_item(client, engine):
    data = small_bundle()
    data["articles"][1]["updated_at"] = iso(FIXED_NOW - timedelta(hours=5))
    data["articles"][1]["id"] = "fixedid1"
    load(engine, data)
    export = exported(engine)
    assert export["format"] == "masthead-bundle" and export["version"] == 1
    for kind in KINDS:
        assert len(export[kind]) == len(data[kind]), kind
        for item in export[kind]:
            assert item["id"] and item["created_at"] and item["updated_at"], (kind, item)
    ids = {a["slug"]: a["id"] for a in export["articles"]}
    assert ids["story-1"] == "fixedid1"
    assert client.get("/v1/articles/story-2").json()["data"]["id"] == ids["story-2"]
    story_1 = next(a for a in export["articles"] if a["slug"] == "story-1")
    assert story_1["updated_at"] == iso(FIXED_NOW - timedelta(hours=5))
    assert story_1["sources"] == [
        {"source": "hrw", "cited_url": "https://hrw.example.org/r", "context": "x"}
    ]


def rich_bundle() -> dict[str, Any]:
    """The generated bundle plus every visibility case and optional field."""
    data = generated_bundle(200)
    data["tags"][0]["hashtag"] = "#ChechenAntiGayPurge"
    data["articles"][0]["feature_image"] = {
        "url": "https://img.example.org/a.jpg",
        "alt": "A courtroom",
        "caption": "Photo: someone",
    }
    data["articles"][1].update(status="published", published_at=iso(FIXED_NOW + timedelta(days=2)))
    data["articles"][2].update(status="published", deleted_at=iso(FIXED_NOW - timedelta(days=1)))
    data["articles"][3].pop("body_html")
    data["articles"][3]["body_markdown"] = "Some *markdown*, [linked](https://example.org/)."
    data["articles"][4]["lang"] = "ru"
    data["articles"][5]["excerpt"] = None
    return data


@pytest.fixture
def second_database(backend: str, tmp_path: Path) -> Iterator[Engine]:
    """Another migrated, empty database of the same backend."""
    with fresh_database(backend, tmp_path) as url:
        engine = make_engine(load_settings(database_url=url))
        migrations.upgrade(engine)
        try:
            yield engine
        finally:
            engine.dispose()


def public_paths(client: TestClient, data: dict[str, Any]) -> list[str]:
    """Every page of every list, and a few single items, as the first database serves them."""
    paths = []
    for path, limit in (
        ("/v1/articles?include=tags,authors,sources,actions", 40),
        ("/v1/articles?sort=title&fields=slug,title,excerpt,body_html,feature_image", 60),
        ("/v1/tags", 7),
        ("/v1/sources", 7),
        ("/v1/actions?active=all", 5),
        ("/v1/actions", 5),
        ("/v1/authors", 2),
    ):
        url = f"{path}{'&' if '?' in path else '?'}limit={limit}"
        while url:
            paths.append(url)
            response = client.get(url)
            assert response.status_code == 200, response.text
            url = response.json()["links"]["next"]
    for item in data["articles"][:8]:
        if is_public(item):
            paths += [f"/v1/articles/{item['slug']}", f"/v1/articles/{item['slug']}/related"]
    for kind in ("tags", "sources", "actions", "authors"):
        paths.append(f"/v1/{kind}/{data[kind][0]['slug']}")
    paths += ["/v1/search?q=ka&limit=50", "/v1/articles?tag=tag-0,tag-1&count=true"]
    return paths


def test_export_then_import_into_an_empty_database_serves_the_same_bytes(
    client, engine, settings, second_database
):
    data = rich_bundle()
    load(engine, data)
    export = exported(engine)

    report = load(second_database, export, now=LATER).as_dict()
    assert report["created"] == {kind: len(data[kind]) for kind in KINDS}
    assert exported(second_database) == export

    copy_app = create_app(
        load_settings(
            database_url=second_database.url.render_as_string(hide_password=False),
            public_url=str(settings.public_url),
            environment="test",
        ),
        engine=second_database,
    )
    copy_app.state.clock = lambda: FIXED_NOW
    paths = public_paths(client, data)
    assert len(paths) > 30
    with TestClient(copy_app, raise_server_exceptions=False) as copy_client:
        for path in paths:
            original, copied = client.get(path), copy_client.get(path)
            assert copied.status_code == original.status_code == 200, path
            assert copied.json() == original.json(), path
            assert copied.content == original.content, path
            assert copied.headers["etag"] == original.headers["etag"], path

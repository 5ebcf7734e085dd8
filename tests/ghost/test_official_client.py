"""The official `@tryghost/content-api` client (pinned in tests/ghost/js/package-lock.json)
against a live `masthead serve` holding more than 100 posts, on each database.

The client is installed with `npm ci` into `.cache/ghost-content-api/` (git-ignored) when
its lock changed; one node process runs every check (tests/ghost/js/checks.cjs) and prints
what the client returned, which the tests below assert on. Skipped only without node/npm.
"""

import hashlib
import json
import shutil
import subprocess
from calendar import monthrange
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from api.auth.models import Role
from api.auth.service import issue_token
from api.core.db import make_sessionmaker
from tests.conftest import FIXED_NOW, empty_all_tables
from tests.deploy.test_workers import server
from tests.factories import generated_bundle, load

ROOT = Path(__file__).resolve().parents[2]
PINNED = Path(__file__).resolve().parent / "js"
CACHE = ROOT / ".cache" / "ghost-content-api"
POSTS = 130
PAGES = ("article-0", "article-1", "article-2")
NOW = datetime.now(UTC)

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="node and npm are needed to run the official Ghost client",
)

Article = dict[str, Any]


def months_ago(months: int) -> str:
    total = NOW.year * 12 + NOW.month - 1 - months
    year, month = total // 12, total % 12 + 1
    moment = NOW.replace(year=year, month=month, day=min(NOW.day, monthrange(year, month)[1]))
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# Every filter form of the issue, with what it means over the bundle's articles.
FILTERS: dict[str, Callable[[Article], bool]] = {
    "tag:tag-1": lambda a: "tag-1" in a["tags"],
    "tags:tag-1": lambda a: "tag-1" in a["tags"],
    "tag:-tag-1": lambda a: "tag-1" not in a["tags"],
    "tag:[tag-1,tag-2]": lambda a: bool({"tag-1", "tag-2"} & set(a["tags"])),
    "tag:-[tag-1,tag-2]": lambda a: not {"tag-1", "tag-2"} & set(a["tags"]),
    "tag:tag-1+tag:tag-2": lambda a: {"tag-1", "tag-2"} <= set(a["tags"]),
    "tag:tag-1,author:author-0": lambda a: "tag-1" in a["tags"] or "author-0" in a["authors"],
    "(tag:tag-1,tag:tag-2)+author:author-1": lambda a: (
        bool({"tag-1", "tag-2"} & set(a["tags"])) and "author-1" in a["authors"]
    ),
    "tags.slug:tag-3+published_at:>'2023-01-01'": lambda a: (
        "tag-3" in a["tags"] and a["published_at"] > "2023-01-01"
    ),
    "published_at:<=2022-06-01": lambda a: a["published_at"] <= "2022-06-01",
    "published_at:>now-1000d": lambda a: (
        a["published_at"] > (NOW - timedelta(days=1000)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ),
    "published_at:>=now-30M": lambda a: a["published_at"] >= months_ago(30),
    "primary_tag:tag-0": lambda a: a["tags"][:1] == ["tag-0"],
    "primary_author:author-2": lambda a: a["authors"][:1] == ["author-2"],
    "author:[author-0,author-2]": lambda a: bool({"author-0", "author-2"} & set(a["authors"])),
    "authors:-author-0": lambda a: "author-0" not in a["authors"],
    "title:~'ka'": lambda a: "ka" in a["title"].lower(),
    "featured:false+tag:tag-4": lambda a: "tag-4" in a["tags"],
    "featured:true": lambda a: False,
    "slug:article-7": lambda a: a["slug"] == "article-7",
    "visibility:public+slug:[article-3,'article-4',article-5]": lambda a: (
        a["slug"] in ("article-3", "article-4", "article-5")
    ),
    "feature_image:null+tag:tag-5": lambda a: "tag-5" in a["tags"],
    "feature_image:-null": lambda a: False,
}


def install_client() -> Path:
    """`npm ci` of the pinned client into the cache, unless the lock is what it holds."""
    lock = (PINNED / "package-lock.json").read_bytes()
    stamp = CACHE / ".lock-sha256"
    digest = hashlib.sha256(lock).hexdigest()
    module = CACHE / "node_modules" / "@tryghost" / "content-api"
    if not (stamp.exists() and stamp.read_text() == digest and module.exists()):
        CACHE.mkdir(parents=True, exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copyfile(PINNED / name, CACHE / name)
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=CACHE, check=True, capture_output=True, timeout=300,
        )  # fmt: skip
        stamp.write_text(digest)
    return module


@pytest.fixture(scope="module")
def dataset() -> dict[str, Any]:
    return generated_bundle(POSTS, n_tags=8, n_authors=3)


@pytest.fixture(scope="module")
def run(migrated: Engine, dataset: dict[str, Any], tmp_path_factory: Any) -> Iterator[Any]:
    """One live server on this database, one node process: what the client returned."""
    module = install_client()
    empty_all_tables(migrated)
    for item in dataset["articles"]:
        if item["slug"] in PAGES:
            item["kind"] = "page"
    load(migrated, dataset)
    with make_sessionmaker(migrated)() as session, session.begin():
        _row, key = issue_token(session, name="site", role=Role.content, now=FIXED_NOW)
    visible = [a for a in dataset["articles"] if a["status"] == "published"]
    posts = [a for a in visible if a["slug"] not in PAGES]
    input_file = tmp_path_factory.mktemp("ghost-client") / "input.json"
    input_file.write_text(json.dumps({
        "client": str(module), "key": key, "filters": list(FILTERS),
        "postSlug": posts[0]["slug"], "pageSlug": next(a["slug"] for a in visible
                                                        if a["slug"] in PAGES),
    }))  # fmt: skip
    with server(migrated.url.render_as_string(hide_password=False)) as base:
        data = json.loads(input_file.read_text())
        input_file.write_text(json.dumps({**data, "url": base}))
        done = subprocess.run(
            ["node", str(PINNED / "checks.cjs"), str(input_file)],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    for name, entry in results.items():  # shown with `pytest -s`
        shown = entry.get("value") if entry["ok"] else entry["error"]
        if isinstance(shown, dict) and "count" in shown:
            shown = {"count": shown["count"], "meta": shown.get("meta")}
        print(f"{name}: {'ok' if entry['ok'] else 'error'} {json.dumps(shown)[:160]}")
    yield results, posts, [a for a in visible if a["slug"] in PAGES]
    empty_all_tables(migrated)


def value(results: dict[str, Any], name: str) -> Any:
    entry = results[name]
    assert entry["ok"], f"{name}: {entry.get('error')}"
    return entry["value"]


def error(results: dict[str, Any], name: str) -> dict[str, Any]:
    entry = results[name]
    assert not entry["ok"], f"{name} should have failed: {entry.get('value')}"
    return entry["error"]  # type: ignore[no-any-return]


def test_browse_posts_pages_and_meta(run):
    results, posts, _pages = run
    browse = value(results, "posts.browse")
    assert browse["count"] == 15
    assert browse["meta"]["pagination"]["total"] == len(posts) > 100
    first = browse["first"]
    assert len(first["id"]) == 24 and first["url"].endswith(f"/{first['slug']}/")
    assert "primary_tag" in first and "primary_author" in first
    one, two = value(results, "posts.browse.page1"), value(results, "posts.browse.page2")
    assert two["meta"]["pagination"]["page"] == 2 and two["meta"]["pagination"]["prev"] == 1
    assert not set(one["slugs"]) & set(two["slugs"]) and two["count"] == 10


def test_limit_all_is_every_post(run):
    results, posts, _pages = run
    every = value(results, "posts.browse.all")
    print(f"limit=all returned {every['count']} posts (of {len(posts)} published)")
    assert every["count"] == len(posts) > 100
    assert sorted(every["slugs"]) == sorted(a["slug"] for a in posts)
    assert every["published"] == sorted(every["published"], reverse=True)
    assert every["meta"]["pagination"]["limit"] == "all"
    assert every["withPrimaryTag"] == len(posts)


def test_order_fields_and_formats(run):
    results, posts, _pages = run
    ordered = value(results, "posts.browse.order")
    assert ordered["titles"] == sorted(ordered["titles"])
    assert ordered["count"] == len(posts)
    assert set(value(results, "posts.browse.fields")) == {"title", "url"}
    plain = value(results, "posts.browse.plaintext")
    assert "plaintext" in plain and "html" not in plain


def test_reads_by_id_and_slug(run):
    results, posts, _pages = run
    by_id = value(results, "posts.read.id")
    assert by_id["slug"] == by_id["wanted"]
    by_slug = value(results, "posts.read.slug")
    assert by_slug["slug"] == posts[0]["slug"]
    assert by_slug["primaryTag"] == posts[0]["tags"][0]
    assert by_slug["primaryAuthor"] == posts[0]["authors"][0]
    assert by_slug["html"] == "string"


@pytest.mark.parametrize("nql", list(FILTERS))
def test_every_filter_form(run, nql):
    results, posts, _pages = run
    outcome = value(results, "filters")[nql]
    assert outcome["ok"], outcome
    expected = {a["slug"] for a in posts if FILTERS[nql](a)}
    assert set(outcome["slugs"]) == expected
    assert len(outcome["slugs"]) == len(expected)


def test_pages(run):
    results, _posts, pages = run
    browse = value(results, "pages.browse")
    assert sorted(browse["slugs"]) == sorted(a["slug"] for a in pages)
    assert value(results, "pages.read.slug") in {a["slug"] for a in pages}
    read = value(results, "pages.read.id")
    assert read["slug"] == read["wanted"]


def test_tags_authors_settings_tiers_newsletters(run, dataset):
    results, posts, _pages = run
    tags = value(results, "tags.browse")
    assert tags["count"] == 8
    assert tags["counts"]["tag-1"] == sum("tag-1" in a["tags"] for a in posts)
    tag = value(results, "tags.read")
    assert tag["slug"] == tag["byId"] == "tag-1" and tag["url"].endswith("/tag/tag-1/")
    assert value(results, "authors.browse")["count"] == 3
    author = value(results, "authors.read")
    assert author["slug"] == author["byId"] == "author-1"
    assert author["url"].endswith("/author/author-1/")
    settings = value(results, "settings.browse")
    assert {"title", "description", "navigation", "url"} <= set(settings)
    assert value(results, "tiers.browse")["count"] == 0
    assert value(results, "newsletters.browse")["count"] == 0
    assert error(results, "offers.read")["name"] == "NotFoundError"


def test_legacy_versions_and_members_tokens(run):
    results, _posts, _pages = run
    assert value(results, "v3.posts.browse")["count"] == 5
    assert value(results, "canary.tags.browse")["count"] == 8
    assert value(results, "members.token.ignored")["count"] == 3


def test_errors_reach_the_client_as_ghost_errors(run):
    results, _posts, _pages = run
    missing = error(results, "error.read.missing")
    assert missing["name"] == "NotFoundError" and "not found" in missing["message"].lower()
    assert missing["status"] == 404
    assert error(results, "error.filter.unknown")["name"] == "BadRequestError"
    assert error(results, "error.filter.malformed")["status"] == 400
    stranger = error(results, "error.key.unknown")
    assert stranger["name"] == "UnauthorizedError" and stranger["status"] == 401
    assert "26 hex" in error(results, "error.key.format")["message"]

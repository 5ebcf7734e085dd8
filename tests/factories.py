"""Plain functions that build content through the real import path (search index included)."""

import importlib.util
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from api.bundle.importing import import_bundle
from api.bundle.validation import parse_bundle
from api.core.db import make_sessionmaker
from tests.conftest import FIXED_NOW

DATASET_SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "make_dataset.py"


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def bundle(**kinds: list[dict[str, Any]]) -> dict[str, Any]:
    return {"format": "masthead-bundle", "version": 1, **kinds}


def author(slug: str = "alex", **overrides: Any) -> dict[str, Any]:
    return {"slug": slug, "name": slug.replace("-", " ").title(), **overrides}


def tag(slug: str = "rights", **overrides: Any) -> dict[str, Any]:
    return {"slug": slug, "name": slug.replace("-", " ").title(), **overrides}


def source(slug: str = "hrw", **overrides: Any) -> dict[str, Any]:
    return {
        "slug": slug,
        "name": slug.upper(),
        "kind": "ngo",
        "url": f"https://{slug}.example.org/",
        **overrides,
    }


def action(slug: str = "petition", **overrides: Any) -> dict[str, Any]:
    return {
        "slug": slug,
        "kind": "petition",
        "title": f"Sign {slug}",
        "url": f"https://act.example.org/{slug}",
        "starts_at": iso(FIXED_NOW - timedelta(days=10)),
        "ends_at": None,
        **overrides,
    }


def article(slug: str = "story", *, days_ago: float = 1, **overrides: Any) -> dict[str, Any]:
    return {
        "slug": slug,
        "title": slug.replace("-", " ").title(),
        "body_html": f"<p>The body of {slug}.</p>",
        "status": "published",
        "published_at": iso(FIXED_NOW - timedelta(days=days_ago)),
        **overrides,
    }


def two_of_each() -> dict[str, list[dict[str, Any]]]:
    """Two authors, tags, sources and actions: enough for every list to have a second page."""
    return {
        "authors": [author("alex"), author("sam")],
        "tags": [tag("rights"), tag("russia")],
        "sources": [source("hrw"), source("bbc", kind="news_outlet")],
        "actions": [action("petition"), action("donate", kind="donation")],
    }


def load(engine: Engine, data: dict[str, Any], now: datetime = FIXED_NOW) -> Any:
    """Import a bundle in its own committed transaction and return the report."""
    with make_sessionmaker(engine)() as session, session.begin():
        return import_bundle(session, parse_bundle(data), now)


def generated_bundle(articles: int, **options: Any) -> dict[str, Any]:
    """A deterministic bundle from the project's generator, `bench/make_dataset.py`."""
    spec = importlib.util.spec_from_file_location("make_dataset", DATASET_SCRIPT)
    assert spec and spec.loader, f"missing {DATASET_SCRIPT}"
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    defaults = {"n_tags": 30, "n_sources": 40, "n_actions": 12, "n_authors": 5}
    defaults.update(options)
    return module.build(  # type: ignore[no-any-return]
        articles,
        defaults["n_tags"],
        defaults["n_sources"],
        defaults["n_actions"],
        defaults["n_authors"],
        defaults.get("words", 60),
        defaults.get("seed", 9053),
    )

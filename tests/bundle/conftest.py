"""What the bundle tests compare: the whole stored state, and every page of a public list."""

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, text

from api.bundle.exporting import export_bundle
from api.core.db import make_sessionmaker, metadata
from tests.factories import action, article, author, bundle, source, tag

EXPORT_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC | orjson.OPT_SORT_KEYS


def exported(engine: Engine) -> dict[str, Any]:
    """The export as a client would read it back from a file (times as RFC 3339 strings)."""
    with make_sessionmaker(engine)() as session:
        return orjson.loads(orjson.dumps(export_bundle(session), option=EXPORT_OPTIONS))  # type: ignore[no-any-return]


def search_index(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            query = "SELECT article_id, title, subtitle, tags, body FROM article_search"
        else:
            query = "SELECT article_id, document::text FROM article_search"
        return sorted(tuple(row) for row in connection.execute(text(query)))


def database_state(engine: Engine) -> dict[str, Any]:
    """Export, row count of every table, and the search index: equal states, equal dicts."""
    with engine.connect() as connection:
        counts = {
            table.name: connection.scalar(select(func.count()).select_from(table))
            for table in metadata.sorted_tables
        }
    return {"export": exported(engine), "rows": counts, "search": search_index(engine)}


def walk(client: TestClient, path: str, *, limit: int = 7) -> list[dict[str, Any]]:
    """Every item of a public list, following `next_cursor` page by page."""
    path, _, query = path.partition("?")
    params: dict[str, Any] = {**dict(parse_qsl(query)), "limit": limit}
    items: list[dict[str, Any]] = []
    for _page in range(10_000):
        response = client.get(path, params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["data"]) <= limit
        items.extend(body["data"])
        cursor = body["meta"]["next_cursor"]
        if cursor is None:
            return items
        params["cursor"] = cursor
    raise AssertionError(f"{path} never ran out of pages")


def small_bundle() -> dict[str, Any]:
    """Five articles, so `articles[3]` is a real position, with every kind of reference."""
    return bundle(
        authors=[author("alex"), author("sam")],
        tags=[tag("rights"), tag("russia"), tag("refugees")],
        sources=[source("hrw"), source("bbc", kind="news_outlet", country="GB")],
        actions=[action("petition"), action("donate", kind="donation")],
        articles=[
            article(
                f"story-{n}",
                days_ago=n + 1,
                authors=["alex"],
                tags=["rights"],
                sources=[
                    {"source": "hrw", "cited_url": "https://hrw.example.org/r", "context": "x"}
                ],
                actions=["petition"],
            )
            for n in range(5)
        ],
    )


@pytest.fixture
def state(engine: Engine) -> Callable[[], dict[str, Any]]:
    return lambda: database_state(engine)

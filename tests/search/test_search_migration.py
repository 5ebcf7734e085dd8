"""Migration 0011 rebuilds the existing index as the app writes it: accents folded on
PostgreSQL, deleted articles out on both databases; its downgrade restores `english`."""

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from api.core import migrations
from api.core.db import make_engine
from api.core.settings import load_settings
from tests.conftest import BACKENDS, FIXED_NOW, fresh_database
from tests.factories import article, bundle, iso, load, tag


@pytest.fixture(params=BACKENDS)
def fresh_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with fresh_database(str(request.param), tmp_path) as url:
        engine = make_engine(load_settings(database_url=url))
        try:
            yield engine
        finally:
            engine.dispose()


def index_rows(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            query = (
                "SELECT article_id, title, subtitle, tags, body FROM article_search "
                "ORDER BY article_id"
            )
        else:
            query = "SELECT article_id, document::text FROM article_search ORDER BY article_id"
        return [tuple(row) for row in connection.execute(text(query))]


def matches(engine: Engine, word: str, config: str = "masthead_english") -> list[str]:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            query = "SELECT article_id FROM article_search WHERE article_search MATCH :word"
        else:
            query = (
                "SELECT article_id FROM article_search "
                f"WHERE document @@ plainto_tsquery('{config}', :word)"
            )
        return sorted(connection.scalars(text(query), {"word": word}))


def index_a_deleted_article_the_old_way(engine: Engine) -> None:
    """Before 0011 an import indexed deleted articles too."""
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(
                text(
                    "INSERT INTO article_search_keys (article_id) "
                    "SELECT id FROM articles WHERE deleted_at IS NOT NULL"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO article_search (rowid, article_id, title, subtitle, tags, body) "
                    "SELECT k.id, a.id, a.title, '', '', a.body_text FROM articles a "
                    "JOIN article_search_keys k ON k.article_id = a.id "
                    "WHERE a.deleted_at IS NOT NULL"
                )
            )
        else:
            connection.execute(
                text(
                    "INSERT INTO article_search (article_id, document) "
                    "SELECT id, to_tsvector('english', title) FROM articles "
                    "WHERE deleted_at IS NOT NULL"
                )
            )


def test_the_migration_reindexes_existing_rows_as_the_app_does(fresh_engine):
    engine = fresh_engine
    migrations.upgrade(engine)
    load(
        engine,
        bundle(
            tags=[tag("seoul", name="Séoul", hashtag="#SéoulNights")],
            articles=[
                article("accented", title="Café society", tags=["seoul"], subtitle="Zürich"),
                article("plain", title="Cafe culture", body_html="<p>A naïve résumé.</p>"),
                article("draft", status="draft", title="Café draft"),
                article("gone", title="Café closed", deleted_at=iso(FIXED_NOW - timedelta(days=1))),
            ],
        ),
    )
    with engine.connect() as connection:
        ids = dict(connection.execute(text("SELECT slug, id FROM articles")).all())
    as_the_app_indexes = index_rows(engine)
    assert ids["gone"] not in {row[0] for row in as_the_app_indexes}
    assert matches(engine, "cafe") == sorted([ids["accented"], ids["plain"], ids["draft"]])

    migrations.downgrade(engine, "0010")
    if engine.dialect.name == "postgresql":
        # Back to `english`: accents kept, as the previous revision's queries expect.
        assert matches(engine, "café", "english") == sorted([ids["accented"], ids["draft"]])
        with engine.connect() as connection:
            assert (
                connection.scalar(
                    text("SELECT count(*) FROM pg_ts_config WHERE cfgname = 'masthead_english'")
                )
                == 0
            )
            assert (
                connection.scalar(
                    text("SELECT count(*) FROM pg_extension WHERE extname = 'unaccent'")
                )
                == 0
            )
    index_a_deleted_article_the_old_way(engine)
    assert ids["gone"] in {row[0] for row in index_rows(engine)}

    migrations.upgrade(engine)
    assert index_rows(engine) == as_the_app_indexes
    assert matches(engine, "cafe") == sorted([ids["accented"], ids["plain"], ids["draft"]])
    assert matches(engine, "zurich") == [ids["accented"]]
    assert matches(engine, "seoul") == [ids["accented"]]


def test_an_unaccent_extension_already_there_is_kept_on_downgrade(fresh_engine):
    engine = fresh_engine
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    with engine.begin() as connection:
        connection.execute(text("CREATE EXTENSION unaccent"))
    migrations.upgrade(engine)
    migrations.downgrade(engine, "0010")
    with engine.connect() as connection:
        assert (
            connection.scalar(text("SELECT count(*) FROM pg_extension WHERE extname = 'unaccent'"))
            == 1
        )

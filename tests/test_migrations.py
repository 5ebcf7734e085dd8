"""Migrations: one head, each step reversible on every backend, in step with the models; the
`masthead db` commands; SQLite's connection settings (STYLE "Migrations", CONTRACT §8)."""

import re
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

import api.models  # noqa: F401  (every table in the metadata)
from api.cli import app as cli
from api.core import migrations
from api.core.db import make_engine, metadata
from api.core.settings import load_settings
from tests.conftest import BACKENDS, fresh_database
from tests.factories import article, bundle, load, tag

VERSIONS = Path(migrations.ROOT) / "alembic" / "versions"
# Mirrors alembic/env.py (importing it would run the migrations): tables made by raw SQL.
UNMODELLED_TABLE_PREFIXES = ("article_search",)


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    if type_ == "table" and name and name.startswith(UNMODELLED_TABLE_PREFIXES):
        return False
    table = getattr(obj, "table", None)
    return not (table is not None and table.name.startswith(UNMODELLED_TABLE_PREFIXES))


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(migrations.alembic_config("sqlite://"))


def head() -> str:
    revision = script_directory().get_current_head()
    assert revision
    return revision


def schema_objects(engine: Engine) -> set[tuple[str, str]]:
    """Every table, index, view, trigger, function, sequence and type in the database."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.execute(
                text("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
            )
            return {(kind, name) for kind, name in rows}
        rows = connection.execute(
            text(
                "SELECT 'table', table_name FROM information_schema.tables"
                " WHERE table_schema = current_schema()"
                " UNION ALL SELECT 'index', indexname FROM pg_indexes"
                " WHERE schemaname = current_schema()"
                " UNION ALL SELECT 'sequence', sequence_name FROM information_schema.sequences"
                " WHERE sequence_schema = current_schema()"
                " UNION ALL SELECT 'trigger', trigger_name || ' ON ' || event_object_table"
                " FROM information_schema.triggers WHERE trigger_schema = current_schema()"
                " UNION ALL SELECT 'function', routine_name FROM information_schema.routines"
                " WHERE routine_schema = current_schema()"
                " UNION ALL SELECT 'type', typname FROM pg_type t"
                " JOIN pg_namespace n ON n.oid = t.typnamespace"
                " WHERE n.nspname = current_schema() AND t.typtype IN ('e', 'd')"
            )
        )
        return {(kind, name) for kind, name in rows}


def beyond_alembic(objects: set[tuple[str, str]]) -> set[tuple[str, str]]:
    return {(kind, name) for kind, name in objects if not name.startswith("alembic_version")}


# --- the revision graph ------------------------------------------------------------------


def test_there_is_a_single_head_and_a_single_base():
    script = script_directory()
    assert len(script.get_heads()) == 1, script.get_heads()
    assert len(script.get_bases()) == 1, script.get_bases()
    revisions = list(script.walk_revisions())
    assert revisions[0].revision == head()
    assert all(not r.is_merge_point for r in revisions), "history should stay linear"


def test_migration_files_are_date_prefixed():
    names = sorted(p.name for p in VERSIONS.glob("*.py"))
    assert names
    for name in names:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}_[a-z0-9_]+\.py", name), name


# --- reversibility -----------------------------------------------------------------------


@pytest.fixture
def fresh_engine(backend_name: str, tmp_path: Path) -> Any:
    with fresh_database(backend_name, tmp_path) as url:
        engine = make_engine(load_settings(database_url=url))
        try:
            yield engine
        finally:
            engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_upgrade_downgrade_upgrade_round_trip(fresh_engine):
    engine = fresh_engine
    assert migrations.current_revision(engine) is None
    assert beyond_alembic(schema_objects(engine)) == set()

    migrations.upgrade(engine)
    assert migrations.current_revision(engine) == head()
    upgraded = schema_objects(engine)
    tables = {name for kind, name in upgraded if kind == "table"}
    assert {table.name for table in metadata.sorted_tables} <= tables
    assert "article_search" in tables

    migrations.downgrade(engine, "base")
    assert migrations.current_revision(engine) is None
    assert beyond_alembic(schema_objects(engine)) == set()

    migrations.upgrade(engine)
    assert migrations.current_revision(engine) == head()
    assert schema_objects(engine) == upgraded
    # The rebuilt schema works: content, its relations and the search index load.
    report = load(engine, bundle(tags=[tag("rights")], articles=[article(tags=["rights"])]))
    assert report is not None


def test_each_migration_is_undone_exactly_by_its_downgrade(fresh_engine):
    """Step up one revision at a time, then down: each step restores the schema it left."""
    engine = fresh_engine
    order = [r.revision for r in reversed(list(script_directory().walk_revisions()))]
    snapshots = {None: beyond_alembic(schema_objects(engine))}
    for revision in order:
        migrations.upgrade(engine, "+1")
        assert migrations.current_revision(engine) == revision
        snapshots[revision] = beyond_alembic(schema_objects(engine))
    for below, revision in reversed(list(zip([None, *order], order, strict=False))):
        assert migrations.current_revision(engine) == revision
        migrations.downgrade(engine, "-1")
        assert migrations.current_revision(engine) == below
        assert beyond_alembic(schema_objects(engine)) == snapshots[below], revision


def test_models_and_migrations_agree(engine):
    """`alembic check`: autogenerate finds nothing to do on a freshly migrated database."""
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "include_object": include_object,
                "compare_type": True,
                "target_metadata": metadata,
            },
        )
        diffs = compare_metadata(context, metadata)
    assert diffs == []


def test_search_keys_migration_keeps_an_existing_sqlite_index_searchable(tmp_path):
    """0007 gives every FTS5 row already there its key: edits after the upgrade replace the
    row instead of adding a second one, and search finds what it found before."""
    engine = make_engine(load_settings(database_url=f"sqlite:///{tmp_path / 'keys.db'}"))
    try:
        migrations.upgrade(engine, "0006")
        with engine.begin() as connection:
            for rowid, article_id in ((7, "a" * 32), (9, "b" * 32)):
                connection.execute(
                    text(
                        "INSERT INTO article_search (rowid, article_id, title, subtitle, tags, "
                        "body) VALUES (:rowid, :article_id, 'Zeppelin', '', '', 'over the city')"
                    ),
                    {"rowid": rowid, "article_id": article_id},
                )
        migrations.upgrade(engine)
        with engine.connect() as connection:
            keys = connection.execute(
                text("SELECT id, article_id FROM article_search_keys ORDER BY id")
            ).all()
            matches = connection.scalars(
                text("SELECT article_id FROM article_search WHERE article_search MATCH 'zeppelin'")
            ).all()
        assert keys == [(7, "a" * 32), (9, "b" * 32)]
        assert sorted(matches) == ["a" * 32, "b" * 32]
    finally:
        engine.dispose()


# --- the command line --------------------------------------------------------------------


def test_masthead_db_commands(fresh_engine, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no stray .env file
    env = {"MASTHEAD_DATABASE_URL": fresh_engine.url.render_as_string(hide_password=False)}
    runner = CliRunner()

    def masthead(*args: str) -> str:
        result = runner.invoke(cli, list(args), env=env)
        assert result.exit_code == 0, result.output
        return result.stdout.strip()

    assert masthead("db", "current") == f"empty (head is {head()})"
    assert head() in masthead("db", "upgrade")
    assert masthead("db", "current") == f"{head()} (head)"
    assert migrations.current_revision(fresh_engine) == head()
    masthead("db", "downgrade", "base")
    assert masthead("db", "current") == f"empty (head is {head()})"
    assert beyond_alembic(schema_objects(fresh_engine)) == set()


def test_masthead_db_refuses_a_bad_database_url_in_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["db", "current"], env={"MASTHEAD_DATABASE_URL": "mysql://x"})
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "MASTHEAD_DATABASE_URL" in lines[0], result.stderr


# --- SQLite connection settings ----------------------------------------------------------


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(tmp_path):
    engine = make_engine(load_settings(database_url=f"sqlite:///{tmp_path / 'pragmas.db'}"))
    try:
        with engine.connect() as first, engine.connect() as second:
            for connection in (first, second):
                assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
                assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
    finally:
        engine.dispose()


def test_sqlite_enforces_foreign_keys(tmp_path):
    engine = make_engine(load_settings(database_url=f"sqlite:///{tmp_path / 'fk.db'}"))
    try:
        migrations.upgrade(engine)
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(
                text("INSERT INTO article_tags (article_id, tag_id) VALUES ('nope', 'nope')")
            )
    finally:
        engine.dispose()

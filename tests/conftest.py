"""Test fixtures: every database test runs on SQLite and, when configured, on PostgreSQL.

The schema is built by running the Alembic migrations once per database per test session;
each test starts from empty tables. Requests go through HTTP to the real ASGI app.
"""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from api.core import migrations
from api.core.db import make_engine, make_sessionmaker, metadata
from api.core.settings import Settings, load_settings
from api.main import create_app

pytest_plugins = ["pytester", "tests.auth.tokens", "tests.response_models", "tests.log_leaks"]

PG_URL = os.environ.get("MASTHEAD_TEST_DATABASE_URL")
FIXED_NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(not PG_URL, reason="MASTHEAD_TEST_DATABASE_URL not set"),
    ),
]


PG_SKIPPED = (
    "the PostgreSQL half of the database tests was skipped: MASTHEAD_TEST_DATABASE_URL is not "
    "set (e.g. MASTHEAD_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test)"
)


def pytest_report_header(config: pytest.Config) -> str:
    return f"databases: SQLite{', PostgreSQL' if PG_URL else ''}"


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Say why tests were skipped, last, where `make test`'s reader looks."""
    if not PG_URL:
        terminalreporter.write_line(PG_SKIPPED, yellow=True)


@contextmanager
def fresh_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """A brand-new empty database; dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'masthead.db'}"
        return
    assert PG_URL
    admin_url = make_url(PG_URL).set(drivername="postgresql+psycopg")
    name = f"masthead_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def migrated(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """One migrated database per backend for the whole session."""
    with fresh_database(backend, tmp_path_factory.mktemp(backend)) as url:
        engine = make_engine(load_settings(database_url=url))
        migrations.upgrade(engine)
        yield engine
        engine.dispose()


KEPT_TABLES = ("content_version", "change_log")


def empty_all_tables(engine: Engine) -> None:
    """Delete every row; the change log last (deletes log changes), the version reset."""
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM article_search"))
        if engine.dialect.name == "sqlite":
            connection.execute(text("DELETE FROM article_search_keys"))
        for table in reversed(metadata.sorted_tables):
            if table.name not in KEPT_TABLES:
                connection.execute(table.delete())
        connection.execute(text("DELETE FROM change_log"))
        connection.execute(text("UPDATE content_version SET version = 0"))
        if engine.dialect.name == "sqlite":
            # Planner statistics an earlier test's bulk import left (`ANALYZE`) would make
            # the next test's query plans depend on the order tests ran in.
            connection.execute(text("DROP TABLE IF EXISTS sqlite_stat1"))
            connection.execute(text("DROP TABLE IF EXISTS sqlite_stat4"))


@pytest.fixture
def engine(migrated: Engine) -> Engine:
    empty_all_tables(migrated)
    return migrated


@pytest.fixture
def settings(engine: Engine) -> Settings:
    return load_settings(
        database_url=engine.url.render_as_string(hide_password=False),
        public_url="http://testserver",
        environment="test",
        # Background work runs only where a test drives it (on the fixed clock).
        webhook_worker=False,
    )


@pytest.fixture
def app(settings: Settings, engine: Engine) -> Any:
    app = create_app(settings, engine=engine)
    app.state.clock = lambda: FIXED_NOW
    return app


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def uncached_client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    """Like `client`, without the whole-response cache: every request runs its queries."""
    app = create_app(settings.model_copy(update={"response_cache": False}), engine=engine)
    app.state.clock = lambda: FIXED_NOW
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def session(engine: Engine) -> Iterator[Any]:
    """A session for arranging data and checking rows directly; commits are real."""
    with make_sessionmaker(engine)() as session:
        yield session


class StatementCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_statements(engine: Engine) -> Iterator[Any]:
    """`with count_statements() as counter:` counts the SQL statements executed inside."""

    @contextmanager
    def counting() -> Iterator[StatementCounter]:
        counter = StatementCounter()
        event.listen(engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", counter)

    yield counting

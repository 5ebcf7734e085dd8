"""Engine, sessions and the column types shared by every table (SQLite and PostgreSQL)."""

import contextlib
import functools
import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

from fastapi import Depends, Request
from sqlalchemy import (
    Connection,
    CursorResult,
    DateTime,
    Engine,
    MetaData,
    Result,
    create_engine,
    event,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel
from starlette.concurrency import run_in_threadpool

from api.core.overload import alone_in_flight
from api.core.settings import Settings
from api.core.writers import begin_immediate, writer_queue

# Stable constraint names, so migrations can refer to (and drop) them on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata: MetaData = SQLModel.metadata
P = ParamSpec("P")
R = TypeVar("R")


def new_id() -> str:
    """A stable, opaque identifier."""
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both databases (SQLite stores naive UTC text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _sqlite_connect(busy_timeout_ms: int) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Transactions are begun by `_sqlite_begin`, not by the driver (which would begin
        # one lazily, deferred, before the first write).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return on_connect


def _sqlite_begin(budget_ms: int) -> Callable[[Connection], None]:
    def on_begin(connection: Connection) -> None:
        """`BEGIN IMMEDIATE` for writers: the write lock is taken up front, retried within
        the busy budget (see `api.core.writers`), so a transaction never fails half-way for
        want of the lock (a deferred writer in WAL mode can get `SQLITE_BUSY` at its first
        write, with no wait at all). Readers begin deferred and never wait (WAL)."""
        mode = connection.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
        # On the driver's connection, so statement counts and logs show the queries alone;
        # its errors are wrapped as SQLAlchemy would ("database is locked" becomes a 503).
        dbapi_connection = connection.connection.dbapi_connection
        try:
            if mode == "IMMEDIATE":
                begin_immediate(dbapi_connection, budget_ms)  # type: ignore[arg-type]
            else:
                dbapi_connection.execute(f"BEGIN {mode}")  # type: ignore[union-attr]
        except sqlite3.Error as exc:
            raise OperationalError(f"BEGIN {mode}", None, exc) from exc

    return on_begin


SQLITE_BEGIN = "masthead_sqlite_begin"
INLINE = "masthead.reads_inline"  # the request scope's record of `reads_inline`


def insert_on_conflict(session: Session, model: Any) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into `model` in the session's dialect, which offers `on_conflict_do_nothing`
    and `on_conflict_do_update` (the portable `insert` has neither)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


def rows_matched(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE matched (`Session.execute` is typed as returning any
    `Result`, and only a `CursorResult` has a row count). Not for INSERT: psycopg reports -1
    there; use RETURNING."""
    return result.rowcount if isinstance(result, CursorResult) else 0


CONTENT_VERSION_SQL = "SELECT version FROM content_version WHERE id = 1"


def content_version(connection: Connection) -> int:
    """The version of all content; it changes (in commit order) with every write."""
    return int(connection.exec_driver_sql(CONTENT_VERSION_SQL).scalar_one())


def make_engine(settings: Settings, url: str | None = None) -> Engine:
    """Create the engine with each database's specifics (WAL and FKs on SQLite, pooling on
    PG), for `settings.database_url` or another database (`url`, e.g. a read replica)."""
    url = url or settings.database_url
    if url.startswith("sqlite"):
        memory = url in ("sqlite://", "sqlite:///:memory:")
        if not memory:
            path = url.split("///", 1)[1]
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Opening an SQLite connection is cheap and reads run on the event loop, so the
        # pool never makes a checkout wait (max_overflow=-1): the loop must never block.
        pooling: dict[str, Any] = (
            {"poolclass": StaticPool}
            if memory
            else {"pool_size": settings.database_pool_size, "max_overflow": -1}
        )
        engine = create_engine(url, connect_args={"check_same_thread": False}, **pooling)
        event.listen(engine, "connect", _sqlite_connect(settings.sqlite_busy_timeout_ms))
        event.listen(engine, "begin", _sqlite_begin(settings.sqlite_busy_timeout_ms))
        return engine
    return create_engine(
        url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        # Waiting for a free connection is bounded, and ends in a 503 (see core/errors).
        pool_timeout=settings.database_pool_timeout,
        pool_pre_ping=True,
        # An unreachable or starting server fails fast instead of hanging.
        connect_args={"connect_timeout": settings.database_connect_timeout},
    )


def make_sessionmaker(engine: Engine, *, lock_first: bool = False) -> sessionmaker[Session]:
    """Sessions on `engine`. With `lock_first`, an SQLite transaction takes the write lock as
    it begins (for work that writes: requests other than GET, background workers, imports);
    without, it begins deferred and never waits for a writer (reads)."""
    bind = engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"}) if lock_first else engine
    return sessionmaker(bind, expire_on_commit=False, autoflush=False)


def reads_inline(request: Request) -> bool:
    """Whether this request's database work may run on the event loop.

    SQLite reads are in-process and never wait for a writer (WAL), so a read costs less
    than the hop to a worker thread and back. Writes (which may wait for SQLite's write
    lock) and every request to a network database stay in the thread pool. So does a read
    that is not alone in the worker (see `api.core.overload`): run inline one after the
    other, a burst of reads would hold the loop for their sum, and nothing else (`/healthz`,
    the shedding of requests past the bound) would be answered meanwhile. Decided once per
    request."""
    decided: bool | None = request.scope.get(INLINE)
    if decided is not None:
        return decided
    inline: bool | None = getattr(request.app.state, "sqlite", None)
    if inline is None:
        inline = request.app.state.engine.dialect.name == "sqlite"
        request.app.state.sqlite = inline
    decided = inline and request.method in ("GET", "HEAD") and alone_in_flight(request.scope)
    request.scope[INLINE] = decided
    return decided


def is_public_read(request: Request) -> bool:
    """A GET served by a `public_read` endpoint (not an admin read, not a confirmation link)."""
    route = request.scope.get("route")
    return request.method in ("GET", "HEAD") and bool(
        getattr(getattr(route, "endpoint", None), "public_read", False)
    )


def replica_caught_up(primary: Engine, replica: Engine) -> bool:
    """The replica holds every write the primary had committed when this was called.

    The primary's version is read first: whatever the replica answers after that, if it
    is at least that version, it is at least as new as the primary was."""
    with primary.connect() as connection:
        wanted = content_version(connection)
    try:
        with replica.connect() as connection:
            return content_version(connection) >= wanted
    except Exception:
        return False  # a replica that is away is a replica that lags


FAILED = "masthead_request_failed"


class RequestFailed(Exception):
    """The request ended in an error answered inside its route: its session rolls back."""


def mark_failed(request: Request) -> None:
    """Roll this request's transaction back even though its route answered normally (a
    route class that turns errors into responses itself, so no exception reaches the
    session dependency)."""
    setattr(request.state, FAILED, True)


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One transaction per request: commit on success, roll back on any error.

    Public reads go to the read replica (`MASTHEAD_READ_DATABASE_URL`) when it has caught up
    with the primary, so an answer is never older than the primary's content. On SQLite, a
    request that writes first waits for its turn among this process's writers (see
    `api.core.writers`), without blocking the event loop."""
    state = request.app.state
    if request.method in ("GET", "HEAD"):
        async with _transaction(request, state.query_sessionmaker) as session:
            yield session
        return
    async with _writing(request) as session:
        yield session


async def get_writing_session(request: Request) -> AsyncIterator[Session]:
    """A transaction that writes whatever the method: for a GET that counts (the tracked
    redirect), which then waits for its turn among writers like a POST."""
    async with _writing(request) as session:
        yield session


@contextlib.asynccontextmanager
async def _writing(request: Request) -> AsyncIterator[Session]:
    state = request.app.state
    queue = writer_queue(state.engine)
    if queue is None:
        async with _transaction(request, state.sessionmaker) as session:
            yield session
        return
    budget_ms = state.settings.sqlite_busy_timeout_ms
    async with queue.turn(budget_ms), _transaction(request, state.sessionmaker) as session:
        yield session


@contextlib.asynccontextmanager
async def _transaction(request: Request, maker: sessionmaker[Session]) -> AsyncIterator[Session]:
    state = request.app.state
    use_replica = state.read_sessionmaker is not None and is_public_read(request)
    if use_replica and await run_in_threadpool(replica_caught_up, state.engine, state.read_engine):
        maker = state.read_sessionmaker
    session = maker()
    inline = reads_inline(request)
    try:
        yield session
        if getattr(request.state, FAILED, False):
            raise RequestFailed
        if inline:
            session.commit()
        else:
            await run_in_threadpool(session.commit)
    except RequestFailed:
        if inline:
            session.rollback()
        else:
            await run_in_threadpool(session.rollback)
    except BaseException:
        if inline:
            session.rollback()
        else:
            await run_in_threadpool(session.rollback)
        raise
    finally:
        if inline:
            session.close()
        else:
            await run_in_threadpool(session.close)


async def current_time(request: Request) -> datetime:
    """The request's notion of now; tests replace `app.state.clock` with a fixed clock."""
    clock = request.app.state.clock
    return clock()


def public_read(endpoint: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """Mark an endpoint that only reads public content.

    Its session may come from the read replica (see `get_session`), and on SQLite it runs
    on the event loop rather than in the thread pool. FastAPI reads the wrapped signature
    (`functools.wraps`), so parameters, validation and the OpenAPI document are those of
    the plain function."""

    @functools.wraps(endpoint)
    async def run(*args: P.args, **kwargs: P.kwargs) -> R:
        request = kwargs.get("request")
        if isinstance(request, Request) and reads_inline(request):
            return endpoint(*args, **kwargs)
        return await run_in_threadpool(endpoint, *args, **kwargs)

    run.public_read = True  # type: ignore[attr-defined]
    return run


# scope="function": commit before the response is sent, so a failed commit is reported.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
WritingSessionDep = Annotated[Session, Depends(get_writing_session, scope="function")]
NowDep = Annotated[datetime, Depends(current_time)]


def refresh_planner_statistics(engine: Engine) -> None:
    """Let the query planner see the data as it is (after a bulk import, at start-up).

    Without statistics SQLite may count a tag's articles by walking every article instead
    of the tag's index entries; `ANALYZE` is cheap next to that."""
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA analysis_limit=1000")
            connection.exec_driver_sql("ANALYZE")
        else:
            connection.exec_driver_sql("ANALYZE")

"""SQLite writers take turns: queued in each process, then retried against the other processes.

SQLite lets one connection write at a time. Left to itself, a writer that finds the lock taken
sleeps inside SQLite in growing steps (up to 100 ms), so under contention the waiting writers
poll rarely, miss the short gaps between the others' transactions, and run out of time while
the database is mostly idle between them. Instead:

- within a worker process, the requests that write queue for their turn on an asyncio lock per
  database file, in arrival order, holding no thread and no connection while they wait (the
  event loop never blocks);
- the request whose turn it is begins its transaction with `BEGIN IMMEDIATE` and, while a writer
  of another process (another worker, a background pass, the CLI) holds the lock, retries every
  few milliseconds;
- the whole wait, queue and retries, is bounded by `MASTHEAD_SQLITE_BUSY_TIMEOUT_MS`; past it the
  request is answered 503 "busy" with `Retry-After`, having changed nothing.

Work outside requests (background passes, the CLI) does not queue; its `BEGIN IMMEDIATE`
retries the same way within the same budget.
"""

import asyncio
import contextlib
import logging
import random
import sqlite3
import threading
import time
import weakref
from collections.abc import AsyncIterator
from contextvars import ContextVar
from pathlib import Path

from sqlalchemy import Engine

from api.core.errors import DatabaseBusy

log = logging.getLogger("masthead")
# When the current request's wait for the write lock must end (time.monotonic()); unset
# outside requests, where each BEGIN gets the whole budget.
WRITE_DEADLINE: ContextVar[float | None] = ContextVar("masthead_write_deadline", default=None)
# Pause between two tries of BEGIN IMMEDIATE while another process writes, in seconds.
RETRY_PAUSE = (0.001, 0.004)


def busy_error() -> DatabaseBusy:
    return DatabaseBusy(
        "The database is busy with other writes; nothing was changed. Retry shortly.",
        headers={"Retry-After": "1"},
    )


def is_busy(exc: BaseException) -> bool:
    """SQLite's lock was taken (`database is locked`, `database is busy`), nothing worse."""
    message = str(getattr(exc, "orig", None) or exc).lower()
    return "database is locked" in message or "database is busy" in message


def begin_immediate(dbapi_connection: sqlite3.Connection, budget_ms: int) -> None:
    """`BEGIN IMMEDIATE`, tried again every few ms until it gets the lock or the deadline (the
    request's, else `budget_ms` from now) passes; then the last `database is locked` is raised.

    SQLite's own busy handler is off during the tries (its sleeps grow to 100 ms) and restored
    to `budget_ms` afterwards for the statements that follow."""
    deadline = WRITE_DEADLINE.get()
    if deadline is None:
        deadline = time.monotonic() + budget_ms / 1000
    dbapi_connection.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                dbapi_connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not is_busy(exc):
                    raise
                left = deadline - time.monotonic()
                if left <= 0:
                    raise
                time.sleep(min(left, random.uniform(*RETRY_PAUSE)))
    finally:
        dbapi_connection.execute(f"PRAGMA busy_timeout={int(budget_ms)}")


class WriterQueue:
    """The turns of one database file's writers in this process: an asyncio lock per event
    loop (tests run several loops one after another; a lock belongs to one)."""

    def __init__(self) -> None:
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self.waiting = 0  # requests in line, on every loop

    def _lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        return lock

    @contextlib.asynccontextmanager
    async def turn(self, budget_ms: int) -> AsyncIterator[None]:
        """Wait for this process's turn to write (at most `budget_ms`; then 503 busy), and
        give the rest of the budget to `BEGIN IMMEDIATE` (see `begin_immediate`)."""
        budget = budget_ms / 1000
        deadline = time.monotonic() + budget
        lock = self._lock()
        self.waiting += 1
        try:
            async with asyncio.timeout(budget):
                await lock.acquire()
        except TimeoutError:
            log.warning("database busy: no turn to write within the busy timeout")
            raise busy_error() from None
        finally:
            self.waiting -= 1
        marker = WRITE_DEADLINE.set(deadline)
        try:
            yield
        finally:
            WRITE_DEADLINE.reset(marker)
            lock.release()


_queues: dict[str, WriterQueue] = {}
_queues_lock = threading.Lock()
_by_engine: weakref.WeakKeyDictionary[Engine, WriterQueue | None] = weakref.WeakKeyDictionary()


def database_file(engine: Engine) -> str | None:
    """The SQLite file behind `engine`, or None (PostgreSQL, or an in-memory database)."""
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return str(Path(database).resolve())


def writer_queue(engine: Engine) -> WriterQueue | None:
    """The queue of `engine`'s database file (shared by every engine on that file in this
    process), or None where writers need no queue."""
    try:
        return _by_engine[engine]
    except KeyError:
        pass
    path = database_file(engine)
    queue = None
    if path is not None:
        with _queues_lock:
            queue = _queues.get(path)
            if queue is None:
                queue = _queues[path] = WriterQueue()
    _by_engine[engine] = queue
    return queue

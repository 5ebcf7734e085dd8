"""A response cache for public GETs that is correct before it is fast.

Entries are keyed by the whole request (method, path, query, content key, gzip, the
language preference of `Accept-Language`) and tagged
with the content version the database handed out before the response was built. Every
request reads the version, so no worker ever serves an answer older than the database,
whatever another worker wrote. Visibility changes that no write marks (a scheduled
article's time, an action's window) expire entries at that moment.

Two ASGI entry points share one cache:
- `serve_hit` runs before all middleware and routing, inside `api.core.edge` (which adds
  the request id and CORS headers, strips the body of a HEAD, and logs and counts the hit):
  a hit costs a version read, a dictionary lookup and the two `send` calls;
- `ResponseCacheMiddleware` sits inside the middleware stack: it stores what the app
  answers (and serves an entry another request stored since the fast path looked).

The version read is what a hit costs most. On SQLite it is a primary-key read on a
connection of the cache's own, on the event loop (too short to be worth a thread, and WAL
readers never wait).
On a network database concurrent requests share one read: a request waits for the next
read to *start* after it arrived, so sharing never makes an answer older.
"""

import asyncio
import sqlite3
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy import Connection, Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.core.db import CONTENT_VERSION_SQL, content_version
from api.core.http import etag_matches, unmodified_since
from api.core.languages import cache_key_part
from api.core.origin import origin_of

CACHEABLE_PREFIXES = (
    "/v1/articles",
    "/v1/tags",
    "/v1/sources",
    "/v1/actions",
    "/v1/authors",
    "/v1/search",
    "/feeds/",
)
UNCACHEABLE_SUFFIXES = ("/go",)


@dataclass(frozen=True)
class Entry:
    version: int
    status: int
    headers: list[tuple[bytes, bytes]]
    not_modified_headers: list[tuple[bytes, bytes]]
    body: bytes
    etag: str
    last_modified: datetime | None
    route: str | None


@dataclass
class Freshness:
    version: int
    expires_at: datetime | None


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0


def cache_key(scope: Scope) -> tuple[tuple[Any, ...], dict[bytes, bytes]] | None:
    """The key of a cacheable request and its headers, or None (not a public GET, or a
    credentialed one)."""
    if scope["type"] != "http" or scope["method"] != "GET":
        return None
    path = scope["path"]
    if not path.startswith(CACHEABLE_PREFIXES) or path.endswith(UNCACHEABLE_SUFFIXES):
        return None
    headers = dict(scope["headers"])
    if b"authorization" in headers or b"cookie" in headers:
        return None
    return (
        scope.get("root_path", ""),
        path,
        scope.get("query_string", b""),
        headers.get(b"x-masthead-key", b""),
        # The origin links are built on (onion or clearnet), not the `Host` spelling.
        origin_of(scope),
        b"gzip" in headers.get(b"accept-encoding", b"").lower(),
        # Lists answer in the reader's language: keyed on the preference, not the spelling.
        cache_key_part(headers.get(b"accept-language")),
    ), headers


class SQLiteVersionReader:
    """Reads the content version on a read-only connection of its own (autocommit, so each
    read sees the latest commit)."""

    def __init__(self, path: str) -> None:
        self.connection = sqlite3.connect(
            f"file:{quote(path)}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
        )

    def read(self) -> int:
        row = self.connection.execute(CONTENT_VERSION_SQL).fetchone()
        return int(row[0])


class SharedVersionReader:
    """Reads the version off the event loop; concurrent requests share a read that started
    after they arrived."""

    def __init__(self, engine: Callable[[], Engine]) -> None:
        self.engine = engine
        self.waiting: asyncio.Future[int] | None = None
        self.reading = False
        self.task: asyncio.Task[None] | None = None  # held, so it is not collected mid-read

    def _read(self) -> int:
        with self.engine().connect() as connection:
            return content_version(connection)

    async def read(self) -> int:
        if self.waiting is None:
            self.waiting = asyncio.get_running_loop().create_future()
            if not self.reading:
                self.task = asyncio.get_running_loop().create_task(self._run())
        return await asyncio.shield(self.waiting)

    async def _run(self) -> None:
        self.reading = True
        try:
            while self.waiting is not None:
                # Requests arriving from here on wait for the next read.
                future, self.waiting = self.waiting, None
                try:
                    future.set_result(await asyncio.to_thread(self._read))
                except Exception as error:  # the database is away: each request learns it
                    future.set_exception(error)
        finally:
            self.reading = False


def sqlite_path(engine: Engine) -> str | None:
    """The database file of a SQLite engine (None for memory databases and other engines)."""
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    return database if database and database != ":memory:" else None


class ResponseCache:
    """An LRU of whole responses, validated against the content version."""

    def __init__(
        self,
        *,
        engine: Callable[[], Engine],
        clock: Callable[[], datetime],
        stats: CacheStats,
        next_change: Callable[[Connection, datetime], datetime | None],
        max_entries: int,
        max_body_bytes: int = 1_000_000,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.stats = stats
        self.next_change = next_change
        self.max_entries = max_entries
        self.max_body_bytes = max_body_bytes
        self.entries: OrderedDict[tuple[Any, ...], Entry] = OrderedDict()
        self.freshness: Freshness | None = None
        self.reader: SQLiteVersionReader | SharedVersionReader | None = None

    def _reader(self) -> SQLiteVersionReader | SharedVersionReader:
        if self.reader is None:
            path = sqlite_path(self.engine())
            self.reader = SQLiteVersionReader(path) if path else SharedVersionReader(self.engine)
        return self.reader

    def _next_change(self, now: datetime) -> datetime | None:
        with self.engine().connect() as connection:
            return self.next_change(connection, now)

    async def current_version(self) -> int:
        """The database's content version; entries of any other version are dropped, and
        all of them once the clock passes the next visibility change."""
        reader = self._reader()
        if isinstance(reader, SQLiteVersionReader):
            version = reader.read()
        else:
            version = await reader.read()
        known = self.freshness
        now = self.clock()
        unexpired = known is not None and (known.expires_at is None or now < known.expires_at)
        if known is not None and known.version == version and unexpired:
            return version
        if self.engine().dialect.name == "sqlite":
            expires_at = self._next_change(now)
        else:
            expires_at = await asyncio.to_thread(self._next_change, now)
        self.entries.clear()
        self.freshness = Freshness(version, expires_at)
        return version

    async def replay(
        self, key: tuple[Any, ...], headers: dict[bytes, bytes], scope: Scope, send: Send
    ) -> int | None:
        """Answer from the cache if the entry is of the current version: the status sent,
        or None when nothing was."""
        entry = self.entries.get(key)
        if entry is None or entry.version != await self.current_version():
            return None
        self.entries.move_to_end(key)
        self.stats.hits += 1
        scope["masthead.route"] = entry.route
        if_none_match = headers.get(b"if-none-match")
        if if_none_match:
            fresh = etag_matches(if_none_match.decode("latin-1"), entry.etag)
        else:
            since = headers.get(b"if-modified-since")
            fresh = (
                since is not None
                and entry.last_modified is not None
                and unmodified_since(since.decode("latin-1"), entry.last_modified)
            )
        if fresh:
            await send(
                {
                    "type": "http.response.start",
                    "status": 304,
                    "headers": entry.not_modified_headers,
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return 304
        await send(
            {"type": "http.response.start", "status": entry.status, "headers": entry.headers}
        )
        await send({"type": "http.response.body", "body": entry.body})
        return entry.status

    def store(
        self, key: tuple[Any, ...], version: int, start: Message, body: bytes, route: str | None
    ) -> None:
        headers = [(bytes(k), bytes(v)) for k, v in start.get("headers", [])]
        etag = next((v.decode("latin-1") for k, v in headers if k.lower() == b"etag"), None)
        if etag is None or any(k.lower() == b"set-cookie" for k, _ in headers):
            return
        if self.freshness is None or self.freshness.version != version:
            return
        digest = etag.strip('"').removesuffix("-gz")
        modified = next((v.decode("latin-1") for k, v in headers if k == b"last-modified"), None)
        self.entries[key] = Entry(
            version,
            start["status"],
            headers,
            [(k, v) for k, v in headers if k not in (b"content-length", b"content-type")],
            body,
            digest,
            parsedate_to_datetime(modified) if modified else None,
            route,
        )
        self.entries.move_to_end(key)
        while len(self.entries) > self.max_entries:
            self.entries.popitem(last=False)


async def serve_hit(cache: ResponseCache, scope: Scope, send: Send) -> int | None:
    """The fast path: answer a cached public GET (or the GET a HEAD asks about, see
    `api.core.edge`) before any middleware or routing runs."""
    keyed = cache_key(scope)
    if keyed is None:
        return None
    key, headers = keyed
    try:
        return await cache.replay(key, headers, scope, send)
    except Exception:
        # The database is away: let the app answer (it will say 503 properly).
        return None


class ResponseCacheMiddleware:
    """ASGI middleware: stores public GET responses, and serves hits the fast path left."""

    def __init__(self, app: ASGIApp, *, cache: Callable[[], ResponseCache]) -> None:
        self.app = app
        self.cache = cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        keyed = cache_key(scope)
        if keyed is None:
            await self.app(scope, receive, send)
            return
        key, headers = keyed
        cache = self.cache()
        try:
            if await cache.replay(key, headers, scope, send) is not None:
                return
            version = await cache.current_version()
        except Exception:
            # The database is away: let the app answer (it will say 503 properly).
            await self.app(scope, receive, send)
            return
        cache.stats.misses += 1
        await self._capture(scope, receive, send, key, version)

    async def _capture(
        self, scope: Scope, receive: Receive, send: Send, key: tuple[Any, ...], version: int
    ) -> None:
        start: Message | None = None
        chunks: list[bytes] = []
        size = 0
        cacheable = True

        async def recording_send(message: Message) -> None:
            nonlocal start, size, cacheable
            if message["type"] == "http.response.start":
                # A copy: the edge adds per-request headers (request id, CORS) to the original.
                start = {**message, "headers": list(message.get("headers", []))}
                cacheable = message["status"] == 200
            elif message["type"] == "http.response.body" and cacheable:
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
                cacheable = size <= self.cache().max_body_bytes
                if not message.get("more_body", False) and cacheable and start is not None:
                    route = getattr(scope.get("route"), "path", None)
                    self.cache().store(key, version, start, b"".join(chunks), route)
            await send(message)

        await self.app(scope, receive, recording_send)

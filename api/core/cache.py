"""A response cache for public GETs that is correct before it is fast.

Entries are keyed by the whole request (method, path, query, content key, gzip) and tagged
with the content version the database handed out before the response was built. Every
request reads the version (one primary-key lookup), so no worker ever serves an answer
older than the database, whatever another worker wrote. Visibility changes that no write
marks (a scheduled article's time, an action's window) expire entries at that moment.
Hits are answered here, before routing, validation and serialisation.
"""

import asyncio
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

from sqlalchemy import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.changes.service import content_version, next_visibility_change
from api.core.http import etag_matches, unmodified_since

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


class ResponseCache:
    """ASGI middleware: an LRU of whole responses, validated against the content version."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        engine: Callable[[], Engine],
        clock: Callable[[], datetime],
        stats: CacheStats,
        max_entries: int,
        max_body_bytes: int = 1_000_000,
    ) -> None:
        self.app = app
        self.engine = engine
        self.clock = clock
        self.stats = stats
        self.max_entries = max_entries
        self.max_body_bytes = max_body_bytes
        self.entries: OrderedDict[tuple[Any, ...], Entry] = OrderedDict()
        self.freshness: Freshness | None = None

    def _read_freshness(self, known: Freshness | None) -> Freshness:
        """Read the version (runs in a thread); the expiry is recomputed only when needed."""
        now = self.clock()
        with self.engine().connect() as connection:
            version = content_version(connection)
            unexpired = known and (known.expires_at is None or now < known.expires_at)
            if known and known.version == version and unexpired:
                return known
            return Freshness(version, next_visibility_change(connection, now))

    async def _current_version(self) -> int:
        if self.engine().dialect.name == "sqlite":
            # An in-process primary-key read (WAL: never waits for writers) costs less than
            # the hop to a thread; a network database is read off the event loop.
            fresh = self._read_freshness(self.freshness)
        else:
            fresh = await asyncio.to_thread(self._read_freshness, self.freshness)
        if fresh is not self.freshness:
            self.entries.clear()
            self.freshness = fresh
        return fresh.version

    @staticmethod
    def _key(scope: Scope) -> tuple[Any, ...] | None:
        headers = dict(scope["headers"])
        if b"authorization" in headers or b"cookie" in headers:
            return None
        gzip = b"gzip" in headers.get(b"accept-encoding", b"").lower()
        return (
            scope["method"],
            scope.get("root_path", ""),
            scope["path"],
            scope.get("query_string", b""),
            headers.get(b"x-masthead-key", b""),
            headers.get(b"host", b""),
            gzip,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or not path.startswith(CACHEABLE_PREFIXES)
            or path.endswith(UNCACHEABLE_SUFFIXES)
        ):
            await self.app(scope, receive, send)
            return
        key = self._key(scope)
        if key is None:
            await self.app(scope, receive, send)
            return
        try:
            version = await self._current_version()
        except Exception:
            # The database is away: let the app answer (it will say 503 properly).
            await self.app(scope, receive, send)
            return
        entry = self.entries.get(key)
        if entry is not None and entry.version == version:
            self.entries.move_to_end(key)
            self.stats.hits += 1
            await self._replay(scope, entry, send)
            return
        self.stats.misses += 1
        await self._capture(scope, receive, send, key, version)

    async def _replay(self, scope: Scope, entry: Entry, send: Send) -> None:
        scope["masthead.route"] = entry.route
        request_headers = dict(scope["headers"])
        if_none_match = request_headers.get(b"if-none-match")
        if if_none_match:
            fresh = etag_matches(if_none_match.decode("latin-1"), entry.etag)
        else:
            fresh = entry.last_modified is not None and unmodified_since(
                request_headers.get(b"if-modified-since", b"").decode("latin-1"),
                entry.last_modified,
            )
        if fresh:
            headers = [
                (k, v) for k, v in entry.headers if k not in (b"content-length", b"content-type")
            ]
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        await send(
            {"type": "http.response.start", "status": entry.status, "headers": entry.headers}
        )
        await send({"type": "http.response.body", "body": entry.body})

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
                # A copy: middleware outside (CORS) adds per-caller headers to the original.
                start = {**message, "headers": list(message.get("headers", []))}
                cacheable = message["status"] == 200
            elif message["type"] == "http.response.body" and cacheable:
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
                cacheable = size <= self.max_body_bytes
                if not message.get("more_body", False) and cacheable and start is not None:
                    route = getattr(scope.get("route"), "path", None)
                    self._store(key, version, start, b"".join(chunks), route)
            await send(message)

        await self.app(scope, receive, recording_send)

    def _store(
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
            body,
            digest,
            parsedate_to_datetime(modified) if modified else None,
            route,
        )
        self.entries.move_to_end(key)
        while len(self.entries) > self.max_entries:
            self.entries.popitem(last=False)

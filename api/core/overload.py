"""Load shedding: a bound on the requests each worker works on at once.

Past the bound a request is answered at once with a 503 problem and `Retry-After`, instead of
queueing for a thread or a database connection it would hold while it waits. The bound is
kept below the thread pool and the connection pool, so a request that is admitted always
finds both. Liveness and metrics are exempt: they touch no pool and must answer under any
load.
"""

import asyncio

from starlette.types import ASGIApp, Receive, Scope, Send

from api.core.errors import problem_response
from api.core.settings import Settings

EXEMPT_PATHS = frozenset({"/healthz", "/metrics"})
LIMIT = "masthead.in_flight_limit"  # the request scope's InFlightLimit
# anyio's default thread pool has 40 threads; admitted requests must always find one.
MOST_IN_FLIGHT_BY_DEFAULT = 32


def in_flight_limit(settings: Settings) -> int:
    """The setting; else, on PostgreSQL, as many requests as the connection pool serves at
    once (SQLite's pool never makes a request wait), and never more than the threads."""
    if settings.max_in_flight is not None:
        return settings.max_in_flight
    if settings.database_url.startswith("sqlite"):
        return MOST_IN_FLIGHT_BY_DEFAULT
    pool = settings.database_pool_size + settings.database_max_overflow
    return min(pool, MOST_IN_FLIGHT_BY_DEFAULT)


class InFlightLimit:
    """Admit at most `limit` HTTP requests at a time; shed the rest with 503."""

    def __init__(self, app: ASGIApp, *, limit: int, retry_after: int = 1) -> None:
        self.app = app
        self.limit = limit
        self.retry_after = retry_after
        self.in_flight = 0
        self.shed = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            self.shed += 1
            response = problem_response(
                503,
                "The server is at capacity; retry shortly.",
                type_slug="overloaded",
                headers={"Retry-After": str(self.retry_after)},
            )
            await response(scope, receive, send)
            return
        self.in_flight += 1
        scope[LIMIT] = self
        try:
            # Let the other requests that arrived with this one be counted (and shed past
            # the bound) before it starts: then `in_flight` says whether it is alone.
            await asyncio.sleep(0)
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


def alone_in_flight(scope: Scope) -> bool:
    """Whether this request is the only one its worker works on (True without the bound,
    e.g. in tests that call the app without its middleware)."""
    limit: InFlightLimit | None = scope.get(LIMIT)
    return limit is None or limit.in_flight <= 1

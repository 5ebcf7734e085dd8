"""What every HTTP request goes through first and last (`Masthead.__call__`), the response
cache's fast path included:

- its request id: `X-Request-ID` as sent by a trusted proxy (`MASTHEAD_TRUSTED_PROXIES`),
  else a new one; echoed in the response, in problem documents and in the log lines;
- `HEAD`: answered as the `GET` it asks about (status and headers, `Content-Length` of
  the body), without the body and without changing anything (the request's transaction is
  rolled back: a `HEAD` on a tracked redirect counts no click);
- `OPTIONS`: a CORS preflight, or `204` with `Allow` (never a 405 where a route exists);
- the CORS headers of every response (`api.core.cors`);
- the request's count and latency in the metrics, and its one access line in the log.

Per request this costs one pass over the request headers, a prefix test on the path and the
formatting of the access line.
"""

import ipaddress
import os
import re
import time
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.core.cors import CorsPolicy, Reach, reach
from api.core.db import FAILED
from api.core.errors import path_methods, problem_response
from api.core.health import Metrics
from api.core.logs import REQUEST_ID, client_network, log_access

HEAD_REQUEST = "masthead.head"
# What an accepted request id may be: short, and nothing a log line could be forged with.
REQUEST_ID_FORMAT = re.compile(rb"[A-Za-z0-9._:/+=-]{1,128}")
TRUSTED_PEERS_KEPT = 1024


def is_head(scope: Scope) -> bool:
    """Whether this request is a HEAD answered as a GET (it must change nothing)."""
    return bool(scope.get(HEAD_REQUEST, False))


def new_request_id() -> str:
    return os.urandom(16).hex()


class TrustedProxies:
    """Whether a peer address is one of the trusted proxies (answers kept per address)."""

    def __init__(self, networks: list[str]) -> None:
        self.networks = [ipaddress.ip_network(n, strict=False) for n in networks]
        self.known: dict[str, bool] = {}

    def __contains__(self, host: object) -> bool:
        if not self.networks or not isinstance(host, str):
            return False
        trusted = self.known.get(host)
        if trusted is None:
            try:
                address = ipaddress.ip_address(host)
            except ValueError:
                trusted = False
            else:
                trusted = any(address in network for network in self.networks)
            if len(self.known) >= TRUSTED_PEERS_KEPT:
                self.known.clear()
            self.known[host] = trusted
        return trusted


class Edge:
    """The ASGI layer described in the module docstring, around `app` (the response cache's
    fast path, then the whole FastAPI application); `router` is the application's, whose
    routes say which methods a path has."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        router: Any,
        metrics: Callable[[], Metrics],
        cors: CorsPolicy,
        trusted_proxies: list[str],
    ) -> None:
        self.app = app
        self.router = router
        self.metrics = metrics
        self.cors = cors
        self.trusted = TrustedProxies(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        method = scope["method"]
        origin = offered_id = preflight = None
        for name, value in scope["headers"]:
            if name == b"origin":
                origin = value
            elif name == b"x-request-id":
                offered_id = value
            elif name == b"access-control-request-method":
                preflight = value
        client = scope.get("client")
        peer = client[0] if client else None
        if (
            offered_id is not None
            and peer in self.trusted
            and REQUEST_ID_FORMAT.fullmatch(offered_id)
        ):
            request_id = offered_id.decode("ascii")
        else:
            request_id = new_request_id()
        context = REQUEST_ID.set(request_id)
        where = reach(scope["path"])
        added = [(b"x-request-id", request_id.encode("ascii")), *self.cors.headers(where, origin)]
        head = method == "HEAD"
        # A HEAD is routed as its GET, on a scope of its own (the server's still says HEAD,
        # so it sends no body either); its transaction rolls back (`api.core.db.FAILED`).
        inner = (
            {
                **scope,
                "method": "GET",
                HEAD_REQUEST: True,
                "state": {**scope.get("state", {}), FAILED: True},
            }
            if head
            else scope
        )
        status = 500
        size = 0

        async def edge_send(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), *added]}
            elif message["type"] == "http.response.body":
                if head:
                    if message.get("more_body", False):
                        return
                    message = {"type": "http.response.body", "body": b""}
                else:
                    size += len(message.get("body", b""))
            await send(message)

        try:
            if method == "OPTIONS":
                allows = origin is not None and preflight is not None
                await self.options(scope, receive, edge_send, where, origin if allows else None)
            else:
                await self.app(inner, receive, edge_send)
        finally:
            REQUEST_ID.reset(context)
            elapsed = time.perf_counter() - started
            route = getattr(inner.get("route"), "path", None) or inner.get("masthead.route")
            template = route or "unmatched"
            self.metrics().observe(method, template, status, elapsed)
            log_access(method, template, status, elapsed, size, request_id, client_network(peer))

    async def options(
        self, scope: Scope, receive: Receive, send: Send, where: Reach, origin: bytes | None
    ) -> None:
        """`OPTIONS`: 204 with `Allow` (and, for a preflight from an origin the path
        answers, what it may send); 404 on a path no route has."""
        methods, scope["masthead.route"] = path_methods(self.router.routes, scope)
        if not methods:
            response = problem_response(404, "No such resource or route.", type_slug="not-found")
            await response(scope, receive, send)
            return
        allow = ", ".join(methods)
        headers = [(b"allow", allow.encode())]
        if origin is not None and self.cors.allows(where, origin):
            headers += self.cors.preflight_headers(where, allow)
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

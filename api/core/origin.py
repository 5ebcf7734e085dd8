"""The one public origin each request's absolute URLs are built on, chosen from configured
hosts only, and the onion mirror.

A `Host` header is anyone's to send, and a shared cache may keep what it was answered, so
it never decides where links point by itself. The origin of a request is, in this order:

1. `MASTHEAD_ONION_URL`, when the request arrived for the onion host (through Tor);
2. `MASTHEAD_PUBLIC_URL`, when it is set;
3. the request's own scheme, host and root path, when its host is one of
   `MASTHEAD_ALLOWED_HOSTS` (loopback names by default: development);
4. else the address `masthead serve` listens on (`http://127.0.0.1:8000` by default).

With an onion URL configured, every answer on the clearnet origin carries
`Onion-Location: <the same URL on the onion origin>` (Tor Browser offers the onion site).
"""

import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus, urlsplit

from starlette.types import Message, Scope, Send

ORIGIN = "masthead.origin"
# `masthead serve` sets this to its own address (`http://127.0.0.1:PORT`), the origin of
# requests for hosts not allowed when MASTHEAD_PUBLIC_URL is not set.
SERVED_AT = "_MASTHEAD_SERVED_AT"
DEFAULT_SERVED_AT = "http://127.0.0.1:8000"
CONTENT_KEY = "key"


@dataclass(frozen=True)
class Origin:
    """Where a request's absolute URLs start (scheme, host, port and root path, no trailing
    slash), and whether it is the onion mirror's."""

    base: str
    onion: bool = False


def hostname(host: str) -> str | None:
    """The lower-case name of a `Host` value (`[::1]:8000` is `::1`); None if malformed."""
    try:
        return urlsplit(f"//{host}").hostname
    except ValueError:
        return None


def _root(scope: Scope) -> str:
    return str(scope.get("app_root_path", scope.get("root_path", ""))).rstrip("/")


def path_below_root(scope: Scope) -> str:
    """The request's path below the app's root, and its query without the content key."""
    path = str(scope.get("path", "/"))
    root = _root(scope)
    if root and (path == root or path.startswith(root + "/")):
        path = path[len(root) :]
    raw = scope.get("query_string", b"").decode("latin-1")
    kept = [p for p in raw.split("&") if p and unquote_plus(p.partition("=")[0]) != CONTENT_KEY]
    return (path or "/") + (f"?{'&'.join(kept)}" if kept else "")


class PublicOrigins:
    """The configured origins and the rule choosing one per request (module docstring)."""

    def __init__(
        self,
        *,
        public_url: str | None,
        onion_url: str | None,
        allowed_hosts: list[str],
        served_at: str | None = None,
    ) -> None:
        self.public = public_url.rstrip("/") if public_url else None
        self.onion = Origin(onion_url.rstrip("/"), onion=True) if onion_url else None
        self.onion_host = urlsplit(onion_url).hostname if onion_url else None
        # IPv6 literals may be listed bare (`::1`) or as in a Host header (`[::1]`).
        listed = (f"[{h}]" if h.count(":") > 1 and h[0] != "[" else h for h in allowed_hosts)
        self.allowed = frozenset(filter(None, map(hostname, listed)))
        self.fallback = Origin((served_at or DEFAULT_SERVED_AT).rstrip("/"))
        self.clearnet = Origin(self.public) if self.public else None

    @classmethod
    def from_settings(cls, settings: Any) -> "PublicOrigins":
        return cls(
            public_url=str(settings.public_url) if settings.public_url else None,
            onion_url=str(settings.onion_url) if settings.onion_url else None,
            allowed_hosts=list(settings.allowed_hosts),
            served_at=os.environ.get(SERVED_AT),
        )

    def choose(self, scope: Scope) -> Origin:
        host = next((v for k, v in scope.get("headers", ()) if k == b"host"), b"")
        name = hostname(host.decode("latin-1")) if host else None
        if self.onion is not None and name is not None and name == self.onion_host:
            return self.onion
        if self.clearnet is not None:
            return self.clearnet
        if name is not None and name in self.allowed:
            scheme = scope.get("scheme", "http")
            return Origin(f"{scheme}://{host.decode('latin-1').lower()}{_root(scope)}")
        return Origin(self.fallback.base + _root(scope))

    def announce(self, origin: Origin, scope: Scope, send: Send) -> Send:
        """`send`, adding `Onion-Location` to clearnet answers when there is an onion."""
        if self.onion is None or origin.onion:
            return send
        location = (self.onion.base + path_below_root(scope)).encode("latin-1", "replace")

        async def send_with_onion_location(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", ()), (b"onion-location", location)]
                message = {**message, "headers": headers}
            await send(message)

        return send_with_onion_location


def origin_of(scope: Scope) -> Origin:
    """The origin the app chose for this request (`Masthead.__call__`); chosen here for a
    scope that did not come through it."""
    origin = scope.get(ORIGIN)
    if isinstance(origin, Origin):
        return origin
    origins = getattr(getattr(scope.get("app"), "state", None), "origins", None)
    chosen = (
        origins.choose(scope) if isinstance(origins, PublicOrigins) else Origin(DEFAULT_SERVED_AT)
    )
    scope[ORIGIN] = chosen
    return chosen

"""CORS (CONTRACT §2 "HTTP behaviour"), decided by the path alone:

- public reads (the content API, feeds, sync, search, the Ghost content API, the index and
  the OpenAPI document) answer any origin: `Access-Control-Allow-Origin: *` on every
  response, never credentials, so the answer does not depend on the caller and CDNs keep
  one copy;
- the admin and subscription endpoints answer only the origins of `MASTHEAD_CORS_ORIGINS`
  (their own origin echoed, `Vary: Origin`, no credentials: admin tokens travel in
  `Authorization`, which needs none); any other origin gets no CORS header at all;
- operations endpoints (health, metrics, docs) send none.

Preflights are answered by `api.core.edge` with the methods the path really has.
"""

from enum import Enum

PRIVATE_PREFIXES = ("/v1/admin", "/v1/subscriptions", "/ghost/api/admin")
PUBLIC_PREFIXES = (
    "/v1/",
    "/feeds/",
    "/sitemap",
    "/oembed",
    # Ghost's Content API and its legacy prefixes (api.ghost.router.PREFIXES).
    "/ghost/api/content/",
    "/ghost/api/v2/content/",
    "/ghost/api/v3/content/",
    "/ghost/api/v4/content/",
    "/ghost/api/canary/content/",
)
PUBLIC_PATHS = frozenset({"/", "/openapi.json"})
PUBLIC_REQUEST_HEADERS = (
    "Accept, Accept-Language, Accept-Version, Content-Type, If-Modified-Since, If-None-Match, "
    "X-Masthead-Key, X-Request-ID"
)
PRIVATE_REQUEST_HEADERS = (
    "Accept, Accept-Language, Authorization, Content-Type, If-Match, If-Modified-Since, "
    "If-None-Match, X-Request-ID"
)
PUBLIC_EXPOSED = "ETag, Link, Retry-After, Surrogate-Key, X-Request-ID"
PRIVATE_EXPOSED = "ETag, Link, Location, Retry-After, X-Request-ID"
# How long a browser may keep a preflight's answer (browsers cap it: Chromium at 2 hours).
PUBLIC_MAX_AGE = "86400"
PRIVATE_MAX_AGE = "600"

Headers = list[tuple[bytes, bytes]]


class Reach(Enum):
    public = "public"
    private = "private"
    none = "none"


def reach(path: str) -> Reach:
    """Which CORS rules a path follows."""
    if path.startswith(PRIVATE_PREFIXES):
        return Reach.private
    if path.startswith(PUBLIC_PREFIXES) or path in PUBLIC_PATHS:
        return Reach.public
    return Reach.none


class CorsPolicy:
    """The CORS headers of a response, precomputed: a request costs a prefix test and, on
    private paths, a set lookup of its origin."""

    def __init__(self, allowed_origins: list[str]) -> None:
        self.allowed_origins = frozenset(origin.encode("latin-1") for origin in allowed_origins)
        self.public: Headers = [
            (b"access-control-allow-origin", b"*"),
            (b"access-control-expose-headers", PUBLIC_EXPOSED.encode()),
        ]
        # A private answer depends on the origin only when some origins are allowed.
        self.private_vary: Headers = [(b"vary", b"Origin")] if allowed_origins else []

    def allows(self, where: Reach, origin: bytes | None) -> bool:
        """Whether a request from `origin` to such a path gets CORS headers."""
        if where is Reach.public:
            return True
        return where is Reach.private and origin is not None and origin in self.allowed_origins

    def headers(self, where: Reach, origin: bytes | None) -> Headers:
        """The CORS headers of any response (preflights add `preflight_headers`)."""
        if where is Reach.public:
            return self.public
        if where is Reach.none:
            return []
        if origin is None or origin not in self.allowed_origins:
            return self.private_vary
        return [
            *self.private_vary,
            (b"access-control-allow-origin", origin),
            (b"access-control-expose-headers", PRIVATE_EXPOSED.encode()),
        ]

    def preflight_headers(self, where: Reach, methods: str) -> Headers:
        """What a preflight from an allowed origin gets besides `headers`: the methods of the
        path, the request headers it may send, how long to keep the answer."""
        if where is Reach.public:
            allowed, max_age = PUBLIC_REQUEST_HEADERS, PUBLIC_MAX_AGE
        else:
            allowed, max_age = PRIVATE_REQUEST_HEADERS, PRIVATE_MAX_AGE
        return [
            (b"access-control-allow-methods", methods.encode()),
            (b"access-control-allow-headers", allowed.encode()),
            (b"access-control-max-age", max_age.encode()),
        ]

"""HTTP behaviour of public reads: JSON encoding, strong ETags, 304s, caching headers."""

import gzip
import hashlib
from collections.abc import Iterable
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import orjson
from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.responses import Response

from api.core.errors import Unprocessable
from api.core.origin import origin_of

GZIP_MIN_BYTES = 1024
# Query parameters every public route accepts besides its own (the content key).
ALWAYS_ALLOWED_QUERY = frozenset({"key"})


def dump_json(payload: Any) -> bytes:
    return orjson.dumps(payload, option=orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC)


def etag_matches(if_none_match: str, digest: str) -> bool:
    """Whether an If-None-Match header names this representation (either encoding)."""
    if if_none_match.strip() == "*":
        return True
    for candidate in if_none_match.split(","):
        tag = candidate.strip().removeprefix("W/").strip('"')
        if tag.removesuffix("-gz") == digest:
            return True
    return False


def unmodified_since(if_modified_since: str | None, last_modified: datetime) -> bool:
    """Whether `If-Modified-Since` covers `last_modified` (second precision, per HTTP dates)."""
    if not if_modified_since:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False
    return since.tzinfo is not None and last_modified.replace(microsecond=0) <= since


def cache_control(request: Request) -> str:
    settings = request.app.state.settings
    return (
        f"public, max-age={settings.cache_max_age}, "
        f"stale-while-revalidate={settings.cache_stale_while_revalidate}"
    )


def public_response(
    request: Request,
    body: bytes,
    *,
    media_type: str = "application/json",
    surrogate_keys: Iterable[str] = (),
    extra_headers: dict[str, str] | None = None,
) -> Response:
    """A cacheable public response: strong ETag per encoding, 304 on a match, gzip if asked."""
    digest = hashlib.blake2b(body, digest_size=16).hexdigest()
    accepts_gzip = "gzip" in request.headers.get("accept-encoding", "").lower()
    compress = accepts_gzip and len(body) >= GZIP_MIN_BYTES
    headers = {
        "ETag": f'"{digest}-gz"' if compress else f'"{digest}"',
        "Cache-Control": cache_control(request),
        "Vary": "Accept-Encoding, X-Masthead-Key",
    }
    keys = " ".join(dict.fromkeys(surrogate_keys))
    if keys:
        headers["Surrogate-Key"] = keys
    headers.update(extra_headers or {})
    if_none_match = request.headers.get("if-none-match")
    if if_none_match and etag_matches(if_none_match, digest):
        return Response(status_code=304, headers=headers)
    if compress:
        body = gzip.compress(body, compresslevel=5)
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type=media_type, headers=headers)


def json_response(
    request: Request,
    payload: Any,
    *,
    surrogate_keys: Iterable[str] = (),
    extra_headers: dict[str, str] | None = None,
) -> Response:
    return public_response(
        request, dump_json(payload), surrogate_keys=surrogate_keys, extra_headers=extra_headers
    )


def _query_names(dependant: Dependant) -> set[str]:
    names = {param.alias or param.name for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def _route_query_names(route: APIRoute) -> frozenset[str]:
    """The route's declared query parameters, computed once and kept on the route."""
    names: frozenset[str] | None = getattr(route, "_masthead_query_names", None)
    if names is None:
        names = frozenset(_query_names(route.dependant)) | ALWAYS_ALLOWED_QUERY
        route._masthead_query_names = names  # type: ignore[attr-defined]
    return names


async def reject_unknown_query(request: Request) -> None:
    """Unknown query parameters are a 422, so a typo never silently changes a result.

    Async on purpose: a plain check must not cost a hop to the thread pool."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    allowed = _route_query_names(route)
    unknown = sorted({name for name in request.query_params if name not in allowed})
    if unknown:
        raise Unprocessable(
            f"Unknown query parameter(s): {', '.join(unknown)}.",
            errors=[{"loc": ["query", name], "msg": "unknown parameter"} for name in unknown],
        )


def base_url(request: Request) -> str:
    """The public base URL every absolute link starts with: the request's one origin,
    chosen from configured hosts only (`api.core.origin`: the onion URL for requests that
    came through it, `MASTHEAD_PUBLIC_URL`, an allowed host's own), never from an
    arbitrary `Host` header."""
    return origin_of(request.scope).base


def public_url(request: Request, **params: str) -> str:
    """This request's URL as the public sees it: its path below the app's root and its
    query (without the content key, with `params` set) on `base_url`."""
    url = request.url.remove_query_params("key")
    if params:
        url = url.include_query_params(**params)
    root = request.scope.get("app_root_path", request.scope.get("root_path", ""))
    path = url.path
    if root and (path == root or path.startswith(root.rstrip("/") + "/")):
        path = path[len(root.rstrip("/")) :]
    return base_url(request) + (path or "/") + (f"?{url.query}" if url.query else "")


def page_links(request: Request, next_cursor: str | None) -> dict[str, str | None]:
    return {
        "self": public_url(request),
        "next": public_url(request, cursor=next_cursor) if next_cursor else None,
    }


def list_response(
    request: Request,
    items: list[dict[str, Any]],
    *,
    limit: int,
    next_cursor: str | None,
    total: int | None,
    surrogate_keys: Iterable[str],
    extra_headers: dict[str, str] | None = None,
) -> Response:
    """The list envelope of CONTRACT §2 with its RFC 8288 `Link` header."""
    links = page_links(request, next_cursor)
    meta: dict[str, Any] = {"limit": limit, "next_cursor": next_cursor}
    if total is not None:
        meta["total"] = total
    body = dump_json({"data": items, "meta": meta, "links": links})
    extra = dict(extra_headers or {})
    if links["next"]:
        extra["Link"] = f'<{links["next"]}>; rel="next"'
    return public_response(request, body, surrogate_keys=surrogate_keys, extra_headers=extra)

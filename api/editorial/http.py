"""HTTP behaviour of the admin API: private responses with ETags, and If-Match checks."""

import hashlib
from typing import Any

from fastapi import Request
from starlette.responses import Response

from api.core.errors import PreconditionFailed, PreconditionRequired
from api.core.http import dump_json, page_links
from api.core.pagination import Page

ADMIN_CACHE_CONTROL = "private, no-store"


def etag_of(payload: Any) -> str:
    """A strong ETag: a hash of exactly what the client sees (it includes `version`)."""
    return '"' + hashlib.blake2b(dump_json(payload), digest_size=16).hexdigest() + '"'


def admin_response(payload: Any, *, status_code: int = 200) -> Response:
    body = dump_json(payload)
    etag = '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'
    return Response(
        body,
        status_code=status_code,
        media_type="application/json",
        headers={"ETag": etag, "Cache-Control": ADMIN_CACHE_CONTROL},
    )


def list_response(
    request: Request, items: list[dict[str, Any]], page: Page[Any], limit: int
) -> Response:
    """The list envelope of the public API, privately cached."""
    meta: dict[str, Any] = {"limit": limit, "next_cursor": page.next_cursor}
    if page.total is not None:
        meta["total"] = page.total
    return admin_response(
        {"data": items, "meta": meta, "links": page_links(request, page.next_cursor)}
    )


def item_response(item: dict[str, Any], *, status_code: int = 200) -> Response:
    """`{"data": item}` whose ETag is the item's own, the one `If-Match` must carry."""
    response = admin_response({"data": item}, status_code=status_code)
    response.headers["ETag"] = etag_of(item)
    return response


def no_content() -> Response:
    return Response(status_code=204, headers={"Cache-Control": ADMIN_CACHE_CONTROL})


def check_if_match(request: Request, current: dict[str, Any]) -> None:
    """428 without `If-Match`, 412 when it does not name the item's current ETag."""
    header = request.headers.get("if-match")
    if not header:
        raise PreconditionRequired(
            "Send `If-Match` with the ETag from your last read of this item, so a save "
            "never silently overwrites someone else's."
        )
    etag = etag_of(current)
    candidates = {c.strip().removeprefix("W/") for c in header.split(",")}
    if etag not in candidates and "*" not in candidates:
        raise PreconditionFailed(
            "The item changed since you read it (stale `If-Match`); read it again and re-apply."
        )

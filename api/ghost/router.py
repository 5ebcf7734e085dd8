"""Ghost's Content API, read-only, at `/ghost/api/content/` and the legacy prefixes
`/ghost/api/{v2,v3,v4,canary}/content/`: frontends written for Ghost with the official
`@tryghost/content-api` client run on Masthead unchanged.

Another rendering of the native reads (same visibility, indexes, relation loaders and
caching headers), in Ghost's shapes and Ghost's errors. Ghost always needs a content key
(`?key=`, 26 hex characters: `masthead tokens create --role content`), whatever
MASTHEAD_CONTENT_KEYS_REQUIRED says for /v1. `limit=all` is served in full: past one page
of rows the answer is streamed, each further page read by keyset after the last row sent,
so memory stays that of one page whatever the total.
"""

import hashlib
import math
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import Row, and_
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from api.articles.models import ArticleKind
from api.articles.schemas import article_surrogate_keys
from api.articles.translations import preference_condition
from api.auth.models import Role
from api.auth.service import find_usable_token
from api.changes.service import next_visibility_change
from api.core.db import NowDep, SessionDep, content_version, public_read, reads_inline
from api.core.errors import NotFound
from api.core.http import base_url, cache_control, dump_json, etag_matches, json_response
from api.core.languages import cache_key_part, language_preference, preference_headers
from api.ghost import service
from api.ghost.errors import GhostProblem, GhostRoute, ghost_error_responses
from api.ghost.ids import GHOST_ID
from api.ghost.nql import FilterError
from api.ghost.params import FORMATS, BrowseParams, parse_browse, parse_read
from api.ghost.serializers import author_shape, picked, post_shape, settings_shape, tag_shape
from api.ghost.service import AUTHOR_LISTING, PAGES, POSTS, TAG_LISTING, Listing
from api.site.service import SiteView, load_site

PREFIXES = (
    "/ghost/api/content",
    "/ghost/api/v2/content",
    "/ghost/api/v3/content",
    "/ghost/api/v4/content",
    "/ghost/api/canary/content",
)
# Rows read per statement: a page of `limit=15` is one statement, `limit=all` one per 100.
CHUNK = 100
INCLUDES = {
    "posts": frozenset({"tags", "authors"}),
    "pages": frozenset({"tags", "authors"}),
    "tags": frozenset({"count.posts"}),
    "authors": frozenset({"count.posts"}),
}
SINGULAR = {"posts": "Post", "pages": "Page", "tags": "Tag", "authors": "Author"}
KINDS = {"posts": "article", "pages": "page"}
KEY_CONTEXT = (
    "Pass a Content API key as `?key=` (26 hex characters; create one with "
    "`masthead tokens create --name site --role content`)."
)
ERRORS = ghost_error_responses(400, 401, 404, 422, 429, 503)


async def require_content_key(request: Request, session: SessionDep, now: NowDep) -> None:
    """Ghost's rule: every Content API request carries a live content key."""
    keys = request.query_params.getlist("key")
    if len(keys) > 1:
        raise GhostProblem(400, "Invalid Request", code="INVALID_REQUEST")
    if not keys or not keys[0]:
        raise GhostProblem(401, "Authorization failed", context=KEY_CONTEXT)

    limiter = request.app.state.auth_failures  # failed keys count as failed authentication

    def known() -> bool:
        limiter.check(request, now)
        token = find_usable_token(session, keys[0], now)
        if token is not None and token.role == Role.content:
            return True
        limiter.failed(request, now)
        return False

    usable = known() if reads_inline(request) else await run_in_threadpool(known)
    if not usable:
        raise GhostProblem(401, "Unknown Content API Key", code="UNKNOWN_CONTENT_API_KEY")


def pagination(page: int, limit: int | None, total: int) -> dict[str, Any]:
    if limit is None:
        return {"page": 1, "limit": "all", "pages": 1, "total": total, "next": None, "prev": None}
    pages = max(1, math.ceil(total / limit))
    return {
        "page": page,
        "limit": limit,
        "pages": pages,
        "total": total,
        "next": page + 1 if page < pages else None,
        "prev": page - 1 if page > 1 else None,
    }


class Rendering:
    """How one request renders rows of a listing (the same for every chunk it reads)."""

    def __init__(self, listing: Listing, params: BrowseParams, site: SiteView) -> None:
        self.listing = listing
        self.params = params
        self.site = site
        # Ghost's default body is html; with `fields`, only the formats it names.
        default = frozenset({"html"}) if listing.articles else frozenset()
        if params.fields is not None:
            default = params.fields & FORMATS
        self.formats = params.formats if params.formats is not None else default

    def items(
        self, session: Session, rows: Sequence[Row[Any]], now: datetime
    ) -> list[dict[str, Any]]:
        listing, params = self.listing, self.params
        if listing.articles:
            views = service.post_views(session, rows, params.include)
            self.views = views
            return [
                post_shape(view, self.site, kind=KINDS[listing.name], include=params.include,
                           fields=params.fields, formats=self.formats)
                for view in views
            ]  # fmt: skip
        counts = (
            service.post_counts(session, listing, now, [row.id for row in rows])
            if "count.posts" in params.include
            else None
        )
        shape = tag_shape if listing is TAG_LISTING else author_shape
        return [
            picked(shape(row, self.site, None if counts is None else counts.get(row.id, 0)),
                   params.fields)
            for row in rows
        ]  # fmt: skip

    def surrogate_keys(self, rows: Sequence[Row[Any]]) -> list[str]:
        if self.listing.articles:
            return article_surrogate_keys(self.views, self.params.include & {"tags", "authors"})
        singular = SINGULAR[self.listing.name].lower()
        return [self.listing.name, *(f"{singular}:{row.id}" for row in rows)]


def browse(listing: Listing, request: Request, session: Session, now: datetime) -> Response:
    params = parse_browse(
        request.query_params, orders=listing.orders, includes=INCLUDES[listing.name]
    )
    try:
        condition = listing.condition(params.filter, now)
    except FilterError as error:
        raise GhostProblem(400, "Error parsing filter", context=str(error)) from None
    headers: dict[str, str] = {}
    if listing.articles:
        # Each story once, in the reader's language (Ghost itself has no translations).
        preference = language_preference(None, request.headers.get("accept-language"))
        kind = ArticleKind(KINDS[listing.name])
        condition = and_(condition, preference_condition(preference, kind))
        headers = preference_headers(preference, lang_given=False)
    keys = listing.order(params.order)
    rendering = Rendering(listing, params, service_site(request, session))
    limit, page = params.limit, params.page if params.limit is not None else 1
    offset = (page - 1) * limit if limit is not None else 0
    first_size = CHUNK if limit is None else min(limit, CHUNK)
    rows = service.select_rows(
        session, listing, condition, keys, now, limit=first_size, offset=offset,
        formats=rendering.formats,
    )  # fmt: skip
    complete = len(rows) < first_size or (limit is not None and limit <= CHUNK)
    total = (
        len(rows) if limit is None and complete
        else service.count_rows(session, listing, condition, now) if limit is not None
        else None
    )  # fmt: skip
    items = rendering.items(session, rows, now)
    if complete:
        assert total is not None
        body = {listing.name: items, "meta": {"pagination": pagination(page, limit, total)}}
        return json_response(
            request, body, surrogate_keys=rendering.surrogate_keys(rows), extra_headers=headers
        )
    return streamed(request, session, now, rendering, condition, keys, rows, items, total, headers)


def streamed(
    request: Request,
    session: Session,
    now: datetime,
    rendering: Rendering,
    condition: Any,
    keys: list[tuple[Any, bool]],
    first_rows: Sequence[Row[Any]],
    first_items: list[dict[str, Any]],
    total: int | None,
    extra_headers: dict[str, str],
) -> Response:
    """The rest of a long answer, written as it is read: each further chunk is read by
    keyset after the last row, in a session of its own (the request's is closed once the
    route returns). Its weak ETag names the content version and the next visibility change,
    which together decide every visible row, so it is known before the body is."""
    listing, params = rendering.listing, rendering.params
    connection = session.connection()
    state = (content_version(connection), next_visibility_change(connection, now))
    # The language preference decides which rows are listed, so it is part of the tag.
    languages = cache_key_part(request.headers.get("accept-language", "").encode("latin-1"))
    etag = (
        'W/"'
        + hashlib.blake2b(
            repr((state, request.url.path, request.url.query, languages)).encode(),
            digest_size=16,
        ).hexdigest()
        + '"'
    )
    headers = {
        "ETag": etag,
        "Cache-Control": cache_control(request),
        "Vary": "Accept-Encoding",
        "Surrogate-Key": "articles" if listing.articles else listing.name,
    }
    if "Vary" in extra_headers:
        headers["Vary"] = "Accept-Encoding, Accept-Language"
    if_none_match = request.headers.get("if-none-match")
    if if_none_match and etag_matches(if_none_match, etag.removeprefix("W/").strip('"')):
        return Response(status_code=304, headers=headers)
    wanted = params.limit
    maker = request.app.state.query_sessionmaker

    def chunks() -> Iterator[bytes]:
        sent = len(first_rows)
        yield b'{"' + listing.name.encode() + b'":['
        yield b",".join(dump_json(item) for item in first_items)
        last = first_rows[-1]
        with maker() as own:
            while wanted is None or sent < wanted:
                size = CHUNK if wanted is None else min(CHUNK, wanted - sent)
                rows = service.select_rows(
                    own, listing, condition, keys, now, limit=size, after_row=last,
                    formats=rendering.formats,
                )  # fmt: skip
                if not rows:
                    break
                yield b"," + b",".join(dump_json(i) for i in rendering.items(own, rows, now))
                sent += len(rows)
                last = rows[-1]
                if len(rows) < size:
                    break
        meta = {"pagination": pagination(params.page, wanted, sent if total is None else total)}
        yield b'],"meta":' + dump_json(meta) + b"}"

    return StreamingResponse(chunks(), media_type="application/json", headers=headers)


def service_site(request: Request, session: Session) -> SiteView:
    return load_site(session, base_url(request))


def read(
    listing: Listing,
    request: Request,
    session: Session,
    now: datetime,
    *,
    ghost_id: str | None = None,
    slug: str | None = None,
) -> Response:
    params = parse_read(request.query_params, INCLUDES[listing.name])
    if ghost_id is not None and not GHOST_ID.match(ghost_id):
        raise GhostProblem(422, "Validation (matches) failed for id")
    rendering = Rendering(listing, params, service_site(request, session))
    row = None
    if slug is None or len(slug) <= 200:
        row = service.read_row(
            session, listing, now, ghost_id=ghost_id, slug=slug, formats=rendering.formats
        )
    if row is None:
        raise NotFound(f"{SINGULAR[listing.name]} not found.")
    items = rendering.items(session, [row], now)
    return json_response(
        request, {listing.name: items}, surrogate_keys=rendering.surrogate_keys([row])
    )


def settings(request: Request, session: SessionDep) -> Response:
    return json_response(
        request, {"settings": settings_shape(service_site(request, session)), "meta": {}},
        surrogate_keys=["site"],
    )  # fmt: skip


def empty_list(name: str) -> Callable[..., Response]:
    def browse_nothing(request: Request) -> Response:
        return json_response(request, {name: [], "meta": {"pagination": pagination(1, 15, 0)}})

    browse_nothing.__name__ = f"ghost_browse_{name}"
    return browse_nothing


def offer(offer_id: str) -> Response:
    raise NotFound("Offer not found.")


def unknown(path: str) -> Response:
    raise NotFound("Resource not found")


def _browse_endpoint(listing: Listing) -> Callable[..., Any]:
    @public_read
    def endpoint(request: Request, session: SessionDep, now: NowDep) -> Response:
        return browse(listing, request, session, now)

    return endpoint


def _read_by_id(listing: Listing) -> Callable[..., Any]:
    @public_read
    def endpoint(request: Request, session: SessionDep, now: NowDep, ghost_id: str) -> Response:
        return read(listing, request, session, now, ghost_id=ghost_id)

    return endpoint


def _read_by_slug(listing: Listing) -> Callable[..., Any]:
    @public_read
    def endpoint(request: Request, session: SessionDep, now: NowDep, slug: str) -> Response:
        return read(listing, request, session, now, slug=slug)

    return endpoint


def ghost_router(prefix: str) -> APIRouter:
    """The Content API under one prefix. Each path answers with and without its trailing
    slash (the client sends it; hand-written fetches often do not)."""
    router = APIRouter(
        prefix=prefix,
        route_class=GhostRoute,
        dependencies=[Depends(require_content_key)],
        include_in_schema=False,
        responses=ERRORS,
    )

    def add(path: str, endpoint: Callable[..., Any], name: str) -> None:
        for variant in (path + "/", path):
            router.add_api_route(variant, endpoint, methods=["GET"], name=name)

    for listing in (POSTS, PAGES, TAG_LISTING, AUTHOR_LISTING):
        plural = listing.name
        add(f"/{plural}", _browse_endpoint(listing), f"ghost_browse_{plural}")
        add(f"/{plural}/slug/{{slug}}", _read_by_slug(listing), f"ghost_read_{plural}_by_slug")
        add(f"/{plural}/{{ghost_id}}", _read_by_id(listing), f"ghost_read_{plural}")
    add("/settings", public_read(settings), "ghost_settings")
    for name in ("tiers", "newsletters"):
        add(f"/{name}", empty_list(name), f"ghost_browse_{name}")
    add("/offers/{offer_id}", offer, "ghost_read_offer")
    router.add_api_route("/{path:path}", unknown, methods=["GET"], name="ghost_unknown")
    return router


GHOST_ROUTERS = [ghost_router(prefix) for prefix in PREFIXES]

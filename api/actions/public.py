"""GET /v1/actions: calls to action (petitions, donations, events)."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import RedirectResponse, Response

from api.actions.models import ActionKind, Placement, action_is_closed
from api.actions.schemas import ACTION_FIELDS, ActionPublic, action_public
from api.actions.service import (
    ACTION_SORTS,
    ActionClosed,
    ActiveFilter,
    Reader,
    follow,
    get_action,
    list_actions,
)
from api.core.db import NowDep, SessionDep, WritingSessionDep, public_read
from api.core.envelopes import ItemEnvelope, ListEnvelope
from api.core.errors import problem_responses
from api.core.http import base_url, json_response, list_response, reject_unknown_query
from api.core.listing import Count, CursorParam, FieldsParam, Limit, parse_fields, sparse
from api.core.ratelimits import client_address

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"

router = APIRouter(
    prefix="/v1/actions", tags=["actions"], dependencies=[Depends(reject_unknown_query)]
)


@router.get(
    "",
    response_model=ListEnvelope[ActionPublic],
    responses=problem_responses(400, 422),
    summary="List calls to action",
)
@public_read
def list_public_actions(
    request: Request,
    session: SessionDep,
    now: NowDep,
    limit: Limit = 15,
    cursor: CursorParam = None,
    active: Annotated[
        ActiveFilter,
        Query(
            description="`true` (default): only actions open now; `false`: only closed "
            "(ended, or goal reached when that closes them) or not yet started; `all`: every "
            "action."
        ),
    ] = ActiveFilter.true,
    kind: Annotated[ActionKind | None, Query(description="Only actions of this kind.")] = None,
    sort: Annotated[
        Literal["-created_at", "created_at", "title", "-title", "slug", "-slug"],
        Query(description="Order; default newest first."),
    ] = "-created_at",
    fields: FieldsParam = None,
    count: Count = False,
) -> Response:
    """Calls to action; by default only those whose window includes now."""
    wanted = parse_fields(fields, ACTION_FIELDS)
    page = list_actions(
        session,
        now,
        active=active,
        kind=kind,
        sort=ACTION_SORTS[sort],
        cursor=cursor,
        limit=limit,
        count=count,
    )
    base = base_url(request)
    return list_response(
        request,
        [sparse(action_public(a, now, base), wanted) for a in page.items],
        limit=limit,
        next_cursor=page.next_cursor,
        total=page.total,
        surrogate_keys=["actions", *(f"action:{a.id}" for a in page.items)],
    )


@router.get(
    "/{slug}",
    response_model=ItemEnvelope[ActionPublic],
    responses=problem_responses(404, 422),
    summary="Get one call to action",
)
@public_read
def get_public_action(
    request: Request,
    session: SessionDep,
    now: NowDep,
    slug: Annotated[str, Path(max_length=200, description="The action's slug.")],
    fields: FieldsParam = None,
) -> Response:
    """One call to action, active or not."""
    wanted = parse_fields(fields, ACTION_FIELDS)
    action = get_action(session, slug)
    return json_response(
        request,
        {"data": sparse(action_public(action, now, base_url(request)), wanted)},
        surrogate_keys=[f"action:{action.id}"],
    )


@router.get(
    "/{slug}/go",
    status_code=302,
    response_class=RedirectResponse,
    responses={
        302: {
            "description": "Redirect to the action's `url`, with its attribution parameter "
            "when `from` names a published article or page.",
        },
        **problem_responses(404, 410, 422),
    },
    summary="Follow a call to action (tracked)",
)
def follow_action(
    request: Request,
    session: WritingSessionDep,
    now: NowDep,
    slug: Annotated[str, Path(max_length=200, description="The action's slug.")],
    from_: Annotated[
        str | None,
        Query(
            alias="from",
            max_length=200,
            pattern=SLUG_PATTERN,
            description="Slug of the article (or page) the reader came from. When it names a "
            "published one, the destination gets the action's attribution parameter "
            "(`refcode=`, `source=` or `utm_*`) and the click is counted for it; any other "
            "slug (a draft, an article since unpublished) sends the reader on all the same, "
            "without attribution, counted under no article.",
        ),
    ] = None,
    placement: Annotated[
        Placement | None,
        Query(
            description="Where the link was: in the text (`inline`), at the `end`, in a "
            "`banner`, a `newsletter`, a `sidebar`, a `social` post, or `other` (default)."
        ),
    ] = None,
) -> RedirectResponse:
    """Redirects (302) to the action's `url` and counts the click per action, article,
    placement and day, and the distinct readers per day: without storing any address or
    setting any cookie (a keyed hash with a salt that is forgotten the next day). The
    redirect sends `Referrer-Policy: no-referrer`, so the destination does not learn the
    article's URL from the browser. A closed action (past `ends_at`, or its goal reached
    when that closes it) answers 410 instead of sending readers to a dead page. `HEAD`
    counts nothing."""
    action = get_action(session, slug)
    if action_is_closed(action, now):
        raise ActionClosed(f"The action `{slug}` is closed.")
    reader = Reader(
        address=client_address(request, request.app.state.settings.trusted_proxies),
        user_agent=request.headers.get("user-agent", ""),
    )
    location = follow(
        session,
        action,
        now,
        article_slug=from_,
        placement=placement,
        reader=reader,
        site_url=base_url(request),
    )
    return RedirectResponse(
        location,
        status_code=302,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )

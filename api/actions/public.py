"""GET /v1/actions: calls to action (petitions, donations, events)."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import RedirectResponse, Response

from api.actions.models import ActionKind
from api.actions.schemas import ACTION_FIELDS, ActionPublic, action_public
from api.actions.service import (
    ACTION_SORTS,
    ActiveFilter,
    get_action,
    list_actions,
    record_click,
)
from api.articles.service import get_visible_article
from api.core.db import NowDep, SessionDep, public_read
from api.core.envelopes import ItemEnvelope, ListEnvelope
from api.core.errors import NotFound, problem_responses
from api.core.http import base_url, json_response, list_response, reject_unknown_query
from api.core.listing import Count, CursorParam, FieldsParam, Limit, parse_fields, sparse

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
            description="`true` (default): only actions open now; `false`: only closed or "
            "not yet started; `all`: every action."
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
        302: {"description": "Redirect to the action's `url`."},
        **problem_responses(404, 422),
    },
    summary="Follow a call to action (tracked)",
)
def follow_action(
    session: SessionDep,
    now: NowDep,
    slug: Annotated[str, Path(max_length=200, description="The action's slug.")],
    from_: Annotated[
        str | None,
        Query(
            alias="from",
            max_length=200,
            description="Slug of the article the reader came from, for attribution.",
        ),
    ] = None,
) -> RedirectResponse:
    """Redirects (302) to the action's `url` and counts the click per day and per citing
    article. Nothing about the reader is kept. Closed actions still redirect."""
    action = get_action(session, slug)
    article_id = None
    if from_:
        try:
            article_id = get_visible_article(session, now, from_, frozenset()).id
        except NotFound:
            article_id = None
    record_click(session, action, article_id, now)
    return RedirectResponse(
        action.url,
        status_code=302,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )

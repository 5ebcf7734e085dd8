"""GET /v1/tags: tags with the number of published articles carrying each."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response

from api.core.db import NowDep, SessionDep, public_read
from api.core.envelopes import ItemEnvelope, ListEnvelope
from api.core.errors import problem_responses
from api.core.http import json_response, list_response, reject_unknown_query
from api.core.listing import Count, CursorParam, FieldsParam, Limit, parse_fields, sparse
from api.tags.schemas import TAG_FIELDS, TagPublic, tag_public
from api.tags.service import TAG_SORTS, get_tag, list_tags, tag_article_counts

router = APIRouter(prefix="/v1/tags", tags=["tags"], dependencies=[Depends(reject_unknown_query)])


@router.get(
    "",
    response_model=ListEnvelope[TagPublic],
    responses=problem_responses(400, 422),
    summary="List tags",
)
@public_read
def list_public_tags(
    request: Request,
    session: SessionDep,
    now: NowDep,
    limit: Limit = 15,
    cursor: CursorParam = None,
    sort: Annotated[
        Literal["name", "-name", "slug", "-slug"], Query(description="Order; default by name.")
    ] = "name",
    fields: FieldsParam = None,
    count: Count = False,
) -> Response:
    """Every tag, with `article_count`: how many published articles carry it."""
    wanted = parse_fields(fields, TAG_FIELDS)
    page = list_tags(session, sort=TAG_SORTS[sort], cursor=cursor, limit=limit, count=count)
    counts = tag_article_counts(session, now, [t.id for t in page.items])
    return list_response(
        request,
        [sparse(tag_public(t, counts.get(t.id, 0)), wanted) for t in page.items],
        limit=limit,
        next_cursor=page.next_cursor,
        total=page.total,
        surrogate_keys=["tags", *(f"tag:{t.id}" for t in page.items)],
    )


@router.get(
    "/{slug}",
    response_model=ItemEnvelope[TagPublic],
    responses=problem_responses(404, 422),
    summary="Get one tag",
)
@public_read
def get_public_tag(
    request: Request,
    session: SessionDep,
    now: NowDep,
    slug: Annotated[str, Path(max_length=200, description="The tag's slug.")],
    fields: FieldsParam = None,
) -> Response:
    """One tag with its count of published articles."""
    wanted = parse_fields(fields, TAG_FIELDS)
    tag = get_tag(session, slug)
    count = tag_article_counts(session, now, [tag.id]).get(tag.id, 0)
    return json_response(
        request, {"data": sparse(tag_public(tag, count), wanted)}, surrogate_keys=[f"tag:{tag.id}"]
    )

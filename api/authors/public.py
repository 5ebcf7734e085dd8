"""GET /v1/authors: the people who write for the publication."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response

from api.authors.schemas import AUTHOR_FIELDS, AuthorPublic, author_public
from api.authors.service import AUTHOR_SORTS, get_author, list_authors
from api.core.db import SessionDep, public_read
from api.core.envelopes import ItemEnvelope, ListEnvelope
from api.core.errors import problem_responses
from api.core.http import json_response, list_response, reject_unknown_query
from api.core.listing import Count, CursorParam, FieldsParam, Limit, parse_fields, sparse

router = APIRouter(
    prefix="/v1/authors", tags=["authors"], dependencies=[Depends(reject_unknown_query)]
)


@router.get(
    "",
    response_model=ListEnvelope[AuthorPublic],
    responses=problem_responses(400, 422),
    summary="List authors",
)
@public_read
def list_public_authors(
    request: Request,
    session: SessionDep,
    limit: Limit = 15,
    cursor: CursorParam = None,
    sort: Annotated[
        Literal["name", "-name", "slug", "-slug"], Query(description="Order; default by name.")
    ] = "name",
    fields: FieldsParam = None,
    count: Count = False,
) -> Response:
    """Every author."""
    wanted = parse_fields(fields, AUTHOR_FIELDS)
    page = list_authors(session, sort=AUTHOR_SORTS[sort], cursor=cursor, limit=limit, count=count)
    return list_response(
        request,
        [sparse(author_public(a), wanted) for a in page.items],
        limit=limit,
        next_cursor=page.next_cursor,
        total=page.total,
        surrogate_keys=["authors", *(f"author:{a.id}" for a in page.items)],
    )


@router.get(
    "/{slug}",
    response_model=ItemEnvelope[AuthorPublic],
    responses=problem_responses(404, 422),
    summary="Get one author",
)
@public_read
def get_public_author(
    request: Request,
    session: SessionDep,
    slug: Annotated[str, Path(max_length=200, description="The author's slug.")],
    fields: FieldsParam = None,
) -> Response:
    """One author."""
    wanted = parse_fields(fields, AUTHOR_FIELDS)
    author = get_author(session, slug)
    return json_response(
        request,
        {"data": sparse(author_public(author), wanted)},
        surrogate_keys=[f"author:{author.id}"],
    )

"""GET /v1/sources: the outlets, organisations and people the publication cites."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response

from api.core.db import NowDep, SessionDep, public_read
from api.core.envelopes import ItemEnvelope, ListEnvelope
from api.core.errors import problem_responses
from api.core.http import json_response, list_response, reject_unknown_query
from api.core.listing import Count, CursorParam, FieldsParam, Limit, parse_fields, sparse
from api.sources.models import SourceKind
from api.sources.schemas import SOURCE_FIELDS, SourcePublic, source_public
from api.sources.service import SOURCE_SORTS, get_source, list_sources, source_article_counts

router = APIRouter(
    prefix="/v1/sources", tags=["sources"], dependencies=[Depends(reject_unknown_query)]
)


@router.get(
    "",
    response_model=ListEnvelope[SourcePublic],
    responses=problem_responses(400, 422),
    summary="List sources",
)
@public_read
def list_public_sources(
    request: Request,
    session: SessionDep,
    now: NowDep,
    limit: Limit = 15,
    cursor: CursorParam = None,
    sort: Annotated[
        Literal["name", "-name", "slug", "-slug"], Query(description="Order; default by name.")
    ] = "name",
    kind: Annotated[SourceKind | None, Query(description="Only sources of this kind.")] = None,
    country: Annotated[
        str | None,
        Query(pattern=r"^[A-Za-z]{2}$", description="Only sources from this ISO 3166-1 country."),
    ] = None,
    fields: FieldsParam = None,
    count: Count = False,
) -> Response:
    """Every source, with `article_count`: how many published articles cite it."""
    wanted = parse_fields(fields, SOURCE_FIELDS)
    page = list_sources(
        session,
        kind=kind,
        country=country,
        sort=SOURCE_SORTS[sort],
        cursor=cursor,
        limit=limit,
        count=count,
    )
    counts = source_article_counts(session, now, [s.id for s in page.items])
    return list_response(
        request,
        [sparse(source_public(s, counts.get(s.id, 0)), wanted) for s in page.items],
        limit=limit,
        next_cursor=page.next_cursor,
        total=page.total,
        surrogate_keys=["sources", *(f"source:{s.id}" for s in page.items)],
    )


@router.get(
    "/{slug}",
    response_model=ItemEnvelope[SourcePublic],
    responses=problem_responses(404, 422),
    summary="Get one source",
)
@public_read
def get_public_source(
    request: Request,
    session: SessionDep,
    now: NowDep,
    slug: Annotated[str, Path(max_length=200, description="The source's slug.")],
    fields: FieldsParam = None,
) -> Response:
    """One source with its count of published articles citing it."""
    wanted = parse_fields(fields, SOURCE_FIELDS)
    source = get_source(session, slug)
    count = source_article_counts(session, now, [source.id]).get(source.id, 0)
    return json_response(
        request,
        {"data": sparse(source_public(source, count), wanted)},
        surrogate_keys=[f"source:{source.id}"],
    )

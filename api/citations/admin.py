"""`/v1/admin/citations` (what needs a fix) and `/v1/admin/cited-links/{id}` (a cited URL's
checks, and the archived copy editors attach to it)."""

from typing import Annotated

from fastapi import Body, Depends, Path, Query, Request
from starlette.responses import Response

from api.auth.dependencies import AdminRouter, EditorDep
from api.citations import service
from api.citations.schemas import CitationAdmin, CitedLinkAdmin, CitedLinkUpdate, StatusName
from api.core.db import NowDep, SessionDep
from api.core.envelopes import ItemEnvelope, ListEnvelope
from api.core.errors import problem_responses
from api.core.http import reject_unknown_query
from api.core.listing import Count, CursorParam, Limit
from api.editorial.http import check_if_match, item_response, list_response

router = AdminRouter(
    prefix="/v1/admin", tags=["admin: citations"], dependencies=[Depends(reject_unknown_query)]
)
LinkId = Annotated[str, Path(max_length=32, description="The cited link's id (`link.id`).")]
CHECKS = (
    "Masthead's link checker asks for every cited URL in the background, once per "
    "`MASTHEAD_LINK_CHECK_INTERVAL_DAYS` (HEAD, then a ranged GET; public addresses only; a "
    "few redirects; 5 s): a 404 or 410 marks it `broken` at once, "
    "`MASTHEAD_LINK_CHECK_FAILURES` failures in a row too."
)


@router.get(
    "/citations",
    response_model=ListEnvelope[CitationAdmin],
    responses=problem_responses(400, 422),
    summary="List citations by the state of their links",
    name="list_admin_citations",
    description="Citations with a URL, in articles and pages that are not deleted, newest "
    "articles first (by publication; drafts by creation). `status=broken` lists what needs "
    f"a fix: attach an archived copy (`PATCH /v1/admin/cited-links/{{id}}`) or edit the "
    f"article. {CHECKS}",
)
def list_citations(
    request: Request,
    session: SessionDep,
    _principal: EditorDep,
    limit: Limit = 15,
    cursor: CursorParam = None,
    count: Count = False,
    status: Annotated[
        StatusName | None, Query(description="Only citations whose link is in this state.")
    ] = None,
) -> Response:
    page = service.list_citations(session, status=status, cursor=cursor, limit=limit, count=count)
    return list_response(request, service.citations_admin(session, list(page.items)), page, limit)


@router.get(
    "/cited-links/{link_id}",
    response_model=ItemEnvelope[CitedLinkAdmin],
    responses=problem_responses(404, 422),
    summary="Get a cited link",
    name="get_cited_link",
)
def get_cited_link(session: SessionDep, _principal: EditorDep, link_id: LinkId) -> Response:
    """The URL's checks and archived copy; the `ETag` is what `If-Match` must carry."""
    return item_response(service.link_admin(session, service.load_link(session, link_id)))


@router.patch(
    "/cited-links/{link_id}",
    response_model=ItemEnvelope[CitedLinkAdmin],
    responses=problem_responses(404, 412, 413, 422, 428),
    summary="Attach an archived copy to a cited link",
    name="update_cited_link",
    description="Sets (or with null removes) `archived_url`, which every public citation of "
    "the URL then shows, in every article citing it (their cached answers are renewed and "
    "`/v1/sync` sends them again). Needs `If-Match` with the link's ETag (428 without, 412 "
    "when stale); audited as `cited_link.update`.",
)
def update_cited_link(
    request: Request,
    session: SessionDep,
    now: NowDep,
    principal: EditorDep,
    link_id: LinkId,
    data: Annotated[CitedLinkUpdate, Body(description="The fields to change.")],
) -> Response:
    link = service.load_link(session, link_id)
    current = service.link_admin(session, link)
    check_if_match(request, current)
    link = service.update_link(session, link, data, current["version"], principal, now)
    return item_response(service.link_admin(session, link))

"""`/v1/admin/site`: read and change the site settings (admins)."""

from typing import Annotated, Any

from fastapi import Body, Depends, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from api.auth.dependencies import AdminDep, AdminRouter
from api.core.db import NowDep, SessionDep
from api.core.envelopes import ItemEnvelope
from api.core.errors import problem_responses
from api.core.http import base_url, reject_unknown_query
from api.editorial.http import check_if_match, item_response
from api.editorial.versions import current_version
from api.site.schemas import SiteAdmin, SiteUpdate
from api.site.service import ENTITY, ENTITY_ID, SiteView, load_site, site_public, update_site

router = AdminRouter(
    prefix="/v1/admin/site", tags=["admin: site"], dependencies=[Depends(reject_unknown_query)]
)


def site_admin(session: Session, site: SiteView) -> dict[str, Any]:
    version = current_version(session, ENTITY, ENTITY_ID).version
    return {**site_public(site), "configured_url": site.configured_url, "version": version}


@router.get(
    "",
    response_model=ItemEnvelope[SiteAdmin],
    responses=problem_responses(422),
    summary="Get the site settings",
)
def get_admin_site(request: Request, session: SessionDep, _principal: AdminDep) -> Response:
    """The settings in force, with the `ETag` that `If-Match` must carry on PATCH."""
    return item_response(site_admin(session, load_site(session, base_url(request))))


@router.patch(
    "",
    response_model=ItemEnvelope[SiteAdmin],
    responses=problem_responses(412, 413, 422, 428),
    summary="Change the site settings",
)
def update_admin_site(
    request: Request,
    session: SessionDep,
    now: NowDep,
    principal: AdminDep,
    data: Annotated[SiteUpdate, Body(description="The settings to change.")],  # type: ignore[valid-type]
) -> Response:
    """Needs `If-Match` with the current ETag (428 without, 412 when stale). The merged
    settings are validated whole (422 naming the bad fields); the change is audited
    (`site.update`) and renews every cached answer that shows the site."""
    default = base_url(request)
    site = load_site(session, default)
    version = current_version(session, ENTITY, ENTITY_ID).version
    check_if_match(request, site_admin(session, site))
    update_site(session, site, data, version, principal, now)
    return item_response(site_admin(session, load_site(session, default)))

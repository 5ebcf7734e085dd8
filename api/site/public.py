"""GET /v1/site: the publication's settings, for frontends."""

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from api.core.db import SessionDep, public_read
from api.core.envelopes import ItemEnvelope
from api.core.errors import problem_responses
from api.core.http import base_url, json_response, reject_unknown_query
from api.site.schemas import SitePublic
from api.site.service import load_site, site_public

router = APIRouter(prefix="/v1/site", tags=["site"], dependencies=[Depends(reject_unknown_query)])


@router.get(
    "",
    response_model=ItemEnvelope[SitePublic],
    responses=problem_responses(422),
    summary="The site settings",
)
@public_read
def get_site(request: Request, session: SessionDep) -> Response:
    """Title, description, the frontend's URL, language, time zone, logo and icon, menus,
    social accounts and the frontend's URL templates (what feeds, `canonical_url`
    fallbacks and Ghost `url` fields are built from). Defaults until an admin saves them."""
    site = load_site(session, base_url(request))
    return json_response(request, {"data": site_public(site)}, surrogate_keys=["site"])

"""`GET /v1/preview/{token}`: one item's current state, for whoever holds a preview link."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from starlette.responses import Response

from api.core.db import NowDep, SessionDep
from api.core.errors import problem_responses
from api.core.http import base_url, dump_json, reject_unknown_query
from api.previews.kinds import PREVIEW_KINDS
from api.previews.schemas import PreviewEnvelope
from api.previews.service import NOINDEX, previewed_item

router = APIRouter(
    prefix="/v1/preview", tags=["previews"], dependencies=[Depends(reject_unknown_query)]
)
# Never kept by a browser, proxy or CDN, nor by the API's own response cache (it keeps only
# the public prefixes of api.core.cache, and only answers with an ETag).
PREVIEW_HEADERS = {"Cache-Control": "private, no-store", **NOINDEX}


@router.get(
    "/{token}",
    response_model=PreviewEnvelope,
    responses=problem_responses(404, 422),
    summary="Show a previewed item",
)
def get_preview(
    request: Request,
    session: SessionDep,
    now: NowDep,
    token: Annotated[
        str, Path(max_length=500, description="The token of a preview link (made by an editor).")
    ],
) -> Response:
    """The item the link was made for, as it is now (drafts and scheduled items too), in
    the public API's shape, with `meta` saying its state. Private and uncached
    (`Cache-Control: private, no-store`, `X-Robots-Tag: noindex`, no `Surrogate-Key`).
    404 once the link has expired, its previews were revoked or the item was deleted."""
    kind, claim, item = previewed_item(
        session, PREVIEW_KINDS, request.app.state.settings.secret_key, token, now
    )
    payload = {
        "data": kind.render(session, item, now, base_url(request)),
        "meta": {
            "kind": kind.name,
            "status": kind.status(item, now),
            "expires_at": claim.expires_at,
        },
    }
    return Response(dump_json(payload), media_type="application/json", headers=PREVIEW_HEADERS)

"""`POST …/{id}/preview` and `DELETE …/{id}/previews`, mounted under each previewable
kind's admin prefix (`/v1/admin/articles`, …)."""

from datetime import timedelta
from typing import Annotated

from fastapi import Body, Depends, Path, Request
from starlette.responses import Response

from api.auth.dependencies import AdminRouter, ContributorDep
from api.core.db import NowDep, SessionDep
from api.core.envelopes import ItemEnvelope
from api.core.errors import problem_responses
from api.core.http import base_url, reject_unknown_query
from api.editorial.http import admin_response, no_content
from api.previews.frontend import frontend_preview_url
from api.previews.kinds import ARTICLE, PAGE
from api.previews.schemas import PreviewLinkPublic, PreviewRequest
from api.previews.service import PreviewKind, make_preview_link, revoke_previews


def preview_router(kind: PreviewKind, prefix: str, tag: str) -> AdminRouter:
    """The preview routes of one kind of item."""
    router = AdminRouter(prefix=prefix, tags=[tag], dependencies=[Depends(reject_unknown_query)])
    ItemId = Annotated[str, Path(max_length=32, description=f"The {kind.name}'s id.")]

    @router.post(
        "/{item_id}/preview",
        status_code=201,
        response_model=ItemEnvelope[PreviewLinkPublic],
        responses=problem_responses(403, 404, 422),
        summary=f"Make a preview link for a {kind.name}",
        name=f"create_{kind.name}_preview",
    )
    def create_preview(
        request: Request,
        session: SessionDep,
        now: NowDep,
        principal: ContributorDep,
        item_id: ItemId,
        data: Annotated[
            PreviewRequest | None, Body(description="Optional lifetime (default 24 hours).")
        ] = None,
    ) -> Response:
        """A link that shows the item's current state (draft or scheduled too) in its public
        shape to whoever holds it, without a token, until it expires or the item's previews
        are revoked. Editors, and contributors for their own items. Recorded in the audit."""
        item = kind.load(session, item_id)
        kind.may_preview(session, principal, item)
        lifetime = timedelta(seconds=(data or PreviewRequest()).expires_in)
        settings = request.app.state.settings
        link = make_preview_link(session, kind, item, lifetime, principal, now, settings.secret_key)
        body = {
            "kind": kind.name,
            "item_id": item.id,
            "url": f"{base_url(request)}/v1/preview/{link.token}",
            "frontend_url": frontend_preview_url(session, request, kind, item, link.token),
            "token": link.token,
            "expires_at": link.claim.expires_at,
        }
        return admin_response({"data": body}, status_code=201)

    @router.delete(
        "/{item_id}/previews",
        status_code=204,
        responses=problem_responses(403, 404, 422),
        summary=f"Revoke every preview link of a {kind.name}",
        name=f"revoke_{kind.name}_previews",
    )
    def revoke_all_previews(
        session: SessionDep, now: NowDep, principal: ContributorDep, item_id: ItemId
    ) -> Response:
        """Every link made so far for the item answers 404 from now on; links made later
        work. Editors, and contributors for their own items. Recorded in the audit."""
        item = kind.load(session, item_id)
        kind.may_preview(session, principal, item)
        revoke_previews(session, kind, item, principal, now)
        return no_content()

    return router


article_previews_router = preview_router(ARTICLE, "/v1/admin/articles", "admin: articles")
page_previews_router = preview_router(PAGE, "/v1/admin/pages", "admin: pages")

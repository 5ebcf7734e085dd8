"""The same five admin routes for each resource (`/v1/admin/{tags,sources,actions,authors}`)."""

from typing import Annotated, Any

from fastapi import Body, Depends, Path, Query, Request
from starlette.responses import Response

from api.auth.dependencies import AdminRouter, ContributorDep, EditorDep
from api.core.db import NowDep, SessionDep
from api.core.envelopes import ItemEnvelope, ListEnvelope
from api.core.errors import problem_responses
from api.core.http import base_url, reject_unknown_query
from api.core.listing import Count, CursorParam, Limit
from api.editorial.http import check_if_match, item_response, list_response, no_content
from api.editorial.resources import (
    Resource,
    create_item,
    delete_item,
    get_item,
    list_items,
    render_admin_item,
    update_item,
)
from api.editorial.versions import current_version, versions_of

IdPath = Annotated[str, Path(max_length=32, description="The item's id.")]
Force = Annotated[
    bool,
    Query(description="Delete even when articles use it, detaching it from them."),
]


def resource_router(resource: Resource) -> AdminRouter:
    """The admin router of one resource; every route declares its role."""
    router = AdminRouter(
        prefix=f"/v1/admin/{resource.plural}",
        tags=[f"admin: {resource.plural}"],
        dependencies=[Depends(reject_unknown_query)],
    )
    Create, Update = resource.create, resource.update
    name, plural = resource.name, resource.plural
    # The resource's models are values here, which a type checker does not take as types.
    item_envelope = ItemEnvelope[resource.admin]  # type: ignore[name-defined]
    list_envelope = ListEnvelope[resource.admin]  # type: ignore[name-defined]

    def render_current(request: Request, session: Any, now: Any, row: Any) -> dict[str, Any]:
        version = current_version(session, name, row.id)
        return render_admin_item(resource, row, version, now, base_url(request))

    @router.post(
        "",
        name=f"create_admin_{name}",
        status_code=201,
        response_model=item_envelope,
        responses=problem_responses(409, 413, 422),
        summary=f"Create a {name}",
    )
    def create(
        request: Request,
        session: SessionDep,
        now: NowDep,
        principal: EditorDep,
        data: Annotated[Create, Body(description=f"The new {name}.")],  # type: ignore[valid-type]
    ) -> Response:
        row = create_item(session, resource, data, principal, now)
        return item_response(render_current(request, session, now, row), status_code=201)

    @router.get(
        "",
        name=f"list_admin_{plural}",
        response_model=list_envelope,
        responses=problem_responses(400, 422),
        summary=f"List {plural}",
    )
    def list_(
        request: Request,
        session: SessionDep,
        now: NowDep,
        _principal: ContributorDep,
        limit: Limit = 15,
        cursor: CursorParam = None,
        count: Count = False,
    ) -> Response:
        page = list_items(session, resource, cursor=cursor, limit=limit, count=count)
        versions = versions_of(session, name, [row.id for row in page.items])
        base = base_url(request)
        items = [render_admin_item(resource, r, versions[r.id], now, base) for r in page.items]
        return list_response(request, items, page, limit)

    @router.get(
        "/{item_id}",
        name=f"get_admin_{name}",
        response_model=item_envelope,
        responses=problem_responses(404, 422),
        summary=f"Get one {name}",
    )
    def get(
        request: Request,
        session: SessionDep,
        now: NowDep,
        _principal: ContributorDep,
        item_id: IdPath,
    ) -> Response:
        """The `ETag` of this response is what `If-Match` must carry on PATCH."""
        row = get_item(session, resource, item_id)
        return item_response(render_current(request, session, now, row))

    @router.patch(
        "/{item_id}",
        name=f"update_admin_{name}",
        response_model=item_envelope,
        responses=problem_responses(404, 409, 412, 413, 422, 428),
        summary=f"Change a {name}",
    )
    def patch(
        request: Request,
        session: SessionDep,
        now: NowDep,
        principal: EditorDep,
        item_id: IdPath,
        data: Annotated[Update, Body(description="The fields to change.")],  # type: ignore[valid-type]
    ) -> Response:
        """Needs `If-Match` with the current ETag: 428 without it, 412 when stale."""
        row = get_item(session, resource, item_id)
        version = current_version(session, name, row.id)
        check_if_match(request, render_admin_item(resource, row, version, now, base_url(request)))
        row = update_item(session, resource, row, data, version.version, principal, now)
        return item_response(render_current(request, session, now, row))

    @router.delete(
        "/{item_id}",
        name=f"delete_admin_{name}",
        status_code=204,
        responses=problem_responses(404, 409, 422),
        summary=f"Delete a {name}",
    )
    def remove(
        session: SessionDep,
        now: NowDep,
        principal: EditorDep,
        item_id: IdPath,
        force: Force = False,
    ) -> Response:
        """409 naming the articles that use it, unless `force=true` detaches it from them."""
        row = get_item(session, resource, item_id)
        delete_item(session, resource, row, force=force, principal=principal, now=now)
        return no_content()

    return router

"""`/v1/admin/export` and `/v1/admin/import`: the content bundle over HTTP."""

from typing import Annotated

from fastapi import Body, Depends
from starlette.responses import Response

from api.auth.dependencies import AdminRouter, EditorDep
from api.bundle.exporting import export_bundle
from api.bundle.importing import import_bundle
from api.bundle.schemas import Bundle
from api.bundle.validation import check_references
from api.core.db import NowDep, SessionDep
from api.core.errors import problem_responses
from api.core.http import reject_unknown_query
from api.editorial.audit import record
from api.editorial.http import admin_response

router = AdminRouter(
    prefix="/v1/admin", tags=["admin: operations"], dependencies=[Depends(reject_unknown_query)]
)


@router.get(
    "/export",
    responses=problem_responses(422),
    summary="Export the content bundle",
)
def export_admin_bundle(session: SessionDep, _principal: EditorDep) -> Response:
    """Every item (drafts and deleted articles too) as a content bundle (CONTRACT §7)."""
    return admin_response(export_bundle(session))


@router.post(
    "/import",
    responses=problem_responses(413, 422),
    summary="Import a content bundle",
)
def import_admin_bundle(
    session: SessionDep,
    now: NowDep,
    principal: EditorDep,
    bundle: Annotated[Bundle, Body(description="A content bundle, as exported.")],
) -> Response:
    """Idempotent by slug and all-or-nothing: a bad bundle changes nothing and the problem
    names the offending item. Answers with the counts created, updated and unchanged.

    Besides its schema, a bundle is refused (422, `errors[].loc` pointing at the item) when
    a slug or an id is used twice in one kind, when an article names an author, tag, action
    or source the bundle does not carry, or when an item's slug or id is stored already
    with another id or slug."""
    check_references(bundle)
    report = import_bundle(session, bundle, now)
    record(session, principal, "bundle.import", "bundle", "-", now)
    return admin_response({"data": report.as_dict()})

"""`/v1/admin/export` and `/v1/admin/import`: the content bundle over HTTP."""

from typing import Annotated, Any

from fastapi import Body, Depends
from starlette.responses import Response

from api.auth.dependencies import AdminRouter, EditorDep
from api.bundle.exporting import export_bundle
from api.bundle.importing import import_bundle
from api.bundle.validation import parse_bundle
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
    bundle: Annotated[
        dict[str, Any], Body(description="A content bundle (CONTRACT §7), as exported.")
    ],
) -> Response:
    """Idempotent by slug and all-or-nothing: a bad bundle changes nothing and the problem
    names the offending item. Answers with the counts created, updated and unchanged."""
    report = import_bundle(session, parse_bundle(bundle), now)
    record(session, principal, "bundle.import", "bundle", "-", now)
    return admin_response({"data": report.as_dict()})

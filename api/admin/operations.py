"""`/v1/admin/audit`, `/v1/admin/export`, `/v1/admin/import`."""

from typing import Annotated, Any

from fastapi import Body, Depends, Request
from sqlalchemy import select
from starlette.responses import Response

from api.admin.http import admin_response, list_response
from api.admin.models import AuditEntry
from api.admin.schemas import AuditEntryPublic
from api.admin.service import record
from api.auth.dependencies import AdminDep, AdminRouter, EditorDep
from api.bundle.service import export_bundle, import_bundle, parse_bundle
from api.core.db import NowDep, SessionDep
from api.core.errors import problem_responses
from api.core.http import reject_unknown_query
from api.core.listing import Count, CursorParam, Limit
from api.core.pagination import ListEnvelope, fetch_page, sort_keys

router = AdminRouter(
    prefix="/v1/admin", tags=["admin: operations"], dependencies=[Depends(reject_unknown_query)]
)
AUDIT_SORT = sort_keys(AuditEntry.id, created_at=AuditEntry.created_at)["-created_at"]


@router.get(
    "/audit",
    response_model=ListEnvelope[AuditEntryPublic],
    responses=problem_responses(400, 422),
    summary="The audit log",
)
def list_audit_entries(
    request: Request,
    session: SessionDep,
    _principal: AdminDep,
    limit: Limit = 15,
    cursor: CursorParam = None,
    count: Count = False,
) -> Response:
    """Who (token name) did what to which entity, newest first."""
    page = fetch_page(
        session, select(AuditEntry), sort=AUDIT_SORT, cursor=cursor, limit=limit, count=count
    )
    items = [
        {
            "id": e.id,
            "token_name": e.token_name,
            "action": e.action,
            "entity_type": e.entity_type,
            "entity_id": e.entity_id,
            "created_at": e.created_at,
        }
        for e in page.items
    ]
    return list_response(request, items, page, limit)


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

"""The audit log: who (token name, never the token) did what to which entity, and when.

Entries are written in the caller's transaction and listed at `/v1/admin/audit`."""

import secrets
import time
from datetime import datetime

from fastapi import Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from api.auth.dependencies import AdminDep, AdminRouter
from api.auth.service import Principal
from api.core.db import SessionDep
from api.core.envelopes import ListEnvelope
from api.core.errors import problem_responses
from api.core.http import reject_unknown_query
from api.core.listing import Count, CursorParam, Limit
from api.core.pagination import fetch_page, sort_keys
from api.editorial.http import list_response
from api.editorial.models import AuditEntry

router = AdminRouter(
    prefix="/v1/admin", tags=["admin: operations"], dependencies=[Depends(reject_unknown_query)]
)
AUDIT_SORT = sort_keys(AuditEntry.id, created_at=AuditEntry.created_at)["-created_at"]


class AuditEntryPublic(BaseModel):
    """Who did what to which entity, and when."""

    id: str = Field(description="Opaque identifier, time-ordered.")
    token_name: str = Field(description="The token's name (never the token).")
    action: str = Field(description="What was done, e.g. `article.publish`.")
    entity_type: str = Field(description="`article`, `tag`, `source`, `action`, `author`, ...")
    entity_id: str = Field(description="The entity's id.")
    created_at: datetime = Field(description="When (RFC 3339, UTC).")


def audit_id() -> str:
    """Time-ordered ids, so entries written within one clock tick keep their order."""
    return f"{time.time_ns():020x}{secrets.token_hex(6)}"


def record(
    session: Session,
    principal: Principal,
    action: str,
    entity_type: str,
    entity_id: str,
    now: datetime,
) -> None:
    """Write an audit entry in the caller's transaction: it commits or rolls back with it."""
    session.add(
        AuditEntry(
            id=audit_id(),
            token_name=principal.name,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            created_at=now,
        )
    )


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

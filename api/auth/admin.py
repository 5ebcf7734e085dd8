"""`/v1/admin/tokens`: admins issue, list and revoke tokens (a token is shown only once)."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import Body, Depends, Path
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from api.auth.dependencies import AdminDep, AdminRouter
from api.auth.models import ApiToken, Role
from api.auth.service import get_token, issue_token, list_tokens, revoke_token
from api.core.db import NowDep, SessionDep
from api.core.envelopes import ItemEnvelope
from api.core.errors import problem_responses
from api.core.http import reject_unknown_query
from api.core.text import Word
from api.core.timestamps import Timestamp
from api.editorial.audit import record
from api.editorial.http import admin_response, item_response

router = AdminRouter(
    prefix="/v1/admin/tokens",
    tags=["admin: tokens"],
    dependencies=[Depends(reject_unknown_query)],
)
TokenName = Annotated[str, Word(100)]


class TokenCreate(BaseModel):
    """A new token."""

    model_config = ConfigDict(extra="forbid")

    name: TokenName = Field(description="Unique name, shown in the audit log.")
    role: Role = Field(description="`contributor`, `editor`, `admin`, or `content` (partners).")
    expires_at: Timestamp | None = Field(
        None,
        description="When it stops working (RFC 3339 with an offset, in the future; 422 "
        "otherwise), or never.",
    )


class TokenPublic(BaseModel):
    """A token's description; the token itself is never shown again after creation."""

    id: str = Field(description="Stable opaque identifier.")
    name: str = Field(description="Unique name.")
    role: Role = Field(description="What it may do.")
    created_at: datetime = Field(description="When it was issued.")
    expires_at: datetime | None = Field(description="When it stops working, or null.")
    revoked_at: datetime | None = Field(description="When it was revoked, or null.")
    use_count: int = Field(description="Public requests made with it (content keys).")
    last_used_at: datetime | None = Field(
        description="When it was last used, or null if never: to the request for content "
        "keys, to the minute for admin tokens."
    )


class TokenIssued(TokenPublic):
    """A new token, with the secret shown this once."""

    token: str = Field(description="The bearer token. Store it now: it is not kept.")


def token_public(token: ApiToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "role": token.role,
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "revoked_at": token.revoked_at,
        "use_count": token.use_count,
        "last_used_at": token.last_used_at,
    }


@router.post(
    "",
    status_code=201,
    response_model=ItemEnvelope[TokenIssued],
    responses=problem_responses(409, 413, 422),
    summary="Issue a token",
)
def create_admin_token(
    session: SessionDep,
    now: NowDep,
    principal: AdminDep,
    data: Annotated[TokenCreate, Body(description="Name, role and optional expiry.")],
) -> Response:
    """The response is the only time the token is shown; only its hash is stored."""
    row, token = issue_token(
        session, name=data.name, role=data.role, now=now, expires_at=data.expires_at
    )
    record(session, principal, "token.create", "token", row.id, now)
    return item_response({**token_public(row), "token": token}, status_code=201)


@router.get(
    "",
    response_model=ItemEnvelope[list[TokenPublic]],
    responses=problem_responses(422),
    summary="List tokens",
)
def list_admin_tokens(session: SessionDep, _principal: AdminDep) -> Response:
    """Every token, oldest first (never the tokens themselves)."""
    return admin_response({"data": [token_public(t) for t in list_tokens(session)]})


@router.delete(
    "/{token_id}",
    response_model=ItemEnvelope[TokenPublic],
    responses=problem_responses(404, 422),
    summary="Revoke a token",
)
def revoke_admin_token(
    session: SessionDep,
    now: NowDep,
    principal: AdminDep,
    token_id: Annotated[str, Path(max_length=32, description="The token's id.")],
) -> Response:
    """It stops working at once (401); the record stays for the audit log."""
    token = revoke_token(session, get_token(session, token_id), now)
    record(session, principal, "token.revoke", "token", token.id, now)
    return item_response(token_public(token))

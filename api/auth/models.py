from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, String
from sqlmodel import Field, SQLModel

from api.core.db import UTCDateTime, new_id, utcnow


class Role(StrEnum):
    """What a token may do. `content` keys only read the public API (partners)."""

    contributor = "contributor"
    editor = "editor"
    admin = "admin"
    content = "content"


# Editorial roles in increasing power; `content` is deliberately not in the ladder.
ROLE_RANK = {Role.contributor: 1, Role.editor: 2, Role.admin: 3}


class ApiToken(SQLModel, table=True):
    """A named bearer token. Only its SHA-256 is kept; the token itself is shown once."""

    __tablename__ = "api_tokens"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    name: str = Field(max_length=100, unique=True)
    role: str = Field(max_length=16)
    token_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    use_count: int = 0
    # When it last authenticated; kept to the minute for admin tokens (see auth.service).
    last_used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))

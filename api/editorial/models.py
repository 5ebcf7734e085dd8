"""Editorial bookkeeping kept beside the content tables: versions, revisions, the audit log."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.core.db import UTCDateTime, new_id


class EntityVersion(SQLModel, table=True):
    """Optimistic-locking counter (and creator) of an editable item; no row means version 0.

    Kept apart from the content tables so imports and the public API need not know of it.
    """

    __tablename__ = "entity_versions"

    entity_type: str = Field(primary_key=True, max_length=16)
    entity_id: str = Field(primary_key=True, max_length=32)
    version: int = 0
    created_by: str | None = Field(default=None, max_length=32)


class ArticleRevision(SQLModel, table=True):
    """A snapshot of an article as saved: what a restore brings back."""

    __tablename__ = "article_revisions"
    __table_args__ = (UniqueConstraint("article_id", "number"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    article_id: str = Field(
        sa_column=Column(String(32), ForeignKey("articles.id", ondelete="CASCADE"), nullable=False)
    )
    number: int
    snapshot: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    token_name: str = Field(max_length=100)
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class AuditEntry(SQLModel, table=True):
    """Who (token name, never the token) did what to which entity, and when."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_created", "created_at", "id"),)

    id: str = Field(primary_key=True, max_length=32)
    token_name: str = Field(max_length=100)
    action: str = Field(max_length=40)
    entity_type: str = Field(max_length=16)
    entity_id: str = Field(max_length=32)
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))

"""Webhooks, their delivery outbox, and what the event dispatcher remembers between passes."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Column, ForeignKey, Index, Integer, String
from sqlmodel import Field, SQLModel

from api.core.db import UTCDateTime, new_id, utcnow


class Webhook(SQLModel, table=True):
    """A subscriber URL and the events it wants. The secret signs every delivery; it is
    stored (signing needs it) but shown only in the response that created the hook."""

    __tablename__ = "webhooks"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    url: str = Field(sa_column=Column(String(2048), nullable=False))
    description: str | None = Field(default=None, max_length=500)
    events: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    secret: str = Field(max_length=100)
    active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    disabled_reason: str | None = Field(default=None, max_length=500)
    consecutive_failures: int = 0
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class DeliveryStatus(StrEnum):
    pending = "pending"
    succeeded = "succeeded"
    failed = "failed"


class WebhookDelivery(SQLModel, table=True):
    """One event for one hook: the durable outbox row, retried until it succeeds or fails."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_webhook", "webhook_id", "created_at", "id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    webhook_id: str = Field(
        sa_column=Column(String(32), ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False)
    )
    event: str = Field(max_length=64)
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(default=DeliveryStatus.pending, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    locked_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    last_attempt_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    delivered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class WebhookCursor(SQLModel, table=True):
    """One row: the last change-log version turned into events, and when the clock was last
    scanned for scheduled publications. Locked by the dispatcher, so events are made once."""

    __tablename__ = "webhook_cursor"

    id: int = Field(default=1, sa_column=Column(Integer, primary_key=True, autoincrement=False))
    last_version: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    last_scan_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class WebhookArticleState(SQLModel, table=True):
    """What subscribers were last told about an article: visible or not, and a fingerprint of
    its public JSON, so a change is reported as published, updated or unpublished."""

    __tablename__ = "webhook_article_state"

    article_id: str = Field(primary_key=True, max_length=32)
    was_visible: bool = Field(sa_column=Column(Boolean, nullable=False))
    slug: str | None = Field(default=None, max_length=200)
    fingerprint: str | None = Field(default=None, max_length=64)

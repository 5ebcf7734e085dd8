"""The domain-event outbox: events written in the transaction of the change they describe."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Integer
from sqlmodel import Field, SQLModel

from api.core.db import UTCDateTime


class OutboxEvent(SQLModel, table=True):
    """A domain event (`subscriber.confirmed`) waiting for a consumer such as webhooks."""

    __tablename__ = "outbox_events"
    __table_args__ = (Index("ix_outbox_events_pending", "consumed_at", "id"),)

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    name: str = Field(max_length=64)
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    consumed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))

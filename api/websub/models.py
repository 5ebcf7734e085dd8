"""WebSub: what the hub was last told each article is in, and the pings waiting to go."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, Index, Integer, String
from sqlmodel import Field, SQLModel

from api.core.db import UTCDateTime, new_id


class WebSubCursor(SQLModel, table=True):
    """One row: the last change-log version turned into pings, and when the clock was last
    scanned for scheduled publications. Locked by each pass, so passes take turns."""

    __tablename__ = "websub_cursor"

    id: int = Field(default=1, sa_column=Column(Integer, primary_key=True, autoincrement=False))
    last_version: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    last_scan_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class WebSubArticleTopic(SQLModel, table=True):
    """A topic (`""` the main feed, `tag=<slug>`, `source=<slug>`) a published article was in
    at the last pass: when the article changes, these feeds changed too, whatever it is in
    now."""

    __tablename__ = "websub_article_topics"

    article_id: str = Field(primary_key=True, max_length=32)
    topic: str = Field(sa_column=Column(String(250), primary_key=True))


class PingStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"


class WebSubPing(SQLModel, table=True):
    """The durable outbox of pings: one row per feed URL, made pending again by each change
    (`requested` counts them, so a change during a send is pinged again after it)."""

    __tablename__ = "websub_pings"
    __table_args__ = (Index("ix_websub_pings_due", "status", "next_attempt_at"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    topic: str = Field(sa_column=Column(String(2048), nullable=False, unique=True))
    status: str = Field(default=PingStatus.pending, max_length=16)
    requested: int = Field(default=1, sa_column=Column(BigInteger, nullable=False))
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    locked_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    last_attempt_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))

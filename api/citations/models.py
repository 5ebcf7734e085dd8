"""A cited URL, checked once however many articles cite it."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, String, Text
from sqlmodel import Field, SQLModel

from api.core.db import UTCDateTime


class LinkStatus(StrEnum):
    unchecked = "unchecked"  # not checked yet, or failing without ever having answered
    ok = "ok"  # answered 2xx at the last check (or fails, but not yet often enough)
    broken = "broken"  # 404/410, or failed `link_check_failures` checks in a row


class CitedLink(SQLModel, table=True):
    """One normalised cited URL (its id is a hash of it: `api.citations.links.link_id`), what
    the last check found, and the archived copy an editor attached."""

    __tablename__ = "cited_links"
    __table_args__ = (
        Index("ix_cited_links_due", "next_check_at", "id"),
        Index("ix_cited_links_status", "status", "id"),
    )

    id: str = Field(primary_key=True, max_length=32)
    url: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default=LinkStatus.unchecked, sa_column=Column(String(16), nullable=False))
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    last_checked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # When the failures going on now began (null once a check succeeds).
    first_failed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    consecutive_failures: int = 0
    next_check_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    locked_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    archived_url: str | None = Field(default=None, sa_column=Column(String(2048)))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))

"""The change log and the content version, both written by database triggers."""

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, Integer
from sqlmodel import Field, SQLModel

from api.core.db import UTCDateTime, utcnow


class ContentVersion(SQLModel, table=True):
    """One row: a counter bumped (under its row lock) by every content write, so versions
    are handed out in commit order and every worker can check freshness with one query."""

    __tablename__ = "content_version"

    id: int = Field(default=1, sa_column=Column(Integer, primary_key=True, autoincrement=False))
    version: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))


class Change(SQLModel, table=True):
    """The change log, written by database triggers on every content table."""

    __tablename__ = "change_log"
    __table_args__ = (Index("ix_change_log_version", "version", "entity"),)

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    version: int = Field(sa_column=Column(BigInteger, nullable=False))
    entity: str = Field(max_length=16)
    entity_id: str = Field(max_length=32)
    op: str = Field(max_length=8)
    changed_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )

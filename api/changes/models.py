from datetime import date, datetime

from sqlalchemy import BigInteger, Column, Date, ForeignKey, Index, Integer, String
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


class ActionClick(SQLModel, table=True):
    """Clicks through an action's tracked link, per day and per citing article: no personal
    data. `article_id` is '' when the click came from no known article."""

    __tablename__ = "action_clicks"

    action_id: str = Field(
        sa_column=Column(String(32), ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True)
    )
    article_id: str = Field(default="", sa_column=Column(String(32), primary_key=True))
    day: date = Field(sa_column=Column(Date, primary_key=True))
    clicks: int = 0

"""The change log, the content version and the article counts, all written by database
triggers."""

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, Integer, String
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


class CountedLink(SQLModel, table=True):
    """A published article's link to a tag, source or author (one per pair, however often
    it is cited), with the article's publication time; kept by database triggers on the
    articles and their link tables (migration 0015), so no write path can forget one."""

    __tablename__ = "counted_links"
    __table_args__ = (
        # A target's links yet to come out, at read time: an index range, empty mostly.
        Index("ix_counted_links_target_published", "entity", "target_id", "published_at"),
        Index("ix_counted_links_article_id", "article_id"),
    )

    entity: str = Field(sa_column=Column(String(8), primary_key=True))
    target_id: str = Field(sa_column=Column(String(32), primary_key=True))
    article_id: str = Field(sa_column=Column(String(32), primary_key=True))
    published_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class ArticleCount(SQLModel, table=True):
    """How many published articles (whatever their publication time) a tag, source or
    author has: its `counted_links`, counted by triggers as they come and go."""

    __tablename__ = "article_counts"

    entity: str = Field(sa_column=Column(String(8), primary_key=True))
    target_id: str = Field(sa_column=Column(String(32), primary_key=True))
    article_count: int = Field(sa_column=Column(Integer, nullable=False))

"""Corrections: the public notes an article carries once something in it was wrong, unclear,
or withdrawn. They belong to the article (deleted with its row) and are shown with it."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Index, String, Text
from sqlmodel import Field, SQLModel

from api.core.db import UTCDateTime, new_id


class CorrectionKind(StrEnum):
    correction = "correction"  # something was wrong and has been put right
    clarification = "clarification"  # nothing was wrong, something was unclear
    retraction = "retraction"  # the article is withdrawn; it stays readable, marked


class Correction(SQLModel, table=True):
    """One note on an article. `published_at` is when the note was made public (the `at` of
    the API), `amended_at` when its text was last changed (null while it is as first made)."""

    __tablename__ = "article_corrections"
    __table_args__ = (
        # An article's notes in order (every article read), and the latest notes first
        # (the feeds re-send recently corrected articles).
        Index("ix_article_corrections_article", "article_id", "published_at", "id"),
        Index("ix_article_corrections_published", "published_at", "article_id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    article_id: str = Field(
        sa_column=Column(String(32), ForeignKey("articles.id", ondelete="CASCADE"), nullable=False)
    )
    kind: str = Field(max_length=16)
    text: str = Field(sa_column=Column(Text, nullable=False))
    published_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    amended_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    # Who made it (the token's name, as the audit log keeps it).
    token_name: str = Field(max_length=100)

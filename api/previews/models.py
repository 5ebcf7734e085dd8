from datetime import datetime

from sqlalchemy import Column, ForeignKey, String
from sqlmodel import Field, SQLModel

from api.core.db import UTCDateTime


class PreviewGeneration(SQLModel, table=True):
    """How many times an item's preview links were revoked: a link is good only while the
    generation signed into it is the item's current one (no row: generation 0)."""

    __tablename__ = "preview_generations"

    article_id: str = Field(
        sa_column=Column(
            String(32), ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
        )
    )
    generation: int = 0
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))

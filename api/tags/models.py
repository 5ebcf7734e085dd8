from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from api.core.db import UTCDateTime, new_id, utcnow


class Tag(SQLModel, table=True):
    __tablename__ = "tags"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    slug: str = Field(max_length=200, unique=True)
    name: str = Field(max_length=200, index=True)
    hashtag: str | None = Field(default=None, max_length=201)
    description: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )

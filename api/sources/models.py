from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, String, Text
from sqlmodel import Field, SQLModel

from api.core.db import UTCDateTime, new_id, utcnow


class SourceKind(StrEnum):
    news_outlet = "news_outlet"
    ngo = "ngo"
    government = "government"
    intergovernmental = "intergovernmental"
    person = "person"
    social_media = "social_media"
    other = "other"


class Source(SQLModel, table=True):
    __tablename__ = "sources"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    slug: str = Field(max_length=200, unique=True)
    name: str = Field(max_length=200, index=True)
    kind: str = Field(default=SourceKind.other, max_length=32, index=True)
    url: str | None = Field(default=None, sa_column=Column(String(2048)))
    country: str | None = Field(default=None, max_length=2, index=True)
    description: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )

"""The publication's settings: one row (no row yet means every default)."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, String, Text
from sqlmodel import Field, SQLModel

from api.core.db import UTCDateTime, utcnow

SITE_ID = 1


class Site(SQLModel, table=True):
    """Title, public URL, language, navigation and the frontend's URL templates."""

    __tablename__ = "site"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: int = Field(default=SITE_ID, primary_key=True, sa_column_kwargs={"autoincrement": False})
    title: str = Field(max_length=300)
    description: str | None = Field(default=None, sa_column=Column(Text))
    # NULL: MASTHEAD_PUBLIC_URL (or the request's base URL) is the frontend's URL too.
    url: str | None = Field(default=None, sa_column=Column(String(2048)))
    language: str = Field(default="en", max_length=35)
    timezone: str = Field(default="UTC", max_length=64)
    logo_url: str | None = Field(default=None, sa_column=Column(String(2048)))
    icon_url: str | None = Field(default=None, sa_column=Column(String(2048)))
    navigation: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    secondary_navigation: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    social: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    article_url_template: str = Field(max_length=500)
    page_url_template: str = Field(max_length=500)
    tag_url_template: str = Field(max_length=500)
    author_url_template: str = Field(max_length=500)
    preview_url_template: str | None = Field(default=None, max_length=500)
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )

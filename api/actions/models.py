from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Date, ForeignKey, Index, String, Text
from sqlmodel import Field, SQLModel

from api.core.db import UTCDateTime, new_id, utcnow


class ActionKind(StrEnum):
    petition = "petition"
    donation = "donation"
    volunteer = "volunteer"
    contact = "contact"
    event = "event"
    other = "other"


class Action(SQLModel, table=True):
    __tablename__ = "actions"
    __table_args__ = (
        Index("ix_actions_window", "starts_at", "ends_at"),
        Index("ix_actions_created", "created_at", "id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    slug: str = Field(max_length=200, unique=True)
    kind: str = Field(default=ActionKind.other, max_length=32, index=True)
    title: str = Field(max_length=300)
    description: str | None = Field(default=None, sa_column=Column(Text))
    url: str = Field(sa_column=Column(String(2048), nullable=False))
    organisation: str | None = Field(default=None, max_length=200)
    starts_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    ends_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )

    def is_active(self, now: datetime) -> bool:
        return action_is_active(self, now)


def action_is_active(action: Any, now: datetime) -> bool:
    """Open at `now`: started (or no start) and not yet ended. Works on rows too."""
    started = action.starts_at is None or action.starts_at <= now
    return started and (action.ends_at is None or now < action.ends_at)


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

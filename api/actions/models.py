from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Boolean, Column, Date, ForeignKey, Index, String, Text, false
from sqlmodel import Field, SQLModel

from api.core.db import UTCDateTime, new_id, utcnow


class ActionKind(StrEnum):
    petition = "petition"
    donation = "donation"
    volunteer = "volunteer"
    contact = "contact"
    event = "event"
    other = "other"


class Attribution(StrEnum):
    """How an action's destination attributes the traffic it receives (the parameter the
    tracked redirect appends to the destination URL)."""

    refcode = "refcode"  # ActBlue: `refcode=`
    source = "source"  # Action Network and OSDI tools: `source=`
    utm = "utm"  # `utm_source`, `utm_medium`, `utm_campaign`, `utm_content`
    none = "none"


class Placement(StrEnum):
    """Where on the citing article (or outside it) the link to the action was."""

    inline = "inline"
    end = "end"
    banner = "banner"
    newsletter = "newsletter"
    sidebar = "sidebar"
    social = "social"
    other = "other"


class GoalKind(StrEnum):
    signatures = "signatures"  # conversions counted (signatures, form submissions)
    amount = "amount"  # money raised in the goal's currency, in minor units


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
    attribution: str = Field(
        default=Attribution.none,
        sa_column=Column(String(16), nullable=False, server_default=Attribution.none.value),
    )
    # NULL: the default template (`api.actions.attribution.DEFAULT_TEMPLATE`).
    attribution_template: str | None = Field(default=None, max_length=100)
    goal_kind: str | None = Field(default=None, max_length=16)
    goal_target: int | None = Field(default=None, sa_column=Column(BigInteger))
    goal_currency: str | None = Field(default=None, max_length=3)
    close_on_goal: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )
    progress_override: int | None = Field(default=None, sa_column=Column(BigInteger))
    # Kept by `api.actions.progress.recount_progress` from the conversions counted here, in
    # the goal's unit: a column, so lists filter on it and every row read carries it.
    progress_counted: int = Field(
        default=0, sa_column=Column(BigInteger, nullable=False, server_default="0")
    )
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )

    @property
    def goal(self) -> dict[str, Any] | None:
        """The goal as the API shows and takes it (the three goal columns), or None."""
        return goal_of(self)

    def is_active(self, now: datetime) -> bool:
        return action_is_active(self, now)


def goal_of(action: Any) -> dict[str, Any] | None:
    if action.goal_kind is None or action.goal_target is None:
        return None
    return {
        "kind": action.goal_kind,
        "target": action.goal_target,
        "currency": action.goal_currency,
    }


def progress_of(action: Any) -> int:
    """The editor's figure when set, else what was counted here."""
    if action.progress_override is not None:
        return int(action.progress_override)
    return int(action.progress_counted or 0)


def goal_reached(action: Any) -> bool:
    return action.goal_target is not None and progress_of(action) >= action.goal_target


def action_is_closed(action: Any, now: datetime) -> bool:
    """Past its end, or its goal reached when it closes on reaching it. Works on rows too."""
    ended = action.ends_at is not None and action.ends_at <= now
    return ended or (bool(action.close_on_goal) and goal_reached(action))


def action_is_active(action: Any, now: datetime) -> bool:
    """Open at `now`: started (or no start), not yet ended, goal not reached when reaching
    it closes the action. Works on rows too."""
    started = action.starts_at is None or action.starts_at <= now
    return started and not action_is_closed(action, now)


class ActionClick(SQLModel, table=True):
    """Clicks through an action's tracked link, per citing article, placement and day: no
    personal data. `article_id` is '' when the click came from no known article, and
    `placement` '' when the link did not say. `readers` counts distinct readers of the
    row's day (see `api.actions.readers`)."""

    __tablename__ = "action_clicks"
    __table_args__ = (
        Index("ix_action_clicks_action_day", "action_id", "day"),
        Index("ix_action_clicks_article_day", "article_id", "day"),
    )

    action_id: str = Field(
        sa_column=Column(String(32), ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True)
    )
    article_id: str = Field(default="", sa_column=Column(String(32), primary_key=True))
    placement: str = Field(
        default="", sa_column=Column(String(16), primary_key=True, server_default="")
    )
    day: date = Field(sa_column=Column(Date, primary_key=True))
    clicks: int = 0
    readers: int = Field(
        default=0, sa_column=Column(BigInteger, nullable=False, server_default="0")
    )


class ReaderSalt(SQLModel, table=True):
    """Today's random salt for telling readers apart (one row; earlier days' are deleted,
    and with them every digest made with them)."""

    __tablename__ = "reader_salts"

    day: date = Field(sa_column=Column(Date, primary_key=True))
    salt: str = Field(sa_column=Column(String(64), nullable=False))


class ReaderSighting(SQLModel, table=True):
    """That some reader followed some link today: a digest of today's salt with the reader's
    address, user agent and the link's counter key. Neither address nor agent is stored."""

    __tablename__ = "reader_sightings"

    day: date = Field(sa_column=Column(Date, primary_key=True))
    digest: str = Field(sa_column=Column(String(32), primary_key=True))


class AttributionCode(SQLModel, table=True):
    """A code the tracked redirect handed a destination (`refcode=`, `source=`), and the
    action, article and placement it stands for: conversions reported back with the code
    are counted there. Codes are unique across actions (a clash gets a suffix)."""

    __tablename__ = "attribution_codes"
    __table_args__ = (Index("ix_attribution_codes_action_id", "action_id"),)

    code: str = Field(sa_column=Column(String(100), primary_key=True))
    action_id: str = Field(
        sa_column=Column(String(32), ForeignKey("actions.id", ondelete="CASCADE"), nullable=False)
    )
    article_id: str = Field(sa_column=Column(String(32), nullable=False))
    placement: str = Field(sa_column=Column(String(16), nullable=False))

"""Conversions reported back by the destinations: counters and the ledger of event ids.

Nothing about the supporter is stored: only which action, article and placement the
attribution code stood for, the day, and the amount in minor units per currency."""

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, Date, ForeignKey, Index, String
from sqlmodel import Field, SQLModel

from api.core.db import UTCDateTime


class ActionConversion(SQLModel, table=True):
    """Conversions per action, citing article, placement, day and currency. `article_id`
    and `placement` are '' when the code named none; `currency` is '' for conversions
    without money (signatures, form submissions). `amount` is net of refunds."""

    __tablename__ = "action_conversions"
    __table_args__ = (
        Index("ix_action_conversions_action_day", "action_id", "day"),
        Index("ix_action_conversions_article_day", "article_id", "day"),
    )

    action_id: str = Field(
        sa_column=Column(String(32), ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True)
    )
    article_id: str = Field(default="", sa_column=Column(String(32), primary_key=True))
    placement: str = Field(default="", sa_column=Column(String(16), primary_key=True))
    day: date = Field(sa_column=Column(Date, primary_key=True))
    currency: str = Field(default="", sa_column=Column(String(3), primary_key=True))
    conversions: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    refunds: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    amount: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))


class ConversionEvent(SQLModel, table=True):
    """Provider event ids already counted: a replayed delivery counts nothing."""

    __tablename__ = "conversion_events"

    provider: str = Field(sa_column=Column(String(16), primary_key=True))
    event_id: str = Field(sa_column=Column(String(200), primary_key=True))
    received_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))

"""Subscribers, their consent records (the proof) and the email outbox."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.core.db import UTCDateTime, new_id, utcnow


class SubscriberStatus(StrEnum):
    """Where a subscriber stands: `erased` rows keep no personal data, only counts."""

    pending = "pending"
    confirmed = "confirmed"
    unsubscribed = "unsubscribed"
    erased = "erased"


class Subscriber(SQLModel, table=True):
    """One row per normalised address; `email` is NULL once erased (the row stays counted)."""

    __tablename__ = "subscribers"
    __table_args__ = (
        UniqueConstraint("email", name="uq_subscribers_email"),
        Index("ix_subscribers_status_created", "status", "created_at", "id"),
        Index("ix_subscribers_created", "created_at", "id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    email: str | None = Field(default=None, sa_column=Column(String(254)))
    status: str = Field(default=SubscriberStatus.pending, max_length=16)
    lists: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    confirmed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    unsubscribed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    erased_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # The consent ledger's head (`api.consent`): the hash of this subscriber's last event
    # and the number of events, so a deleted tail is as detectable as an edited event.
    ledger_head: str | None = Field(default=None, sa_column=Column(String(64)))
    ledger_length: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default="0")
    )


class SubscriptionConsent(SQLModel, table=True):
    """GDPR art. 7 proof of one sign-up: what was agreed to, where, when, and its fate.

    The client address is kept only as its network (/24 for IPv4, /48 for IPv6)."""

    __tablename__ = "subscription_consents"
    __table_args__ = (
        Index("ix_subscription_consents_subscriber", "subscriber_id", "consented_at"),
        Index("ix_subscription_consents_policy_page", "policy_page_id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    subscriber_id: str = Field(
        sa_column=Column(
            String(32), ForeignKey("subscribers.id", ondelete="CASCADE"), nullable=False
        )
    )
    policy_version: str = Field(max_length=64)
    wording_hash: str = Field(max_length=64)
    source: str = Field(max_length=500)
    lists: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    client_network: str | None = Field(default=None, sa_column=Column(String(64)))
    consented_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    # The privacy-policy page (MASTHEAD_PRIVACY_PAGE_SLUG) and its revision in force at
    # sign-up; NULL when none was published.
    policy_page_id: str | None = Field(
        default=None,
        sa_column=Column(String(32), ForeignKey("articles.id", ondelete="SET NULL")),
    )
    policy_page_revision: int | None = None
    confirmed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    withdrawn_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class OutboxStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"
    cancelled = "cancelled"


class OutboxMessage(SQLModel, table=True):
    """An email waiting to be sent: written in the sign-up's transaction, so none is lost.

    The message is rendered (and its tokens signed) when it is sent, not when queued."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_messages_due", "status", "available_at"),
        Index("ix_outbox_messages_subscriber", "subscriber_id", "created_at"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    kind: str = Field(max_length=32)
    subscriber_id: str | None = Field(
        default=None,
        sa_column=Column(String(32), ForeignKey("subscribers.id", ondelete="CASCADE")),
    )
    recipient: str | None = Field(default=None, sa_column=Column(String(254)))
    status: str = Field(default=OutboxStatus.pending, max_length=16)
    attempts: int = 0
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    available_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    locked_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    last_error: str | None = Field(default=None, sa_column=Column(String(500)))

"""The consent ledger: every consent event of a subscriber, append-only and hash-chained,
and the consent wordings the events' hashes stand for."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, ForeignKey, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.core.db import UTCDateTime, new_id


class ConsentEventKind(StrEnum):
    """What happened to a subscriber's consent."""

    given = "given"
    confirmed = "confirmed"
    withdrawn = "withdrawn"
    erased = "erased"


class ConsentEvent(SQLModel, table=True):
    """One event of a subscriber's chain: `hash` is the SHA-256 of the event's canonical
    encoding (`api.consent.ledger.canonical`), which includes the previous event's hash.

    The client network is not hashed itself but through `client_commitment`, the SHA-256 of
    a random nonce and the network: erasure clears the network and the nonce and the chain
    still verifies, while the commitment alone tells nothing about the network."""

    __tablename__ = "consent_events"
    __table_args__ = (
        UniqueConstraint("subscriber_id", "seq", name="uq_consent_events_subscriber_seq"),
        Index("ix_consent_events_consent", "consent_id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    subscriber_id: str = Field(
        sa_column=Column(String(32), ForeignKey("subscribers.id"), nullable=False)
    )
    seq: int = Field(description="Position in the subscriber's chain, from 1.")
    kind: str = Field(max_length=16)
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    consent_id: str | None = Field(
        default=None,
        sa_column=Column(String(32), ForeignKey("subscription_consents.id")),
    )
    policy_version: str | None = Field(default=None, sa_column=Column(String(64)))
    policy_page_id: str | None = Field(default=None, sa_column=Column(String(32)))
    policy_page_revision: int | None = None
    wording_hash: str | None = Field(default=None, sa_column=Column(String(64)))
    source: str | None = Field(default=None, sa_column=Column(String(500)))
    lists: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    client_network: str | None = Field(default=None, sa_column=Column(String(64)))
    client_nonce: str | None = Field(default=None, sa_column=Column(String(32)))
    client_commitment: str | None = Field(default=None, sa_column=Column(String(64)))
    prev_hash: str | None = Field(default=None, sa_column=Column(String(64)))
    hash: str = Field(max_length=64)


class ConsentWording(SQLModel, table=True):
    """A consent text a sign-up form showed, once, under its SHA-256: what a hash means."""

    __tablename__ = "consent_wordings"

    hash: str = Field(primary_key=True, max_length=64)
    text: str = Field(sa_column=Column(Text, nullable=False))
    first_seen_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))

"""consent ledger: append-only, hash-chained consent events per subscriber

`consent_events` holds each subscriber's chain (given, confirmed, withdrawn, erased), each
event hashing the previous one (`api.consent.ledger`); `consent_wordings` the texts the
wording hashes stand for; `subscribers.ledger_head`/`ledger_length` the chain's end.

Existing consent records are carried over: the events they imply (given at consented_at,
confirmed at confirmed_at, one withdrawn per unsubscribe time, erased at erased_at) are
written in time order with the same canonical encoding as new ones. Their wording hashes
are the old ones (the policy version, a line break and the wording), whose texts are not
known, so `consent_wordings` starts empty.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from api.consent.ledger import append_event_row
from api.core.db import UTCDateTime

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Same instant: a sign-up before its confirmation before its withdrawal before erasure.
KIND_ORDER = {"given": 0, "confirmed": 1, "withdrawn": 2, "erased": 3}


def upgrade() -> None:
    op.add_column("subscribers", sa.Column("ledger_head", sa.String(length=64), nullable=True))
    op.add_column(
        "subscribers",
        sa.Column("ledger_length", sa.Integer(), server_default="0", nullable=False),
    )
    op.create_table(
        "consent_events",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("subscriber_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("consent_id", sa.String(length=32), nullable=True),
        sa.Column("policy_version", sa.String(length=64), nullable=True),
        sa.Column("policy_page_id", sa.String(length=32), nullable=True),
        sa.Column("policy_page_revision", sa.Integer(), nullable=True),
        sa.Column("wording_hash", sa.String(length=64), nullable=True),
        sa.Column("source", sa.String(length=500), nullable=True),
        sa.Column("lists", sa.JSON(), nullable=False),
        sa.Column("client_network", sa.String(length=64), nullable=True),
        sa.Column("client_nonce", sa.String(length=32), nullable=True),
        sa.Column("client_commitment", sa.String(length=64), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=True),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_consent_events_subscriber_id_subscribers"),
        ),
        sa.ForeignKeyConstraint(
            ["consent_id"],
            ["subscription_consents.id"],
            name=op.f("fk_consent_events_consent_id_subscription_consents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_events")),
        sa.UniqueConstraint("subscriber_id", "seq", name="uq_consent_events_subscriber_seq"),
    )
    op.create_index("ix_consent_events_consent", "consent_events", ["consent_id"])
    op.create_table(
        "consent_wordings",
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("hash", name=op.f("pk_consent_wordings")),
    )
    carry_over(op.get_bind())


def _implied_events(subscriber: Any, consents: list[Any]) -> list[tuple[datetime, str, Any]]:
    events: list[tuple[datetime, str, Any]] = []
    withdrawn: set[datetime] = set()
    for consent in consents:
        events.append((consent.consented_at, "given", consent))
        if consent.confirmed_at is not None:
            events.append((consent.confirmed_at, "confirmed", consent))
        if consent.withdrawn_at is not None and consent.withdrawn_at not in withdrawn:
            withdrawn.add(consent.withdrawn_at)
            events.append((consent.withdrawn_at, "withdrawn", None))
    if subscriber.erased_at is not None:
        events.append((subscriber.erased_at, "erased", None))
    return sorted(events, key=lambda e: (e[0], KIND_ORDER[e[1]]))


EVENT_TEXT_COLUMNS = (
    "id",
    "subscriber_id",
    "kind",
    "consent_id",
    "policy_version",
    "policy_page_id",
    "wording_hash",
    "source",
    "client_network",
    "client_nonce",
    "client_commitment",
    "prev_hash",
    "hash",
)
SOURCES = {"confirmed": "confirmation-link", "withdrawn": "unsubscribe", "erased": "erasure"}


def carry_over(connection: sa.Connection) -> None:
    subscribers = sa.table(
        "subscribers",
        sa.column("id"),
        sa.column("lists", sa.JSON()),
        sa.column("erased_at", UTCDateTime()),
        sa.column("ledger_head"),
        sa.column("ledger_length"),
    )
    consents = sa.table(
        "subscription_consents",
        *map(
            sa.column,
            ("id", "subscriber_id", "policy_version", "policy_page_id", "wording_hash"),
        ),
        *map(sa.column, ("source", "client_network")),
        sa.column("policy_page_revision", sa.Integer()),
        sa.column("lists", sa.JSON()),
        *(sa.column(name, UTCDateTime()) for name in ("consented_at", "confirmed_at")),
        sa.column("withdrawn_at", UTCDateTime()),
    )
    events = sa.table(
        "consent_events",
        *map(sa.column, EVENT_TEXT_COLUMNS),
        sa.column("seq", sa.Integer()),
        sa.column("policy_page_revision", sa.Integer()),
        sa.column("lists", sa.JSON()),
        sa.column("occurred_at", UTCDateTime()),
    )
    by_subscriber: dict[str, list[Any]] = {}
    for consent in connection.execute(
        sa.select(consents).order_by(consents.c.subscriber_id, consents.c.consented_at)
    ):
        by_subscriber.setdefault(consent.subscriber_id, []).append(consent)
    for subscriber in connection.execute(sa.select(subscribers).order_by(subscribers.c.id)):
        head: str | None = None
        length = 0
        for occurred_at, kind, consent in _implied_events(
            subscriber, by_subscriber.get(subscriber.id, [])
        ):
            fields: dict[str, Any] = {"source": SOURCES.get(kind), "lists": []}
            if consent is not None:
                fields = {
                    "consent_id": consent.id,
                    "policy_version": consent.policy_version,
                    "policy_page_id": consent.policy_page_id,
                    "policy_page_revision": consent.policy_page_revision,
                    "wording_hash": consent.wording_hash,
                    "source": consent.source if kind == "given" else SOURCES[kind],
                    "lists": list(consent.lists or []),
                }
                if kind == "given":
                    fields["client_network"] = consent.client_network
            elif kind == "withdrawn":
                fields["lists"] = list(subscriber.lists or [])
            row = append_event_row(subscriber.id, head, length, kind, occurred_at, fields)
            connection.execute(events.insert(), [row])
            head, length = row["hash"], row["seq"]
        if length:
            connection.execute(
                subscribers.update()
                .where(subscribers.c.id == subscriber.id)
                .values(ledger_head=head, ledger_length=length)
            )


def downgrade() -> None:
    op.drop_table("consent_wordings")
    op.drop_index("ix_consent_events_consent", table_name="consent_events")
    op.drop_table("consent_events")
    # Plain ALTER TABLE (SQLite has it since 3.35): a batch rebuild would drop and recreate
    # `subscribers`, which the consents and the outbox reference.
    op.execute("ALTER TABLE subscribers DROP COLUMN ledger_length")
    op.execute("ALTER TABLE subscribers DROP COLUMN ledger_head")

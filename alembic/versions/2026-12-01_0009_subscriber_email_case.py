"""subscriber addresses in lower case: case variants of one address become one subscriber

Sign-ups now store and look up the whole address in lower case (`normalise_email`);
before, only the domain was, so `Norm@example.com` and `norm@example.com` were two
subscribers (the unique constraint on `subscribers.email` is case-sensitive on both
databases). This lowercases every stored address, with Python's `str.lower` as the app
does (SQLite's `lower()` knows only ASCII), and merges the subscribers that become one:

- the oldest row (`created_at`, then id) is kept, so its id, which the links already
  mailed for it name, stays valid; links mailed for the others' ids stop working (a 400,
  as a used link does);
- every consent record and outbox message of the others moves to it: no proof is lost;
- its state is what the app's own rules make of the rows' states taken in the order they
  were reached (a confirmation or an unsubscribe sets it; a sign-up makes it pending,
  unless confirmed), with status, lists, `confirmed_at` and `unsubscribed_at` from the
  row that set it; when that is an unsubscribe, consents still standing are withdrawn
  then;
- at most one confirmation email stays queued (the newest, and only when pending), and
  queued emails go to the lower-case address.

Erased subscribers (no address) are left alone. Only rows whose address changes are held
in memory, so the migration runs in one pass over the table.

Downgrade is a no-op: the original case of an address and the merged rows are not kept,
and lower-case addresses are valid under the previous revision.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHUNK = 500

subscribers = sa.table(
    "subscribers",
    sa.column("id", sa.String),
    sa.column("email", sa.String),
    sa.column("status", sa.String),
    sa.column("lists", sa.JSON),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("confirmed_at", sa.DateTime(timezone=True)),
    sa.column("unsubscribed_at", sa.DateTime(timezone=True)),
)
consents = sa.table(
    "subscription_consents",
    sa.column("subscriber_id", sa.String),
    sa.column("consented_at", sa.DateTime(timezone=True)),
    sa.column("withdrawn_at", sa.DateTime(timezone=True)),
)
outbox = sa.table(
    "outbox_messages",
    sa.column("id", sa.String),
    sa.column("subscriber_id", sa.String),
    sa.column("status", sa.String),
    sa.column("recipient", sa.String),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def _chunks(items: Sequence[str]) -> Any:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def upgrade() -> None:
    bind = op.get_bind()
    # Addresses that change, by their lower-case form (usually few).
    changing: dict[str, list[str]] = defaultdict(list)
    every_address = (
        sa.select(subscribers.c.id, subscribers.c.email)
        .where(subscribers.c.email.is_not(None))
        .execution_options(yield_per=1000)
    )
    for subscriber_id, email in bind.execute(every_address):
        if email != email.lower():
            changing[email.lower()].append(subscriber_id)
    if not changing:
        return
    # Rows already holding a lower-case form join its group.
    groups = {lowered: list(ids) for lowered, ids in changing.items()}
    for chunk in _chunks(list(groups)):
        holders = sa.select(subscribers.c.id, subscribers.c.email).where(
            subscribers.c.email.in_(chunk)
        )
        for subscriber_id, email in bind.execute(holders):
            groups[email].append(subscriber_id)
    for lowered, ids in groups.items():
        if len(ids) == 1:
            bind.execute(
                subscribers.update().where(subscribers.c.id == ids[0]).values(email=lowered)
            )
            _queued_mail_to(bind, ids[0], lowered, keep="all")
        else:
            _merge(bind, lowered, ids)


def _reached(row: Any, latest_consent: datetime | None) -> Any:
    """When the row got to its state: confirmed, unsubscribed, or its last sign-up."""
    if row.status == "confirmed" and row.confirmed_at is not None:
        return row.confirmed_at
    if row.status == "unsubscribed" and row.unsubscribed_at is not None:
        return row.unsubscribed_at
    return max(t for t in (row.created_at, latest_consent) if t is not None)


def _merge(bind: sa.Connection, lowered: str, ids: list[str]) -> None:
    rows = list(bind.execute(sa.select(subscribers).where(subscribers.c.id.in_(ids))))
    latest = dict(
        bind.execute(
            sa.select(consents.c.subscriber_id, sa.func.max(consents.c.consented_at))
            .where(consents.c.subscriber_id.in_(ids))
            .group_by(consents.c.subscriber_id)
        ).all()
    )
    kept = min(rows, key=lambda row: (row.created_at, row.id))
    # Replay the states in the order they were reached, by the rules sign-ups follow.
    state = None
    for row in sorted(rows, key=lambda r: (_reached(r, latest.get(r.id)), r.created_at, r.id)):
        if row.status == "pending" and state is not None and state.status == "confirmed":
            continue  # a sign-up leaves a confirmed subscriber confirmed
        state = row
    assert state is not None
    others = [row.id for row in rows if row.id != kept.id]
    for table in (consents, outbox):
        bind.execute(
            table.update().where(table.c.subscriber_id.in_(others)).values(subscriber_id=kept.id)
        )
    bind.execute(subscribers.delete().where(subscribers.c.id.in_(others)))
    bind.execute(
        subscribers.update()
        .where(subscribers.c.id == kept.id)
        .values(
            email=lowered,
            status=state.status,
            lists=state.lists,
            confirmed_at=state.confirmed_at,
            unsubscribed_at=state.unsubscribed_at,
        )
    )
    if state.status == "unsubscribed" and state.unsubscribed_at is not None:
        bind.execute(
            consents.update()
            .where(
                consents.c.subscriber_id == kept.id,
                consents.c.withdrawn_at.is_(None),
                consents.c.consented_at <= state.unsubscribed_at,
            )
            .values(withdrawn_at=state.unsubscribed_at)
        )
    _queued_mail_to(bind, kept.id, lowered, keep="newest" if state.status == "pending" else "none")


def _queued_mail_to(bind: sa.Connection, subscriber_id: str, email: str, *, keep: str) -> None:
    """Queued mail goes to `email`; `keep` says which stays queued: `all`, the `newest`, or
    `none` (the others are cancelled)."""
    queued = (outbox.c.subscriber_id == subscriber_id) & (outbox.c.status == "pending")
    bind.execute(
        outbox.update().where(queued, outbox.c.recipient.is_not(None)).values(recipient=email)
    )
    if keep == "all":
        return
    cancelled = queued
    if keep == "newest":
        newest = (
            sa.select(outbox.c.id)
            .where(queued)
            .order_by(outbox.c.created_at.desc(), outbox.c.id.desc())
            .limit(1)
        )
        newest_id = bind.execute(newest).scalar()
        cancelled = queued & (outbox.c.id != newest_id)
    bind.execute(outbox.update().where(cancelled).values(status="cancelled"))


def downgrade() -> None:
    """Nothing to undo: see the module's docstring."""

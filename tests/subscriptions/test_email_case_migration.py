"""Migration 0009: stored addresses in lower case, case variants merged into one subscriber
(the oldest row kept, every consent record kept, the state the app's rules give)."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select
from sqlmodel import col

from api.core import migrations
from api.core.db import make_engine, make_sessionmaker
from api.core.settings import load_settings
from api.subscriptions.models import OutboxMessage, Subscriber, SubscriptionConsent
from tests.conftest import fresh_database

BEFORE, AFTER = "0008", "0009"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(days: int) -> datetime:
    return T0 + timedelta(days=days)


@pytest.fixture
def old_database(backend: str, tmp_path: Path) -> Iterator[Engine]:
    with fresh_database(backend, tmp_path) as url:
        engine = make_engine(load_settings(database_url=url))
        try:
            migrations.upgrade(engine, BEFORE)
            yield engine
        finally:
            engine.dispose()


def subscriber(
    connection: Any,
    id_: str,
    email: str | None,
    status: str,
    created: int,
    *,
    confirmed: int | None = None,
    unsubscribed: int | None = None,
    lists: list[str] | None = None,
    consented: tuple[int, ...] = (),
    queued: tuple[int, ...] = (),
) -> None:
    connection.execute(
        insert(Subscriber).values(
            id=id_,
            email=email,
            status=status,
            lists=lists or [],
            created_at=at(created),
            confirmed_at=None if confirmed is None else at(confirmed),
            unsubscribed_at=None if unsubscribed is None else at(unsubscribed),
        )
    )
    for n, day in enumerate(consented or (created,)):
        connection.execute(
            insert(SubscriptionConsent).values(
                id=f"{id_}-c{n}",
                subscriber_id=id_,
                policy_version="1",
                wording_hash="h",
                source="/",
                lists=lists or [],
                client_network="203.0.113.0/24",
                consented_at=at(day),
                confirmed_at=None if confirmed is None else at(confirmed),
            )
        )
    for n, day in enumerate(queued):
        connection.execute(
            insert(OutboxMessage).values(
                id=f"{id_}-m{n}",
                kind="confirmation",
                subscriber_id=id_,
                recipient=email,
                status="pending",
                attempts=0,
                created_at=at(day),
                available_at=at(day),
            )
        )


def arrange(engine: Engine) -> None:
    with engine.begin() as c:
        # Confirmed, then a pending sign-up of another case: stays confirmed, one row.
        subscriber(c, "norm-old", "Norm@example.com", "confirmed", 0, confirmed=1, lists=["a"])
        subscriber(c, "norm-new", "norm@example.com", "pending", 2, lists=["b"], queued=(2,))
        # Alone: only lowercased, its queued mail too.
        subscriber(c, "ann", "Ann@Example.com", "pending", 0, queued=(0,))
        # Confirmed, then the variant unsubscribed later: unsubscribed, consent withdrawn.
        subscriber(c, "bob-old", "Bob@example.com", "confirmed", 0, confirmed=1)
        subscriber(c, "bob-new", "BOB@example.com", "unsubscribed", 2, unsubscribed=3)
        # Three variants, the last a pending sign-up after an unsubscribe: pending, newest
        # queued mail only; the oldest row (a mixed-case one) is kept.
        subscriber(c, "eve-lower", "eve@example.com", "pending", 1, queued=(1,))
        subscriber(c, "eve-old", "Eve@example.com", "unsubscribed", 0, unsubscribed=2)
        subscriber(c, "eve-new", "EVE@example.com", "pending", 3, lists=["z"], queued=(3,))
        # Untouched: already lower case, and erased.
        subscriber(c, "frank", "frank@example.com", "confirmed", 0, confirmed=0)
        subscriber(c, "gone", None, "erased", 0)


def snapshot(engine: Engine) -> dict[str, Any]:
    with make_sessionmaker(engine)() as session:
        # Columns only: the models have columns that later revisions added.
        subscribers = select(
            *(
                col(getattr(Subscriber, name))
                for name in ("id", "email", "status", "lists", "confirmed_at", "unsubscribed_at")
            )
        )
        return {
            "subscribers": {row[0]: tuple(row[1:]) for row in session.execute(subscribers)},
            "consents": {
                id_: (subscriber_id, withdrawn_at)
                for id_, subscriber_id, withdrawn_at in session.execute(
                    select(
                        col(SubscriptionConsent.id),
                        col(SubscriptionConsent.subscriber_id),
                        col(SubscriptionConsent.withdrawn_at),
                    )
                )
            },
            "outbox": {
                m.id: (m.subscriber_id, m.recipient, m.status)
                for m in session.scalars(select(OutboxMessage))
            },
        }


def test_case_variants_are_merged_into_the_oldest_subscriber(old_database: Engine) -> None:
    engine = old_database
    arrange(engine)
    migrations.upgrade(engine, AFTER)
    after = snapshot(engine)
    assert after["subscribers"] == {
        "norm-old": ("norm@example.com", "confirmed", ["a"], at(1), None),
        "ann": ("ann@example.com", "pending", [], None, None),
        "bob-old": ("bob@example.com", "unsubscribed", [], None, at(3)),
        "eve-old": ("eve@example.com", "pending", ["z"], None, None),
        "frank": ("frank@example.com", "confirmed", [], at(0), None),
        "gone": (None, "erased", [], None, None),
    }
    assert after["consents"] == {
        "norm-old-c0": ("norm-old", None),
        "norm-new-c0": ("norm-old", None),
        "ann-c0": ("ann", None),
        "bob-old-c0": ("bob-old", at(3)),
        "bob-new-c0": ("bob-old", at(3)),
        "eve-lower-c0": ("eve-old", None),
        "eve-old-c0": ("eve-old", None),
        "eve-new-c0": ("eve-old", None),
        "frank-c0": ("frank", None),
        "gone-c0": ("gone", None),
    }
    assert after["outbox"] == {
        "norm-new-m0": ("norm-old", "norm@example.com", "cancelled"),
        "ann-m0": ("ann", "ann@example.com", "pending"),
        "eve-lower-m0": ("eve-old", "eve@example.com", "cancelled"),
        "eve-new-m0": ("eve-old", "eve@example.com", "pending"),
    }


def test_the_downgrade_is_a_no_op_and_the_upgrade_is_idempotent(old_database: Engine) -> None:
    engine = old_database
    arrange(engine)
    migrations.upgrade(engine, AFTER)
    merged = snapshot(engine)
    migrations.downgrade(engine, BEFORE)
    assert migrations.current_revision(engine) == BEFORE
    assert snapshot(engine) == merged
    migrations.upgrade(engine, AFTER)
    assert snapshot(engine) == merged

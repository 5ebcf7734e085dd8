"""Migration 0020: consent records stored before the ledger become its first events, in
time order, in chains that verify."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from api.consent.ledger import verify_ledger
from api.core import migrations
from api.core.db import UTCDateTime, make_engine, make_sessionmaker
from api.core.settings import load_settings
from tests.conftest import fresh_database

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SUBSCRIBERS = sa.table(
    "subscribers",
    *map(sa.column, ("id", "email", "status")),
    sa.column("lists", sa.JSON()),
    *(sa.column(n, UTCDateTime()) for n in ("created_at", "confirmed_at", "erased_at")),
    sa.column("unsubscribed_at", UTCDateTime()),
)
CONSENTS = sa.table(
    "subscription_consents",
    *map(sa.column, ("id", "subscriber_id", "policy_version", "wording_hash", "source")),
    sa.column("client_network"),
    sa.column("lists", sa.JSON()),
    *(sa.column(n, UTCDateTime()) for n in ("consented_at", "confirmed_at", "withdrawn_at")),
)


def at(days: int) -> datetime:
    return T0 + timedelta(days=days)


@pytest.fixture
def before_the_ledger(backend: str, tmp_path: Path) -> Iterator[Engine]:
    with fresh_database(backend, tmp_path) as url:
        engine = make_engine(load_settings(database_url=url))
        try:
            migrations.upgrade(engine, "0019")
            yield engine
        finally:
            engine.dispose()


def consent(id_: str, subscriber: str, day: int, **fields: object) -> dict[str, object]:
    return {
        "id": id_,
        "subscriber_id": subscriber,
        "policy_version": f"v{day}",
        "wording_hash": "0" * 64,
        "source": "/articles/a",
        "client_network": "203.0.113.0/24",
        "lists": [],
        "consented_at": at(day),
        "confirmed_at": None,
        "withdrawn_at": None,
        **fields,
    }


def test_old_consents_become_verified_chains(before_the_ledger: Engine) -> None:
    engine = before_the_ledger
    with engine.begin() as connection:
        base = {
            "lists": [],
            "created_at": at(0),
            "confirmed_at": None,
            "unsubscribed_at": None,
            "erased_at": None,
        }
        connection.execute(
            SUBSCRIBERS.insert(),
            [
                {**base, "id": "ann", "email": "ann@example.com", "status": "unsubscribed"},
                {**base, "id": "gone", "email": None, "status": "erased", "erased_at": at(9)},
                {**base, "id": "new", "email": "new@example.com", "status": "pending"},
            ],
        )
        connection.execute(
            CONSENTS.insert(),
            [
                # Withdrawn together by one unsubscribe: one withdrawn event.
                consent("c2", "ann", 3, withdrawn_at=at(5)),
                consent("c1", "ann", 1, confirmed_at=at(2), withdrawn_at=at(5)),
                consent("c3", "gone", 4, client_network=None),
            ],
        )
    migrations.upgrade(engine)
    with make_sessionmaker(engine)() as session:
        result = verify_ledger(session)
        events = session.execute(
            sa.text(
                "SELECT subscriber_id, seq, kind, consent_id, source, client_network"
                " FROM consent_events ORDER BY subscriber_id, seq"
            )
        ).all()
        heads = dict(session.execute(sa.text("SELECT id, ledger_length FROM subscribers")).all())
    assert result.breaks == [], result.breaks
    assert (result.subscribers, result.events) == (3, 6)
    assert [tuple(e) for e in events] == [
        ("ann", 1, "given", "c1", "/articles/a", "203.0.113.0/24"),
        ("ann", 2, "confirmed", "c1", "confirmation-link", None),
        ("ann", 3, "given", "c2", "/articles/a", "203.0.113.0/24"),
        ("ann", 4, "withdrawn", None, "unsubscribe", None),
        ("gone", 1, "given", "c3", "/articles/a", None),
        ("gone", 2, "erased", None, "erasure", None),
    ]
    assert heads == {"ann": 4, "gone": 2, "new": 0}

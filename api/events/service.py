"""Domain events, written to `outbox_events` in the caller's transaction.

A consumer (webhook delivery) reads rows with `consumed_at IS NULL` in `id` order, delivers
them and sets `consumed_at`. Events commit or roll back with the change they describe, so a
consumer never sees an event for a change that did not happen. Payloads carry ids, not
personal data, so erasure never has to chase them.

Events: `subscriber.confirmed` `{"subscriber_id", "lists", "confirmed_at"}`;
`article.corrected` `{"article_id", "correction"}` (the new note's public shape).
"""

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from api.events.models import OutboxEvent

EVENT_NAMES = ("subscriber.confirmed", "article.corrected")


def emit(session: Session, name: str, payload: dict[str, Any], now: datetime) -> OutboxEvent:
    """Queue event `name` with a JSON payload; it is visible to consumers once committed."""
    if name not in EVENT_NAMES:
        raise ValueError(f"unknown event {name!r}")
    event = OutboxEvent(name=name, payload=payload, created_at=now)
    session.add(event)
    return event

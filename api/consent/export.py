"""One subscriber's data as one JSON document (GDPR art. 15 access, art. 20 portability)."""

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.consent.ledger import events_of, wordings_of
from api.consent.schemas import consent_event
from api.subscriptions.models import OutboxMessage, Subscriber
from api.subscriptions.service import CONSENT_FIELDS, consents_of

EXPORT_FORMAT = "masthead-subject-export"
EXPORT_VERSION = 1


def subject_export(session: Session, subscriber: Subscriber, now: datetime) -> dict[str, Any]:
    """Everything kept about `subscriber`, in five statements whatever its history."""
    consents = consents_of(session, [subscriber.id])[subscriber.id]
    events = events_of(session, subscriber.id)
    hashes = [c.wording_hash for c in consents] + [e.wording_hash for e in events]
    mail = session.scalars(
        select(OutboxMessage)
        .where(col(OutboxMessage.subscriber_id) == subscriber.id)
        .order_by(col(OutboxMessage.created_at), col(OutboxMessage.id))
    )
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": now,
        "subscriber": {
            "id": subscriber.id,
            "email": subscriber.email,
            "status": subscriber.status,
            "lists": subscriber.lists,
            "created_at": subscriber.created_at,
            "confirmed_at": subscriber.confirmed_at,
            "unsubscribed_at": subscriber.unsubscribed_at,
            "erased_at": subscriber.erased_at,
            "ledger_head": subscriber.ledger_head,
        },
        "consents": [{name: getattr(c, name) for name in CONSENT_FIELDS} for c in consents],
        "ledger": [consent_event(event) for event in events],
        "wordings": [
            {"hash": digest, "text": text} for digest, text in wordings_of(session, hashes).items()
        ],
        "email": [
            {
                "kind": message.kind,
                "status": message.status,
                "recipient": message.recipient,
                "created_at": message.created_at,
                "sent_at": message.sent_at,
                "attempts": message.attempts,
            }
            for message in mail
        ],
    }

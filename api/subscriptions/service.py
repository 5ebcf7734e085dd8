"""Sign-up, confirmation, unsubscribe and erasure rules. Services flush; callers commit."""

import hashlib
from datetime import datetime, timedelta
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Select, and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col

from api.core.errors import BadRequest, NotFound
from api.core.pagination import Page, fetch_page, sort_keys
from api.events.service import emit
from api.subscriptions.models import (
    OutboxMessage,
    OutboxStatus,
    Subscriber,
    SubscriberStatus,
    SubscriptionConsent,
)

CONFIRMATION = "confirmation"
MAX_EMAIL_LENGTH = 254
SUBSCRIBER_SORTS = sort_keys(Subscriber.id, created_at=Subscriber.created_at)
USED_LINK = "This link was already used or is no longer valid; nothing was changed."


def normalise_email(raw: str) -> str:
    """The address as stored: validated, IDNA/Unicode-normalised, domain lowercased.

    Raises ValueError for CR/LF, over 254 characters, or a domain that cannot take mail
    (no dot, special-use names such as `localhost`). No DNS lookups."""
    if "\r" in raw or "\n" in raw:
        raise ValueError("an email address cannot contain line breaks")
    if len(raw) > MAX_EMAIL_LENGTH:
        raise ValueError(f"an email address has at most {MAX_EMAIL_LENGTH} characters")
    try:
        normalised = validate_email(raw, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None
    if len(normalised) > MAX_EMAIL_LENGTH:
        raise ValueError(f"an email address has at most {MAX_EMAIL_LENGTH} characters")
    local, _, domain = normalised.rpartition("@")
    return f"{local}@{domain.lower()}"


def wording_hash(wording: str, policy_version: str) -> str:
    """SHA-256 of the consent text shown, bound to the policy version agreed to."""
    return hashlib.sha256(f"{policy_version}\n{wording}".encode()).hexdigest()


def _locked(session: Session, query: Select[Any]) -> Select[Any]:
    # SQLite serialises writers itself; PostgreSQL needs the row lock.
    return query.with_for_update() if session.get_bind().dialect.name != "sqlite" else query


def _subscriber_by_email(session: Session, email: str) -> Subscriber | None:
    query = _locked(session, select(Subscriber).where(col(Subscriber.email) == email))
    return session.scalars(query).first()


def _get_or_create_subscriber(
    session: Session, email: str, lists: list[str], now: datetime
) -> tuple[Subscriber, bool]:
    subscriber = _subscriber_by_email(session, email)
    if subscriber is not None:
        return subscriber, False
    subscriber = Subscriber(email=email, lists=lists, created_at=now)
    try:
        with session.begin_nested():
            session.add(subscriber)
    except IntegrityError:
        # A concurrent sign-up for the same address won the insert: use its row.
        existing = _subscriber_by_email(session, email)
        assert existing is not None
        return existing, False
    return subscriber, True


def _confirmation_recently_queued(
    session: Session, subscriber_id: str, now: datetime, resend_after: int
) -> bool:
    """An unsent confirmation, or one sent within `resend_after` seconds, exists."""
    query = select(col(OutboxMessage.id)).where(
        col(OutboxMessage.subscriber_id) == subscriber_id,
        col(OutboxMessage.kind) == CONFIRMATION,
        or_(
            col(OutboxMessage.status) == OutboxStatus.pending,
            and_(
                col(OutboxMessage.status) == OutboxStatus.sent,
                col(OutboxMessage.sent_at) >= now - timedelta(seconds=resend_after),
            ),
        ),
    )
    return session.scalars(query.limit(1)).first() is not None


def record_signup(
    session: Session,
    *,
    email: str,
    policy_version: str,
    consent_wording_hash: str,
    source: str,
    lists: list[str],
    client_network: str | None,
    now: datetime,
    resend_after: int,
) -> bool:
    """Record a sign-up and queue its confirmation email; True when an email was queued.

    Confirmed addresses are left alone; a burst of sign-ups for one pending address queues
    one email (another only once `resend_after` has passed since the last was sent)."""
    subscriber, created = _get_or_create_subscriber(session, email, lists, now)
    if subscriber.status == SubscriberStatus.confirmed:
        return False
    if (
        not created
        and subscriber.status == SubscriberStatus.pending
        and _confirmation_recently_queued(session, subscriber.id, now, resend_after)
    ):
        return False
    subscriber.status = SubscriberStatus.pending
    subscriber.lists = lists
    session.add(
        SubscriptionConsent(
            subscriber_id=subscriber.id,
            policy_version=policy_version,
            wording_hash=consent_wording_hash,
            source=source,
            lists=lists,
            client_network=client_network,
            consented_at=now,
        )
    )
    session.add(
        OutboxMessage(
            kind=CONFIRMATION,
            subscriber_id=subscriber.id,
            recipient=email,
            created_at=now,
            available_at=now,
        )
    )
    session.flush()
    return True


def confirm_subscription(session: Session, payload: dict[str, Any], now: datetime) -> Subscriber:
    """Activate the subscription a confirmation token names; 400 if used or withdrawn."""
    subscriber = session.scalars(
        _locked(session, select(Subscriber).where(col(Subscriber.id) == payload["s"]))
    ).first()
    consent = session.get(SubscriptionConsent, str(payload.get("c", "")))
    if (
        subscriber is None
        or consent is None
        or consent.subscriber_id != subscriber.id
        or consent.confirmed_at is not None
        or consent.withdrawn_at is not None
        or subscriber.status != SubscriberStatus.pending
    ):
        raise BadRequest(USED_LINK)
    consent.confirmed_at = now
    subscriber.status = SubscriberStatus.confirmed
    subscriber.confirmed_at = now
    subscriber.unsubscribed_at = None
    subscriber.lists = consent.lists
    emit(
        session,
        "subscriber.confirmed",
        {"subscriber_id": subscriber.id, "lists": consent.lists, "confirmed_at": now.isoformat()},
        now,
    )
    session.flush()
    return subscriber


def subscriber_for_token(session: Session, payload: dict[str, Any]) -> Subscriber:
    subscriber = session.get(Subscriber, payload["s"])
    if subscriber is None:
        raise BadRequest(USED_LINK)
    return subscriber


def unsubscribe(session: Session, subscriber: Subscriber, now: datetime) -> Subscriber:
    """Withdraw consent and stop queued mail; repeating it changes nothing."""
    if subscriber.status in (SubscriberStatus.pending, SubscriberStatus.confirmed):
        subscriber.status = SubscriberStatus.unsubscribed
        subscriber.unsubscribed_at = now
        session.execute(
            update(SubscriptionConsent)
            .where(
                col(SubscriptionConsent.subscriber_id) == subscriber.id,
                col(SubscriptionConsent.withdrawn_at).is_(None),
            )
            .values(withdrawn_at=now)
        )
        _cancel_queued_mail(session, subscriber.id)
        session.flush()
    return subscriber


def _cancel_queued_mail(session: Session, subscriber_id: str) -> None:
    session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.subscriber_id) == subscriber_id,
            col(OutboxMessage.status) == OutboxStatus.pending,
        )
        .values(status=OutboxStatus.cancelled)
    )


def list_subscribers(
    session: Session, *, status: SubscriberStatus | None, cursor: str | None, limit: int
) -> Page[Subscriber]:
    query = select(Subscriber)
    if status is not None:
        query = query.where(col(Subscriber.status) == status)
    return fetch_page(
        session,
        query,
        sort=SUBSCRIBER_SORTS["-created_at"],
        cursor=cursor,
        limit=limit,
        count=False,
    )


def all_subscribers(session: Session) -> Any:
    """Every subscriber still holding personal data, oldest first, streamed in batches."""
    query = (
        select(Subscriber)
        .where(col(Subscriber.status) != SubscriberStatus.erased)
        .order_by(col(Subscriber.created_at), col(Subscriber.id))
        .execution_options(yield_per=500)
    )
    return session.scalars(query)


def get_subscriber(session: Session, subscriber_id: str) -> Subscriber:
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        raise NotFound(f"No subscriber with id {subscriber_id!r}.")
    return subscriber


def erase_subscriber(session: Session, subscriber: Subscriber, now: datetime) -> Subscriber:
    """Art. 17 erasure: the email and client networks are overwritten, queued mail dropped.

    The row stays, anonymous, so counts by status and date remain right."""
    subscriber.email = None
    subscriber.status = SubscriberStatus.erased
    subscriber.erased_at = subscriber.erased_at or now
    session.execute(
        update(SubscriptionConsent)
        .where(col(SubscriptionConsent.subscriber_id) == subscriber.id)
        .values(client_network=None)
    )
    _cancel_queued_mail(session, subscriber.id)
    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.subscriber_id) == subscriber.id)
        .values(recipient=None, last_error=None)
    )
    session.flush()
    return subscriber

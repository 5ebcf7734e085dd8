"""Sign-up, confirmation, unsubscribe and erasure rules. Services flush; callers commit.

Each of them appends its event to the subscriber's consent ledger (`api.consent.ledger`)."""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import (
    Boolean,
    Row,
    ScalarSelect,
    Select,
    and_,
    bindparam,
    case,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session
from sqlmodel import col

from api.articles.models import Article, ArticleKind
from api.articles.service import visible_at
from api.consent.ledger import (
    Head,
    append_event,
    append_to,
    forget_networks,
    remember_wording,
    store_head,
)
from api.consent.models import ConsentEventKind
from api.core.db import insert_on_conflict, new_id
from api.core.errors import BadRequest, NotFound
from api.core.pagination import Page, fetch_page, sort_keys
from api.core.tables import table_of
from api.editorial.models import ArticleRevision
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
# What a consent record shows an admin: what was agreed to, where, when, and its fate.
CONSENT_FIELDS = (
    "policy_version",
    "policy_page_id",
    "policy_page_revision",
    "wording_hash",
    "source",
    "lists",
    "client_network",
    "consented_at",
    "confirmed_at",
    "withdrawn_at",
)
SUBSCRIBER_SORTS = sort_keys(Subscriber.id, created_at=Subscriber.created_at)
USED_LINK = "This link was already used or is no longer valid; nothing was changed."


def normalise_email(raw: str) -> str:
    """The address as stored and looked up: validated, IDNA/Unicode-normalised, and lower
    case throughout, so `Norm@EXAMPLE.com` and `norm@example.com` are one subscriber.

    email-validator lowercases only the domain (RFC 5321 leaves the local part's case to
    the receiving server); every mail provider in practice ignores it, and one person must
    not become two subscribers, so the local part is lowercased too (`str.lower`, Unicode
    aware). The unique constraint on `subscribers.email` then rejects case variants.

    Raises ValueError for CR/LF, over 254 characters, or a domain that cannot take mail
    (no dot, special-use names such as `localhost`). No DNS lookups."""
    if "\r" in raw or "\n" in raw:
        raise ValueError("an email address cannot contain line breaks")
    if len(raw) > MAX_EMAIL_LENGTH:
        raise ValueError(f"an email address has at most {MAX_EMAIL_LENGTH} characters")
    try:
        normalised = validate_email(raw, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None
    if len(normalised) > MAX_EMAIL_LENGTH:
        raise ValueError(f"an email address has at most {MAX_EMAIL_LENGTH} characters")
    return normalised


def _locked(session: Session, query: Select[Any]) -> Select[Any]:
    # SQLite serialises writers itself; PostgreSQL needs the row lock.
    return query.with_for_update() if session.get_bind().dialect.name != "sqlite" else query


# The cut-off for a subscriber that never unsubscribed: a value, not a missing clause, so
# the statement is the same for every subscriber.
NEVER = datetime(1970, 1, 1, tzinfo=UTC)


def _upsert_subscriber(
    session: Session, email: str, lists: list[str], now: datetime
) -> tuple[str, str, datetime | None, Head]:
    """Create the subscriber or update the one with this address, in one statement that
    writes a row either way; (id, status, unsubscribed_at, consent ledger head) as they
    are now.

    A confirmed subscriber keeps its status and lists; any other becomes pending with the
    lists asked for. The statement takes the row's lock (PostgreSQL) and cannot fail on
    the unique address, even when two sign-ups for a new address race."""
    subscribers = table_of(Subscriber)
    insert = insert_on_conflict(session, Subscriber).values(
        id=new_id(),
        email=email,
        status=SubscriberStatus.pending,
        lists=lists,
        created_at=now,
    )
    confirmed = subscribers.c.status == SubscriberStatus.confirmed
    upsert = insert.on_conflict_do_update(
        index_elements=[subscribers.c.email],
        set_={
            "status": case(
                (confirmed, subscribers.c.status),
                else_=literal(SubscriberStatus.pending.value, subscribers.c.status.type),
            ),
            "lists": case((confirmed, subscribers.c.lists), else_=insert.excluded.lists),
        },
    ).returning(
        subscribers.c.id,
        subscribers.c.status,
        subscribers.c.unsubscribed_at,
        subscribers.c.ledger_head,
        subscribers.c.ledger_length,
    )
    subscriber_id, status, unsubscribed_at, head, length = session.execute(upsert).one()
    return str(subscriber_id), str(status), unsubscribed_at, Head(head, length)


def _confirmation_recently_queued(
    session: Session,
    subscriber_id: str,
    now: datetime,
    resend_after: int,
    unsubscribed_at: datetime | None,
) -> bool:
    """An unsent confirmation, or one sent within `resend_after` seconds and since the last
    unsubscribe (its link names a consent that was withdrawn), exists."""
    query = select(col(OutboxMessage.id)).where(
        col(OutboxMessage.subscriber_id) == subscriber_id,
        col(OutboxMessage.kind) == CONFIRMATION,
        or_(
            col(OutboxMessage.status) == OutboxStatus.pending,
            and_(
                col(OutboxMessage.status) == OutboxStatus.sent,
                col(OutboxMessage.sent_at) >= now - timedelta(seconds=resend_after),
                col(OutboxMessage.sent_at) > (unsubscribed_at or NEVER),
            ),
        ),
    )
    return session.scalars(query.limit(1)).first() is not None


def _queue_confirmation(
    session: Session, subscriber_id: str, email: str, now: datetime, *, due: bool
) -> bool:
    """Queue a confirmation email when `due`; True when one was queued.

    `INSERT … SELECT … WHERE :due`: the statement is the same whether or not a row goes
    in, so the sign-up's work does not depend on the address's state."""
    outbox = table_of(OutboxMessage)
    row: dict[str, Any] = {
        "id": new_id(),
        "kind": CONFIRMATION,
        "subscriber_id": subscriber_id,
        "recipient": email,
        "status": OutboxStatus.pending.value,
        "attempts": 0,
        "created_at": now,
        "available_at": now,
    }
    values = select(*(literal(value, outbox.c[name].type) for name, value in row.items()))
    statement = (
        insert(outbox)
        .from_select(list(row), values.where(bindparam("due", due, Boolean)))
        .returning(outbox.c.id)
    )
    return session.execute(statement).first() is not None


ARTICLES = table_of(Article)
REVISIONS = table_of(ArticleRevision)


def _policy_page(slug: str | None, now: datetime) -> tuple[ScalarSelect[Any], ScalarSelect[Any]]:
    """The published privacy-policy page's id and its current revision number (0 when it has
    none: imported and not edited since), as subqueries of the consent's insert: NULL both
    when no page of that slug is published, so every sign-up runs the same statement."""
    page = and_(
        ARTICLES.c.slug == bindparam("policy_page_slug", slug or None, ARTICLES.c.slug.type),
        visible_at(
            bindparam("policy_page_now", now, ARTICLES.c.published_at.type), ArticleKind.page
        ),
    )
    page_id = select(ARTICLES.c.id).where(page).scalar_subquery()
    revision = (
        select(func.coalesce(func.max(REVISIONS.c.number), 0))
        .select_from(ARTICLES.outerjoin(REVISIONS, REVISIONS.c.article_id == ARTICLES.c.id))
        .where(page)
        .group_by(ARTICLES.c.id)
        .scalar_subquery()
    )
    return page_id, revision


def record_signup(
    session: Session,
    *,
    email: str,
    policy_version: str,
    policy_page_slug: str | None = None,
    consent_wording: str,
    source: str,
    lists: list[str],
    client_network: str | None,
    now: datetime,
    resend_after: int,
) -> bool:
    """Record a sign-up and queue its confirmation email; True when an email was queued.

    Every sign-up, whatever the address's state, runs the same statements in the same
    order: upsert the subscriber (a row written either way), look for a recent
    confirmation, insert the consent record (each sign-up's proof), keep the wording under
    its hash, append the `given` event to the consent ledger and store its head, and an
    INSERT … SELECT that queues the email only when one is due. A known address thus costs
    the database what a new one does, and the answer's timing cannot tell them apart.

    Confirmed addresses keep their status and lists (their new consent is recorded, no
    email is queued); a burst of sign-ups for one pending address queues one email
    (another only once `resend_after` has passed since the last was sent).

    The consent names the published privacy-policy page of `policy_page_slug` and its
    revision, when there is one."""
    subscriber_id, status, unsubscribed_at, head = _upsert_subscriber(session, email, lists, now)
    policy_page_id, policy_page_revision = _policy_page(policy_page_slug, now)
    recent = _confirmation_recently_queued(
        session, subscriber_id, now, resend_after, unsubscribed_at
    )
    consents = table_of(SubscriptionConsent)
    consent_id = new_id()
    digest = remember_wording(session, consent_wording, now)
    page_id, page_revision = session.execute(
        insert(consents)
        .values(
            id=consent_id,
            subscriber_id=subscriber_id,
            policy_version=policy_version,
            policy_page_id=policy_page_id,
            policy_page_revision=policy_page_revision,
            wording_hash=digest,
            source=source,
            lists=lists,
            client_network=client_network,
            consented_at=now,
        )
        .returning(consents.c.policy_page_id, consents.c.policy_page_revision)
    ).one()
    head = append_event(
        session,
        subscriber_id,
        head,
        ConsentEventKind.given,
        now,
        consent_id=consent_id,
        policy_version=policy_version,
        policy_page_id=page_id,
        policy_page_revision=page_revision,
        wording_hash=digest,
        source=source,
        lists=lists,
        client_network=client_network,
    )
    store_head(session, subscriber_id, head)
    due = status == SubscriberStatus.pending and not recent
    return _queue_confirmation(session, subscriber_id, email, now, due=due)


def confirm_subscription(
    session: Session,
    payload: dict[str, Any],
    now: datetime,
    *,
    client_network: str | None = None,
) -> Subscriber:
    """Activate the subscription a confirmation token names; 400 if used or withdrawn.
    The ledger's `confirmed` event names the consent and repeats what it agreed to."""
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
    append_to(
        session,
        subscriber,
        ConsentEventKind.confirmed,
        now,
        consent_id=consent.id,
        policy_version=consent.policy_version,
        policy_page_id=consent.policy_page_id,
        policy_page_revision=consent.policy_page_revision,
        wording_hash=consent.wording_hash,
        source="confirmation-link",
        lists=consent.lists,
        client_network=client_network,
    )
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


def _lock(session: Session, subscriber: Subscriber) -> None:
    """Hold the subscriber's row (PostgreSQL) before appending to its ledger."""
    if session.get_bind().dialect.name != "sqlite":
        session.refresh(subscriber, with_for_update=True)


def unsubscribe(
    session: Session,
    subscriber: Subscriber,
    now: datetime,
    *,
    source: str = "unsubscribe",
    client_network: str | None = None,
) -> Subscriber:
    """Withdraw consent and stop queued mail; repeating it changes nothing. The ledger's
    `withdrawn` event withdraws every consent standing (`source`: how)."""
    _lock(session, subscriber)
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
        append_to(
            session,
            subscriber,
            ConsentEventKind.withdrawn,
            now,
            source=source,
            lists=subscriber.lists,
            client_network=client_network,
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


def newest_consent_first() -> tuple[Any, Any]:
    return col(SubscriptionConsent.consented_at).desc(), col(SubscriptionConsent.id).desc()


def consents_of(
    session: Session, subscriber_ids: Iterable[str]
) -> dict[str, list[SubscriptionConsent]]:
    """The consent records of these subscribers, newest first, in one statement."""
    ids = list(dict.fromkeys(subscriber_ids))
    found: dict[str, list[SubscriptionConsent]] = {subscriber_id: [] for subscriber_id in ids}
    if not ids:
        return found
    query = (
        select(SubscriptionConsent)
        .where(col(SubscriptionConsent.subscriber_id).in_(ids))
        .order_by(col(SubscriptionConsent.subscriber_id), *newest_consent_first())
    )
    for consent in session.scalars(query):
        found[consent.subscriber_id].append(consent)
    return found


def export_rows(session: Session) -> Iterable[Row[Any]]:
    """Every subscriber still holding personal data, oldest first, each with its consent
    records newest first: one row per consent (a subscriber without any has one row, its
    consent columns NULL). One statement, streamed in batches.

    Each row has the subscriber's columns, then the consent's prefixed `consent_`."""
    consent_columns: list[Any] = [
        col(getattr(SubscriptionConsent, name)).label(f"consent_{name}") for name in CONSENT_FIELDS
    ]
    query = (
        select(
            col(Subscriber.id),
            col(Subscriber.email),
            col(Subscriber.status),
            col(Subscriber.lists),
            col(Subscriber.created_at),
            col(Subscriber.confirmed_at),
            col(Subscriber.unsubscribed_at),
            col(Subscriber.ledger_head),
            *consent_columns,
        )
        .outerjoin(
            SubscriptionConsent,
            col(SubscriptionConsent.subscriber_id) == col(Subscriber.id),
        )
        .where(col(Subscriber.status) != SubscriberStatus.erased)
        .order_by(col(Subscriber.created_at), col(Subscriber.id), *newest_consent_first())
        .execution_options(yield_per=500)
    )
    return session.execute(query)


def get_subscriber(session: Session, subscriber_id: str) -> Subscriber:
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        raise NotFound(f"No subscriber with id {subscriber_id!r}.")
    return subscriber


def erase_subscriber(session: Session, subscriber: Subscriber, now: datetime) -> Subscriber:
    """Art. 17 erasure: the email and client networks are overwritten, queued mail dropped.

    The row stays, anonymous, so counts by status and date remain right; so does the
    consent ledger, with an `erased` event, its networks cleared (they are outside the
    hashes, so the chain still verifies)."""
    _lock(session, subscriber)
    if subscriber.status != SubscriberStatus.erased:
        append_to(session, subscriber, ConsentEventKind.erased, now, source="erasure")
    forget_networks(session, subscriber.id)
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

"""Appending to and verifying the consent ledger. Services flush; callers commit.

Each subscriber has one chain: event n stores the hash of event n-1 (`prev_hash`, null for
the first) and its own `hash`, the SHA-256 of its canonical encoding (`canonical`). The
subscriber row keeps the chain's head and length. Editing, removing or reordering an event
with SQL afterwards breaks the chain, and `verify_ledger` names the first broken event.

What it cannot tell is a chain rewritten whole by someone who recomputes every hash: the
hashes are not keyed. `ledger_digest` (printed by `masthead consent verify`) is one digest
over every chain's head; kept somewhere else, it shows any change to the ledger since."""

import hashlib
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from api.consent.models import ConsentEvent, ConsentEventKind, ConsentWording
from api.core.db import insert_on_conflict, new_id
from api.core.tables import table_of
from api.subscriptions.models import Subscriber

ENCODING_VERSION = 1
# The fields an event's hash covers, besides the encoding's version and `prev_hash`.
HASHED_FIELDS = (
    "id",
    "subscriber_id",
    "seq",
    "kind",
    "occurred_at",
    "consent_id",
    "policy_version",
    "policy_page_id",
    "policy_page_revision",
    "wording_hash",
    "source",
    "lists",
    "client_commitment",
)
EVENTS = table_of(ConsentEvent)
SUBSCRIBERS = table_of(Subscriber)


def wording_hash(wording: str) -> str:
    """SHA-256 (hex) of the consent text as shown, UTF-8 encoded."""
    return hashlib.sha256(wording.encode()).hexdigest()


def client_commitment(nonce: str, network: str) -> str:
    return hashlib.sha256(f"{nonce}|{network}".encode()).hexdigest()


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def canonical(event: dict[str, Any]) -> bytes:
    """The bytes an event's hash is taken over: a JSON object of the hashed fields and
    `prev_hash`, keys sorted, no blanks, times in UTC with microseconds."""
    document: dict[str, Any] = {name: event.get(name) for name in HASHED_FIELDS}
    document["occurred_at"] = _timestamp(event["occurred_at"])
    document["lists"] = list(event.get("lists") or [])
    document["prev_hash"] = event.get("prev_hash")
    document["v"] = ENCODING_VERSION
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)


def event_hash(event: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(event)).hexdigest()


@dataclass(frozen=True)
class Head:
    """Where a subscriber's chain ends: the last event's hash and the number of events."""

    hash: str | None
    length: int


def append_event_row(
    subscriber_id: str,
    prev_hash: str | None,
    length: int,
    kind: str,
    occurred_at: datetime,
    fields: dict[str, Any],
) -> dict[str, Any]:
    """The row of the event after one of hash `prev_hash` at position `length`, its hash
    computed (the migration that carried old consents over writes rows with it too)."""
    network = fields.get("client_network")
    nonce = secrets.token_hex(16) if network else None
    event: dict[str, Any] = {
        "id": new_id(),
        "subscriber_id": subscriber_id,
        "seq": length + 1,
        "kind": kind,
        "occurred_at": occurred_at,
        "consent_id": None,
        "policy_version": None,
        "policy_page_id": None,
        "policy_page_revision": None,
        "wording_hash": None,
        "source": None,
        "lists": [],
        **fields,
        "client_network": network,
        "client_nonce": nonce,
        "client_commitment": client_commitment(nonce, network) if nonce and network else None,
        "prev_hash": prev_hash,
    }
    event["hash"] = event_hash(event)
    return event


def append_event(
    session: Session,
    subscriber_id: str,
    head: Head,
    kind: ConsentEventKind,
    occurred_at: datetime,
    **fields: Any,
) -> Head:
    """Insert the next event of the chain that ends at `head`; the new head, which the
    caller stores on the subscriber (`store_head`, or on the loaded row). The caller holds
    the subscriber's row (locked on PostgreSQL), so no other event is appended meanwhile."""
    event = append_event_row(subscriber_id, head.hash, head.length, kind.value, occurred_at, fields)
    session.execute(EVENTS.insert().values(**event))
    return Head(event["hash"], event["seq"])


def store_head(session: Session, subscriber_id: str, head: Head) -> None:
    session.execute(
        update(SUBSCRIBERS)
        .where(SUBSCRIBERS.c.id == subscriber_id)
        .values(ledger_head=head.hash, ledger_length=head.length)
    )


def append_to(
    session: Session,
    subscriber: Subscriber,
    kind: ConsentEventKind,
    occurred_at: datetime,
    **fields: Any,
) -> None:
    """`append_event` on a subscriber loaded in the session; its head is updated."""
    head = append_event(
        session,
        subscriber.id,
        Head(subscriber.ledger_head, subscriber.ledger_length),
        kind,
        occurred_at,
        **fields,
    )
    subscriber.ledger_head, subscriber.ledger_length = head.hash, head.length


def remember_wording(session: Session, wording: str, now: datetime) -> str:
    """Keep the text under its hash (once); the hash."""
    digest = wording_hash(wording)
    session.execute(
        insert_on_conflict(session, ConsentWording)
        .values(hash=digest, text=wording, first_seen_at=now)
        .on_conflict_do_nothing(index_elements=["hash"])
    )
    return digest


def forget_networks(session: Session, subscriber_id: str) -> None:
    """Erasure: the events' client networks and nonces go; their commitments (hashed)
    stay, so the chain still verifies."""
    session.execute(
        update(EVENTS)
        .where(EVENTS.c.subscriber_id == subscriber_id)
        .values(client_network=None, client_nonce=None)
    )


def events_of(session: Session, subscriber_id: str) -> list[ConsentEvent]:
    """A subscriber's chain, oldest first."""
    query = (
        select(ConsentEvent)
        .where(col(ConsentEvent.subscriber_id) == subscriber_id)
        .order_by(col(ConsentEvent.seq))
    )
    return list(session.scalars(query))


def wordings_of(session: Session, hashes: Iterable[str | None]) -> dict[str, str]:
    wanted = sorted({h for h in hashes if h})
    if not wanted:
        return {}
    query = select(ConsentWording).where(col(ConsentWording.hash).in_(wanted))
    return {wording.hash: wording.text for wording in session.scalars(query)}


@dataclass(frozen=True)
class Break:
    """The first event of a chain that does not verify, and why."""

    subscriber_id: str
    seq: int | None
    event_id: str | None
    reason: str

    def __str__(self) -> str:
        where = f"event {self.seq} ({self.event_id})" if self.event_id else "its head"
        return f"subscriber {self.subscriber_id}, {where}: {self.reason}"


@dataclass
class Verification:
    subscribers: int = 0
    events: int = 0
    breaks: list[Break] | None = None
    digest: str = ""


def _event_break(row: Any, expected_seq: int, expected_prev: str | None) -> str | None:
    if row.seq != expected_seq:
        return f"position {row.seq} where {expected_seq} was expected (an event is missing)"
    if row.prev_hash != expected_prev:
        return "its prev_hash is not the previous event's hash"
    if row.client_network is not None and (
        row.client_nonce is None
        or client_commitment(row.client_nonce, row.client_network) != row.client_commitment
    ):
        return "its client network does not match its commitment"
    if event_hash(row._asdict()) != row.hash:
        return "its content does not match its hash (the row was changed after it was written)"
    return None


def _chains(session: Session) -> Iterator[tuple[Any, list[Any]]]:
    """Each subscriber with its events in order: one statement, streamed."""
    query = (
        select(
            SUBSCRIBERS.c.id.label("owner"),
            SUBSCRIBERS.c.ledger_head,
            SUBSCRIBERS.c.ledger_length,
            *EVENTS.c,
        )
        .select_from(SUBSCRIBERS.outerjoin(EVENTS, EVENTS.c.subscriber_id == SUBSCRIBERS.c.id))
        .order_by(SUBSCRIBERS.c.id, EVENTS.c.seq)
        .execution_options(yield_per=1000)
    )
    owner: Any = None
    rows: list[Any] = []
    for row in session.execute(query):
        if owner is not None and row.owner != owner.owner:
            yield owner, rows
            rows = []
        owner = row
        if row.id is not None:
            rows.append(row)
    if owner is not None:
        yield owner, rows


def verify_ledger(session: Session) -> Verification:
    """Walk every chain; the first break of each broken chain, and the digest of all heads."""
    result = Verification(breaks=[])
    digest = hashlib.sha256()
    for owner, rows in _chains(session):
        result.subscribers += 1
        result.events += len(rows)
        digest.update(f"{owner.owner}:{owner.ledger_length}:{owner.ledger_head}\n".encode())
        found = _chain_break(owner, rows)
        if found is not None:
            assert result.breaks is not None
            result.breaks.append(found)
    orphans = session.execute(
        select(EVENTS.c.subscriber_id, EVENTS.c.seq, EVENTS.c.id)
        .where(EVENTS.c.subscriber_id.not_in(select(SUBSCRIBERS.c.id)))
        .limit(1)
    ).first()
    if orphans is not None:
        assert result.breaks is not None
        result.breaks.append(Break(orphans[0], orphans[1], orphans[2], "no such subscriber"))
    result.digest = digest.hexdigest()
    return result


def _chain_break(owner: Any, rows: list[Any]) -> Break | None:
    previous: str | None = None
    for expected_seq, row in enumerate(rows, start=1):
        reason = _event_break(row, expected_seq, previous)
        if reason is not None:
            return Break(owner.owner, row.seq, row.id, reason)
        previous = row.hash
    if len(rows) != owner.ledger_length or previous != owner.ledger_head:
        return Break(
            owner.owner,
            None,
            None,
            f"the subscriber's head names {owner.ledger_length} event(s) ending in "
            f"{owner.ledger_head}, the chain has {len(rows)} ending in {previous}",
        )
    return None

"""A sign-up is acknowledged only once stored: a 202 is sent after the subscriber, consent
and outbox rows are committed; a database that is away or busy is a 503 with
`Retry-After`, and leaves nothing half-written. Known and new addresses are answered, and
worked on, alike."""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.core.db import make_sessionmaker
from api.core.settings import Settings
from api.main import create_app
from api.subscriptions.models import OutboxMessage, Subscriber, SubscriptionConsent
from tests.conftest import FIXED_NOW
from tests.subscriptions.conftest import CLIENT_ADDRESS, Inbox, deliver, links, signup

TABLES = (Subscriber, SubscriptionConsent, OutboxMessage)


def row_counts(engine: Any) -> dict[str, int]:
    """Rows per sign-up table, read through a fresh session (committed data only)."""
    with make_sessionmaker(engine)() as session:
        return {
            model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in TABLES
        }


NOTHING = {"Subscriber": 0, "SubscriptionConsent": 0, "OutboxMessage": 0}
ONE_EACH = {"Subscriber": 1, "SubscriptionConsent": 1, "OutboxMessage": 1}


class SnapshotWhenAnswered:
    """Wraps the app: the moment a response starts, the committed rows are counted."""

    def __init__(self, app: ASGIApp, engine: Any) -> None:
        self.app = app
        self.engine = engine
        self.snapshots: list[tuple[int, dict[str, int]]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def snapshot_then_send(message: Message) -> None:
            if message["type"] == "http.response.start" and scope.get("method") == "POST":
                self.snapshots.append((message["status"], row_counts(self.engine)))
            await send(message)

        await self.app(scope, receive, snapshot_then_send)


def test_a_202_is_sent_only_once_the_rows_are_committed(app: Any, engine: Any) -> None:
    watched = SnapshotWhenAnswered(app, engine)
    with TestClient(watched, raise_server_exceptions=False, client=(CLIENT_ADDRESS, 1)) as client:
        response = signup(client, "first@example.com")
    assert response.status_code == 202
    # Read as the 202 left: no background task has had a chance to run.
    assert watched.snapshots == [(202, ONE_EACH)]
    with make_sessionmaker(engine)() as session:
        [subscriber] = session.scalars(select(Subscriber)).all()
        [consent] = session.scalars(select(SubscriptionConsent)).all()
        [message] = session.scalars(select(OutboxMessage)).all()
    assert (subscriber.email, subscriber.status) == ("first@example.com", "pending")
    assert consent.subscriber_id == subscriber.id and consent.consented_at == FIXED_NOW
    assert (message.subscriber_id, message.status) == (subscriber.id, "pending")


@contextmanager
def failing_at(engine: Any, table: str) -> Iterator[list[str]]:
    """While open, the first INSERT into `table` fails as if the server had gone away;
    yields the statements executed so far."""
    executed: list[str] = []

    def hook(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        executed.append(statement)
        inserts = [s for s in executed if s.startswith(f"INSERT INTO {table}")]
        if statement.startswith(f"INSERT INTO {table}") and len(inserts) == 1:
            raise OperationalError(statement, parameters, Exception("server closed the connection"))

    event.listen(engine, "before_cursor_execute", hook)
    try:
        yield executed
    finally:
        event.remove(engine, "before_cursor_execute", hook)


@pytest.mark.parametrize("address", ["new@example.com", "known@example.com"])
def test_a_failure_mid_signup_is_503_and_leaves_nothing_half_written(
    client: TestClient, engine: Any, address: str
) -> None:
    if address == "known@example.com":
        assert signup(client, address, lists=["weekly"]).status_code == 202
    before = row_counts(engine)
    with failing_at(engine, "outbox_messages") as executed:
        response = signup(client, address, lists=["daily"])
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "5"
    assert response.headers["content-type"] == "application/problem+json"
    # The failure came after the subscriber and consent rows were written...
    assert any(s.startswith("INSERT INTO subscribers") for s in executed)
    assert any(s.startswith("INSERT INTO subscription_consents") for s in executed)
    # ...and none of them is left once the database answers again.
    assert row_counts(engine) == before
    with make_sessionmaker(engine)() as session:
        assert [s.lists for s in session.scalars(select(Subscriber))] == (
            [["weekly"]] if before["Subscriber"] else []
        )
    assert signup(client, address, lists=["daily"]).status_code == 202
    after = row_counts(engine)
    assert after["Subscriber"] == 1
    assert after["SubscriptionConsent"] == before["SubscriptionConsent"] + 1


def _hold_sqlite_write_lock(engine: Any) -> sqlite3.Connection:
    holder = sqlite3.connect(engine.url.database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def test_a_signup_while_sqlite_is_locked_is_503_busy_and_stores_nothing(
    backend: str, settings: Settings, engine: Any
) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite's write lock")
    app = create_app(settings.model_copy(update={"sqlite_busy_timeout_ms": 50}), engine=engine)
    app.state.clock = lambda: FIXED_NOW
    with TestClient(app, raise_server_exceptions=False, client=(CLIENT_ADDRESS, 1)) as client:
        holder = _hold_sqlite_write_lock(engine)
        try:
            refused = signup(client, "locked@example.com")
        finally:
            holder.rollback()
            holder.close()
        assert refused.status_code == 503, refused.text
        assert refused.headers["retry-after"] == "1"
        assert refused.json()["type"].endswith("/busy")
        assert row_counts(engine) == NOTHING
        assert signup(client, "locked@example.com").status_code == 202
    assert row_counts(engine) == ONE_EACH


def test_a_signup_while_postgresql_is_away_is_503(backend: str, settings: Settings) -> None:
    if backend != "postgresql":
        pytest.skip("a PostgreSQL server that is not there")
    away = settings.model_copy(
        update={
            "database_url": "postgresql+psycopg://postgres@127.0.0.1:1/masthead",
            "database_connect_timeout": 1,
        }
    )
    app = create_app(away)
    app.state.clock = lambda: FIXED_NOW
    with TestClient(app, raise_server_exceptions=False, client=(CLIENT_ADDRESS, 1)) as client:
        response = signup(client, "outage@example.com")
    app.state.engine.dispose()
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "5"
    assert response.json()["type"].endswith("/unavailable")


def test_a_connection_lost_mid_signup_is_503_and_leaves_nothing_half_written(
    backend: str, client: TestClient, engine: Any
) -> None:
    if backend != "postgresql":
        pytest.skip("a PostgreSQL server that drops the connection")
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    executed: list[str] = []

    def hook(_conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        """The server ends the session's connection (as a restart or failover would) just
        before the consent row goes in; the statement then runs into the closed socket."""
        executed.append(statement)
        if statement.startswith("INSERT INTO subscription_consents"):
            with psycopg.connect(url, autocommit=True) as admin:
                pid = cursor.connection.info.backend_pid
                admin.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])

    event.listen(engine, "before_cursor_execute", hook)
    try:
        response = signup(client, "dropped@example.com")
    finally:
        event.remove(engine, "before_cursor_execute", hook)
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"]
    assert any(s.startswith("INSERT INTO subscribers") for s in executed)
    assert row_counts(engine) == NOTHING
    # The pool replaces the dead connection: the retry is stored.
    assert signup(client, "dropped@example.com").status_code == 202
    assert row_counts(engine) == ONE_EACH


# --- known and new addresses are alike ---------------------------------------------------


def arrange_every_state(client: TestClient, app: Any, inbox: Inbox) -> None:
    """pending@, confirmed@ and gone@ (unsubscribed) exist; nobody else."""
    assert signup(client, "pending@example.com").status_code == 202
    for address in ("confirmed@example.com", "gone@example.com"):
        assert signup(client, address).status_code == 202
        deliver(app)
        message = next(m for m in inbox.messages if m["To"] == address)
        assert client.get(links(message)["confirm"]).status_code == 200
    gone = next(m for m in inbox.messages if m["To"] == "gone@example.com")
    assert client.post(links(gone)["unsubscribe"]).status_code == 200


STATES = {
    "new": "new@example.com",
    "pending": "pending@example.com",
    "confirmed": "confirmed@example.com",
    "unsubscribed": "gone@example.com",
    "new, other case": "Other@EXAMPLE.com",
    "pending, other case": "PENDING@example.com",
}


def test_known_and_new_addresses_get_byte_identical_answers(
    client: TestClient, app: Any, inbox: Inbox
) -> None:
    arrange_every_state(client, app, inbox)
    answers = {state: signup(client, address) for state, address in STATES.items()}
    # Every answer has a request id of its own (X-Request-ID); nothing else may differ.
    shapes = {
        (
            r.status_code,
            r.content,
            tuple(sorted(h for h in r.headers.multi_items() if h[0] != "x-request-id")),
        )
        for r in answers.values()
    }
    assert len(shapes) == 1, shapes
    assert answers["new"].status_code == 202


def test_known_and_new_addresses_cost_the_database_the_same_statements(
    client: TestClient, app: Any, inbox: Inbox, count_statements: Any
) -> None:
    """The same statements in the same order, every one of them writing or able to: no
    early return for a known address, so its answer takes as long as a new one's."""
    arrange_every_state(client, app, inbox)
    signup(client, "warm-up@example.com")
    statements = {}
    for state, address in STATES.items():
        with count_statements() as counter:
            assert signup(client, address).status_code == 202
        statements[state] = counter.statements
    assert len({tuple(s) for s in statements.values()}) == 1, statements
    writes = [s for s in statements["confirmed"] if s.lstrip().upper().startswith("INSERT")]
    # subscriber, consent, its wording, its consent ledger event, outbox
    assert len(writes) == 5, statements["confirmed"]


def test_a_known_address_stays_as_it_was_and_gets_its_consent_recorded(
    client: TestClient, app: Any, inbox: Inbox, engine: Any
) -> None:
    arrange_every_state(client, app, inbox)
    deliver(app)
    sent = len(inbox.messages)
    for address in STATES.values():
        signup(client, address, lists=["late"])
    assert deliver(app) == 3  # new@, other@ and gone@ (pending@ had one already)
    assert len(inbox.messages) == sent + 3
    with make_sessionmaker(engine)() as session:
        by_email = {s.email: s for s in session.scalars(select(Subscriber))}
        consents = session.scalars(
            select(SubscriptionConsent).where(
                SubscriptionConsent.subscriber_id == by_email["confirmed@example.com"].id
            )
        ).all()
    assert set(by_email) == {
        "new@example.com",
        "pending@example.com",
        "confirmed@example.com",
        "gone@example.com",
        "other@example.com",
    }
    confirmed = by_email["confirmed@example.com"]
    assert (confirmed.status, confirmed.lists) == ("confirmed", [])
    assert len(consents) == 2  # the confirmed sign-up, and this one (not confirmed)
    assert by_email["gone@example.com"].status == "pending"
    assert by_email["pending@example.com"].lists == ["late"]

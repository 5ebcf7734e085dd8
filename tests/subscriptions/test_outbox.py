"""The outbox: durable across restarts, sent once, by the background sender too."""

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from api.core.db import make_sessionmaker
from api.core.settings import Settings
from api.main import create_app
from api.subscriptions.models import OutboxMessage
from tests.conftest import FIXED_NOW
from tests.subscriptions.conftest import Inbox, deliver, links, signup


def outbox(engine: Any) -> list[OutboxMessage]:
    with make_sessionmaker(engine)() as session:
        return list(session.scalars(select(OutboxMessage)))


def test_unsent_mail_survives_a_restart_and_is_sent_once(
    settings: Settings, engine: Any, inbox: Inbox
) -> None:
    first = create_app(settings, engine=engine)
    first.state.clock = lambda: FIXED_NOW
    with TestClient(first, raise_server_exceptions=False) as client:
        for n in range(3):
            assert signup(client, f"reader{n}@example.com").status_code == 202
    engine.dispose()  # the worker is gone; only the database remains
    assert [m.status for m in outbox(engine)] == ["pending"] * 3
    assert inbox.messages == []

    second = create_app(settings.model_copy(update={"outbox_sender": True}), engine=engine)
    second.state.clock = lambda: FIXED_NOW
    with TestClient(second, raise_server_exceptions=False) as client:
        # The sender's first pass runs at start-up.
        assert len(inbox.wait_for(3)) == 3
        assert deliver(second) == 0
        assert client.get(links(inbox.messages[0])["confirm"]).status_code == 200
    assert sorted(r[0] for r in inbox.recipients) == [
        "reader0@example.com",
        "reader1@example.com",
        "reader2@example.com",
    ]
    assert [m.status for m in outbox(engine)] == ["sent"] * 3
    assert deliver(second) == 0
    assert len(inbox.messages) == 3


def test_the_running_sender_sends_a_new_signup_promptly(
    settings: Settings, engine: Any, inbox: Inbox
) -> None:
    app = create_app(
        settings.model_copy(update={"outbox_sender": True, "outbox_poll_seconds": 3600}),
        engine=engine,
    )
    app.state.clock = lambda: FIXED_NOW
    with TestClient(app, raise_server_exceptions=False) as client:
        signup(client)
        # Polls an hour apart: only the nudge after the sign-up can send it in time.
        assert len(inbox.wait_for(1)) == 1


def test_a_failed_send_is_retried_later(settings: Settings, engine: Any, inbox: Inbox) -> None:
    app = create_app(settings.model_copy(update={"smtp_url": "smtp://127.0.0.1:1"}), engine)
    app.state.clock = lambda: FIXED_NOW
    with TestClient(app, raise_server_exceptions=False) as client:
        signup(client)
    assert deliver(app) == 0
    [message] = outbox(engine)
    assert (message.status, message.attempts) == ("pending", 1)
    assert message.last_error
    assert message.available_at > FIXED_NOW
    app.state.settings = settings
    assert deliver(app) == 0  # not due yet
    app.state.clock = lambda: message.available_at
    assert deliver(app) == 1
    assert len(inbox.messages) == 1

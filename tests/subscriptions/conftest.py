"""A real SMTP server on loopback, and helpers to sign up, deliver and read the mail."""

import asyncio
import email
import re
import socket
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from api.core.settings import Settings
from api.subscriptions.outbox import deliver_pending

CLIENT_ADDRESS = "203.0.113.77"


class Inbox:
    """The SMTP server's handler: every message received, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        with self._lock:
            self.messages.append(message)  # type: ignore[arg-type]
            self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """Poll (bounded) until `count` messages have arrived."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    handler.url = f"smtp://127.0.0.1:{controller.port}"  # type: ignore[attr-defined]
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture
def settings(settings: Settings, inbox: Inbox) -> Settings:
    """Mail goes to the loopback server; tests deliver the outbox themselves."""
    return settings.model_copy(
        update={"smtp_url": inbox.url, "outbox_sender": False}  # type: ignore[attr-defined]
    )


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False, client=(CLIENT_ADDRESS, 50000)) as c:
        yield c


def deliver(app: Any) -> int:
    """One outbox pass, as the background sender would run it."""
    return asyncio.run(
        deliver_pending(app.state.sessionmaker, app.state.settings, clock=app.state.clock)
    )


def signup(client: TestClient, address: str = "reader@example.com", **fields: Any) -> Any:
    body = {
        "email": address,
        "consent": True,
        "policy_version": "2026-01",
        "source": "/articles/clean-air",
        **fields,
    }
    return client.post("/v1/subscriptions", json=body)


def links(message: EmailMessage) -> dict[str, str]:
    """The confirm and unsubscribe links of a mail, as paths with their query."""
    text = message.get_content()  # type: ignore[no-untyped-call]
    found = {}
    for kind in ("confirm", "unsubscribe"):
        match = re.search(rf"https?://\S+/v1/subscriptions/{kind}\?token=\S+", text)
        assert match, f"no {kind} link in:\n{text}"
        url = urlsplit(match.group(0))
        found[kind] = f"{url.path}?{url.query}"
    return found

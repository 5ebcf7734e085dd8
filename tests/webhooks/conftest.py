"""A real HTTP receiver on loopback, webhook settings for tests, and helpers to run passes.

The receiver verifies every request as a real one would, with the Standard Webhooks library
(`standardwebhooks.Webhook(secret).verify(body, headers)`, against the wall clock), and
answers 401 to one that fails; the `receiver` fixture fails the test if any did.
"""

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from standardwebhooks import Webhook, WebhookVerificationError

from api.core.settings import Settings, load_settings
from api.main import create_app
from api.webhooks.admin import router as webhooks_router
from api.webhooks.delivery import Outcome, make_client
from api.webhooks.worker import webhook_pass
from tests.conftest import FIXED_NOW


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: Any = None  # what `Webhook.verify` returned: the parsed body


@dataclass
class Receiver:
    """Records every POST and verifies it with each of `secrets` (the hooks created for it:
    `whsec_` strings, or raw key bytes) until one passes. A verified request is answered
    `status` (with `location` on redirects); one no secret verifies is answered 401 and
    also listed in `rejected`, with the library's reasons."""

    port: int
    status: int = 200
    location: str | None = None
    secrets: list[str | bytes] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    rejected: list[tuple[Received, list[str]]] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None

    def verify(self, received: Received) -> list[str]:
        """Verify with each secret; [] once one passes, else why each failed."""
        reasons = []
        for secret in self.secrets:
            try:
                received.verified = Webhook(secret).verify(received.body, received.headers)
                return []
            except WebhookVerificationError as exc:
                reasons.append(str(exc))
        return reasons or ["no secret to verify with"]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/masthead"

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                received = Received(self.path, headers, body)
                reasons = receiver.verify(received)
                if reasons:
                    receiver.rejected.append((received, reasons))
                receiver.requests.append(received)
                receiver.arrived.set()
                self.send_response(401 if reasons else receiver.status)
                if receiver.location and not reasons:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver(port=0).start()
    yield running
    running.stop()
    assert running.rejected == [], "deliveries failed Standard Webhooks verification"


def webhook_settings(engine: Engine, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": engine.url.render_as_string(hide_password=False),
        "public_url": "http://testserver",
        "environment": "test",
        "webhook_allow_private": True,
        "webhook_worker": False,
        "webhook_max_attempts": 3,
        "webhook_disable_after": 2,
        "webhook_timeout_seconds": 5,
        **overrides,
    }
    return load_settings(**values)


@pytest.fixture
def settings(engine: Engine) -> Settings:
    return webhook_settings(engine)


def with_webhooks(app: Any) -> Any:
    """The app with the webhook admin routes, whether or not they are wired in yet."""
    if not any(getattr(r, "path", "").startswith("/v1/admin/webhooks") for r in app.routes):
        app.include_router(webhooks_router)
    return app


@pytest.fixture
def app(settings: Settings, engine: Engine) -> Any:
    app = with_webhooks(create_app(settings, engine=engine))
    app.state.clock = lambda: FIXED_NOW
    return app


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def run_pass(app: Any) -> Iterator[Any]:
    """`run_pass(now)`: one dispatch-and-deliver pass of the app's worker at a fixed time."""
    with make_client() as http:

        def run(now: datetime = FIXED_NOW, on: Any = None) -> list[Outcome]:
            target = on or app
            return webhook_pass(target.state.sessionmaker, target.state.settings, now, http)

        yield run

"""A WebSub hub on loopback that records the pings it gets, settings naming it, and a helper
to run the app's WebSub pass at a fixed time."""

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from sqlalchemy import Engine

from api.core.settings import Settings, load_settings
from api.webhooks.delivery import Outcome, make_client
from api.websub.worker import websub_pass
from tests.conftest import FIXED_NOW


@dataclass
class Ping:
    path: str
    content_type: str
    form: dict[str, list[str]]


@dataclass
class Hub:
    """Answers each POST with the next of `statuses` (then 204), recording it."""

    statuses: list[int] = field(default_factory=list)
    pings: list[Ping] = field(default_factory=list)
    port: int = 0
    arrived: threading.Condition = field(default_factory=threading.Condition)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hub"

    def topics(self) -> set[str]:
        """The `hub.url` of every ping so far (each ping names one)."""
        return {ping.form["hub.url"][0] for ping in self.pings}

    def wait_for(self, count: int, timeout: float) -> bool:
        """Block until `count` pings have come (True), or `timeout` seconds passed."""
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.pings) >= count, timeout)

    def start(self) -> "Hub":
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with hub.arrived:
                    hub.pings.append(
                        Ping(
                            self.path,
                            self.headers.get("Content-Type", ""),
                            parse_qs(body.decode("ascii"), strict_parsing=True),
                        )
                    )
                    status = hub.statuses.pop(0) if hub.statuses else 204
                    hub.arrived.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


@pytest.fixture
def hub() -> Iterator[Hub]:
    running = Hub().start()
    yield running
    running.stop()


def websub_settings(engine: Engine, hub: Hub | None, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": engine.url.render_as_string(hide_password=False),
        "public_url": "http://testserver",
        "environment": "test",
        "webhook_worker": False,
        "webhook_allow_private": True,
        "webhook_max_attempts": 3,
        "webhook_timeout_seconds": 5,
        **({"websub_hub": hub.url} if hub else {}),
        **overrides,
    }
    return load_settings(**values)


@pytest.fixture
def settings(engine: Engine, hub: Hub) -> Settings:
    return websub_settings(engine, hub)


@pytest.fixture
def run_pass(app: Any) -> Iterator[Any]:
    """`run_pass(now)`: one queue-and-ping pass of the app's WebSub worker at a fixed time."""
    with make_client() as http:

        def run(now: datetime = FIXED_NOW) -> list[Outcome]:
            return websub_pass(app.state.sessionmaker, app.state.settings, now, http)

        yield run

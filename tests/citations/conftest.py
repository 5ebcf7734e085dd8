"""Cited pages served by a real HTTP server on loopback, settings that let the checker reach
it (the test-only `webhook_allow_private`), and a helper to run checker passes."""

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.citations.checker import check_pass, make_client
from api.core.fetch import Probe
from api.core.settings import Settings, load_settings
from api.main import create_app
from tests.conftest import FIXED_NOW

HUGE_BYTES = 20 * 1024 * 1024


@dataclass
class Asked:
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class CitedSite:
    """Pages with fixed behaviours, each request recorded:
    `/ok` 200; `/gone` 404; `/flaky` `flaky_status` (500 until a test changes it);
    `/moved` a 302 to `moved_to`; `/loop` a 302 to itself; `/no-head` 405 to HEAD, 200 to
    GET; `/slow` answers nothing until the test ends; `/huge` 405 to HEAD, then a 200 GET
    whose body (20 MiB, whatever the `Range`) goes on until the client hangs up."""

    port: int = 0
    flaky_status: int = 500
    moved_to: str = "/ok"
    asked: list[Asked] = field(default_factory=list)
    huge_sent: int = 0
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def paths(self) -> list[tuple[str, str]]:
        return [(a.method, a.path) for a in self.asked]

    def start(self) -> "CitedSite":
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_HEAD(self) -> None:
                self.answer()

            def do_GET(self) -> None:
                self.answer()

            def answer(self) -> None:
                path = self.path.split("?", 1)[0]
                headers = {k.lower(): v for k, v in self.headers.items()}
                site.asked.append(Asked(self.command, path, headers))
                site.arrived.set()
                if path == "/slow":
                    site.release.wait(30)
                    return
                if path == "/huge" and self.command == "GET":
                    self.send_response(200)
                    self.send_header("Content-Length", str(HUGE_BYTES))
                    self.end_headers()
                    chunk = b"\0" * 65536
                    try:
                        while site.huge_sent < HUGE_BYTES:
                            self.wfile.write(chunk)
                            site.huge_sent += len(chunk)
                    except OSError:
                        pass
                    self.close_connection = True
                    return
                status, location = site.route(path, self.command)
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def route(self, path: str, method: str) -> tuple[int, str | None]:
        if path == "/ok":
            return 200, None
        if path == "/flaky":
            return self.flaky_status, None
        if path == "/moved":
            return 302, self.moved_to
        if path == "/loop":
            return 302, "/loop"
        if path in ("/no-head", "/huge"):
            return (405 if method == "HEAD" else 200), None
        return 404, None

    def stop(self) -> None:
        self.release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def site() -> Iterator[CitedSite]:
    running = CitedSite().start()
    yield running
    running.stop()


@pytest.fixture
def settings(engine: Engine) -> Settings:
    return load_settings(
        database_url=engine.url.render_as_string(hide_password=False),
        public_url="http://testserver",
        environment="test",
        webhook_worker=False,
        webhook_allow_private=True,  # the cited pages are on loopback
        link_check_timeout_seconds=5,
        link_check_failures=3,
        link_check_retry_hours=24,
        link_check_interval_days=7,
    )


@pytest.fixture
def app(settings: Settings, engine: Engine) -> Any:
    app = create_app(settings, engine=engine)
    app.state.clock = lambda: FIXED_NOW
    return app


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def run_pass(app: Any) -> Iterator[Callable[..., list[tuple[str, Probe]]]]:
    """`run_pass(now, **settings)`: one checker pass of the app at a fixed time."""
    with make_client() as http:

        def run(now: datetime = FIXED_NOW, **overrides: Any) -> list[tuple[str, Probe]]:
            settings = app.state.settings.model_copy(update=overrides)
            return check_pass(app.state.sessionmaker, settings, now, http)

        yield run


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with make_client() as client:
        yield client

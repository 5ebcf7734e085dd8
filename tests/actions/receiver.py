"""A tiny HTTP server on loopback standing in for an action's destination (ActBlue, Action
Network): it records the requests that reach it."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]


@dataclass
class Receiver:
    origin: str
    requests: list[Received] = field(default_factory=list)


@contextmanager
def receiver() -> Iterator[Receiver]:
    """A server on 127.0.0.1 (a free port), answering 200 to every GET; stopped after."""
    found: list[Received] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}))
            body = b"thank you"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Receiver(f"http://127.0.0.1:{server.server_address[1]}", found)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

"""A request uvicorn cannot parse never reaches the app; `masthead serve` still answers it
with a problem document (not uvicorn's plain text)."""

import json
import socket
from pathlib import Path

import pytest

from tests.cli.live import live_server, operator_env

MALFORMED = [
    b"GARBAGE\r\n\r\n",  # no method, target or version
    b"GET /v1/articles HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",  # a header without a colon
    b"GET /v1/articles HTTP/1.1\r\nHo st: x\r\n\r\n",  # a space in a header name
    b"GET /v1/art\x01icles HTTP/1.1\r\nHost: x\r\n\r\n",  # a control character in the target
]


def _exchange(port: int, raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(raw)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    return received


@pytest.mark.parametrize("protocol", ["httptools", "h11"])
def test_a_malformed_request_gets_a_problem_document(
    tmp_path: Path, protocol: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = operator_env(f"sqlite:///{tmp_path / 'wire.db'}", MASTHEAD_LOG_LEVEL="warning")
    if protocol == "h11":
        # The fallback when httptools is missing: hide it from the server's interpreter.
        shim = tmp_path / "no_httptools"
        (shim / "httptools").mkdir(parents=True)
        (shim / "httptools" / "__init__.py").write_text("raise ImportError('hidden')\n")
        env["PYTHONPATH"] = f"{shim}:{env['PYTHONPATH']}"
    with live_server(env, tmp_path, "--no-demo") as server:
        for raw in MALFORMED:
            answer = _exchange(server.port, raw)
            head, _, body = answer.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = dict(line.lower().split(": ", 1) for line in lines[1:])
            assert lines[0].startswith("HTTP/1.1 400"), (raw, answer)
            assert headers["content-type"] == "application/problem+json", answer
            problem = json.loads(body)
            assert problem["type"].endswith("/bad-request")
            assert problem["status"] == 400
            assert problem["detail"]
        assert "Traceback" not in server.output()

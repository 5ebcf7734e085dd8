"""A real `masthead` process for tests: commands run as an operator runs them, and a live
`masthead serve` on a free loopback port."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

READY_WITHIN_SECONDS = 60
ROOT = Path(__file__).resolve().parents[2]
# The console script an operator runs (installed by `make`), else the same app as a module.
SCRIPT = Path(sys.executable).parent / "masthead"
MASTHEAD = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "api.cli"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def operator_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment minus any MASTHEAD_* setting of the caller's, plus these."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MASTHEAD_", "_MASTHEAD_"))}
    # `python -m api.cli` from another directory still finds the package.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return {**env, "MASTHEAD_DATABASE_URL": database_url, **extra}


def masthead(
    *args: str, env: dict[str, str], cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run `masthead ARGS` to completion (cwd: a directory with no .env file)."""
    return subprocess.run(
        [*MASTHEAD, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


@dataclass
class LiveServer:
    base: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def live_server(env: dict[str, str], cwd: Path, *args: str) -> Iterator[LiveServer]:
    """`masthead serve ARGS` on a free port until the block ends; its stdout and stderr go
    to `cwd/serve-PORT.log`."""
    port = free_port()
    log = cwd / f"serve-{port}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*MASTHEAD, "serve", "--port", str(port), *args],
            env=env,
            cwd=cwd,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(f"http://127.0.0.1:{port}", port, process, log)
    try:
        deadline = time.monotonic() + READY_WITHIN_SECONDS
        while True:
            assert process.poll() is None, server.output()
            try:
                if httpx.get(f"{server.base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not become ready\n" + server.output()
            time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

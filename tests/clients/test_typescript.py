"""The TypeScript client (clients/typescript): its generated types are current, it compiles
with `tsc --strict` (the example program too, reading default fields without `?.` or `!`),
and its node tests pass against a live `masthead serve` holding the demo content.

npm dependencies are the ones pinned in clients/typescript/package-lock.json, installed with
`npm ci` into clients/typescript/node_modules/ (git-ignored) whenever the lock changed.
Skipped only without node and npm. `make client-test` runs this file alone.
"""

import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "clients" / "typescript"
BIN = CLIENT / "node_modules" / ".bin"
README = ROOT / "README.md"
CLIENT_SECTION = re.compile(
    r"<!-- frontend: the TypeScript client .*?-->(.*?)<!-- end frontend: the TypeScript client -->",
    re.S,
)

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="node and npm are needed to build and test the TypeScript client",
)


def run(
    *args: str, cwd: Path = CLIENT, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def installed() -> Path:
    """`npm ci` of the pinned dependencies, unless node_modules holds that lock already."""
    digest = hashlib.sha256((CLIENT / "package-lock.json").read_bytes()).hexdigest()
    stamp = CLIENT / "node_modules" / ".lock-sha256"
    if not (stamp.exists() and stamp.read_text() == digest):
        done = run("npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts")
        assert done.returncode == 0, done.stdout + done.stderr
        stamp.write_text(digest)
    return BIN


@pytest.fixture(scope="module")
def compiled(installed: Path) -> Path:
    done = run(str(installed / "tsc"), "--strict", "-p", "tsconfig.json")
    assert done.returncode == 0, done.stdout + done.stderr
    return CLIENT / "dist"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`masthead serve` on a free loopback port, on a new SQLite database (it loads the
    demo content), allowing 3 failed authentications per address so a test sees a 429."""
    where = tmp_path_factory.mktemp("client-server")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASTHEAD_")}
    env.update(
        MASTHEAD_DATABASE_URL=f"sqlite:///{where / 'masthead.db'}",
        MASTHEAD_LOG_LEVEL="warning",
        MASTHEAD_AUTH_FAILURE_LIMIT="3",
        MASTHEAD_WEBHOOK_WORKER="false",
        MASTHEAD_OUTBOX_SENDER="false",
        PYTHONPATH=str(ROOT),
    )
    log = (where / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
        cwd=where, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            assert process.poll() is None, (where / "serve.log").read_text()
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        else:
            pytest.fail("masthead serve did not become ready")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_generated_types_are_current(installed: Path, tmp_path: Path) -> None:
    """The committed src/schema.ts is what openapi-typescript makes of openapi/openapi.json
    (`make clients` regenerates both from the app)."""
    fresh = tmp_path / "schema.ts"
    document = ROOT / "openapi" / "openapi.json"
    done = run(str(installed / "openapi-typescript"), str(document), "--output", str(fresh))
    assert done.returncode == 0, done.stdout + done.stderr
    assert fresh.read_text() == (CLIENT / "src" / "schema.ts").read_text(), (
        "clients/typescript/src/schema.ts is stale: run `make clients` and commit it"
    )


def test_the_readme_snippet_is_the_example_that_compiles() -> None:
    [section] = CLIENT_SECTION.findall(README.read_text())
    [snippet] = re.findall(r"```ts\n(.*?)```", section, re.S)
    assert snippet == (CLIENT / "examples" / "strict.ts").read_text()


def test_strict_example_compiles_and_runs(compiled: Path, live: str) -> None:
    """tsc --strict compiled it (the fixture); it prints the demo article's title and tag."""
    done = run(
        "node", str(compiled / "examples" / "strict.js"), env={**os.environ, "MASTHEAD_URL": live}
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (
        "Russia Refuses To Act Over Chechnya's Anti-Gay Purge chechen-anti-gay-purge" in done.stdout
    )
    assert "404 Not found" in done.stdout


def test_client_tests_pass_against_a_live_server(compiled: Path, live: str) -> None:
    tests = sorted(str(path) for path in (compiled / "tests").glob("*.test.js"))
    done = run("node", "--test", *tests, env={**os.environ, "MASTHEAD_URL": live})
    print(done.stdout)  # shown with `pytest -s`
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"^# fail 0$", done.stdout, re.M), done.stdout
    assert re.search(r"^# skipped 0$", done.stdout, re.M), done.stdout

"""Two real server processes on one database: a write through one is read through the other
at once, response caches warm on both (no shared memory between them)."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from api.auth.models import Role
from api.auth.service import issue_token
from api.core.db import make_sessionmaker
from tests.conftest import FIXED_NOW

READY_WITHIN_SECONDS = 30


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def server(database_url: str) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "MASTHEAD_DATABASE_URL": database_url, "MASTHEAD_LOG_LEVEL": "warning"}
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--no-demo", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_WITHIN_SECONDS
        while True:
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not become ready"
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_a_write_through_one_worker_is_read_through_the_other_at_once(engine):
    with make_sessionmaker(engine)() as session, session.begin():
        _row, token = issue_token(session, name="editor", role=Role.editor, now=FIXED_NOW)
    auth = {"Authorization": f"Bearer {token}"}
    url = engine.url.render_as_string(hide_password=False)
    with server(url) as writer, server(url) as reader:
        created = httpx.post(
            f"{writer}/v1/admin/articles",
            headers=auth,
            json={"title": "Across Workers", "body_html": "<p>One.</p>", "tags": ["crossing"]},
        )
        assert created.status_code == 201, created.text
        article_id = created.json()["data"]["id"]
        # Warm the reader's response cache before the article is published.
        assert httpx.get(f"{reader}/v1/articles").json()["data"] == []
        assert httpx.get(f"{reader}/v1/articles").json()["data"] == []
        published = httpx.post(f"{writer}/v1/admin/articles/{article_id}/publish", headers=auth)
        assert published.status_code == 200, published.text
        listed = httpx.get(f"{reader}/v1/articles").json()["data"]
        assert [a["title"] for a in listed] == ["Across Workers"]

        current = httpx.get(f"{writer}/v1/admin/articles/{article_id}", headers=auth)
        patched = httpx.patch(
            f"{writer}/v1/admin/articles/{article_id}",
            headers={**auth, "If-Match": current.headers["etag"]},
            json={"title": "Corrected Across Workers"},
        )
        assert patched.status_code == 200, patched.text
        one = httpx.get(f"{reader}/v1/articles/{listed[0]['slug']}")
        assert one.json()["data"]["title"] == "Corrected Across Workers"
        tags = httpx.get(f"{reader}/v1/tags/crossing").json()["data"]
        assert tags["article_count"] == 1

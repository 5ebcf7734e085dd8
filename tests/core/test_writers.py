"""Writers under contention: they take turns (queued in each process, retried against the
others), answer 503 "busy" with Retry-After only past their budget, never 500, and every write
acknowledged is stored. Background passes that meet a locked database log one warning line."""

import asyncio
import logging
import sqlite3
import threading
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from api.core.db import make_engine
from api.core.settings import load_settings
from api.core.writers import writer_queue
from api.main import create_app
from api.subscriptions.outbox import OutboxSender
from api.webhooks.worker import run_webhook_worker
from tests.cli.live import live_server, operator_env
from tests.conftest import FIXED_NOW

WRITERS, WRITES_EACH, READERS, READS_EACH = 12, 4, 6, 15


def _hold_write_lock(engine: Engine) -> sqlite3.Connection:
    """SQLite's write lock, taken by a connection of its own (as another process would)."""
    holder = sqlite3.connect(engine.url.database or "", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def _signup(email: str) -> dict[str, Any]:
    return {"email": email, "consent": True, "policy_version": "2026-01", "source": "/t"}


async def _asgi_client(app: Any) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def test_writers_queue_in_the_process_holding_no_connection_and_all_get_their_turn(
    backend: str, settings: Any, engine: Engine, as_: Any
) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite's write lock")
    app = create_app(settings, engine=engine)
    app.state.clock = lambda: FIXED_NOW
    queue = writer_queue(engine)
    assert queue is not None
    count = 6

    async def scenario() -> tuple[list[httpx.Response], int, int]:
        holder = _hold_write_lock(engine)
        async with await _asgi_client(app) as http:
            posts = [
                asyncio.create_task(
                    http.post(
                        "/v1/admin/articles",
                        json={"title": f"Queued {n}", "body_html": "<p>One.</p>"},
                        headers=as_("editor"),
                    )
                )
                for n in range(count)
            ]
            # One request has its turn (retrying BEGIN IMMEDIATE); the others wait in line.
            for _ in range(500):
                if queue.waiting == count - 1:
                    break
                await asyncio.sleep(0.01)
            waiting, connections = queue.waiting, engine.pool.checkedout()  # type: ignore[attr-defined]
            holder.rollback()
            holder.close()
            return await asyncio.gather(*posts), waiting, connections

    answers, waiting, connections = asyncio.run(scenario())
    assert waiting == count - 1
    assert connections <= 1  # the one whose turn it is; those in line hold none
    assert [a.status_code for a in answers] == [201] * count, [a.text for a in answers]
    listed = _admin_titles(app, as_)
    assert sorted(listed) == sorted(f"Queued {n}" for n in range(count))


def _admin_titles(app: Any, as_: Any) -> list[str]:
    async def fetch() -> list[str]:
        async with await _asgi_client(app) as http:
            page = await http.get("/v1/admin/articles?limit=100", headers=as_("editor"))
            assert page.status_code == 200, page.text
            return [a["title"] for a in page.json()["data"]]

    return asyncio.run(fetch())


def test_writers_past_their_budget_are_503_busy_in_line_or_at_begin_and_write_nothing(
    backend: str, settings: Any, engine: Engine, as_: Any
) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite's write lock")
    app = create_app(settings.model_copy(update={"sqlite_busy_timeout_ms": 100}), engine=engine)
    app.state.clock = lambda: FIXED_NOW

    async def scenario() -> list[httpx.Response]:
        async with await _asgi_client(app) as http:
            writes = [
                http.post(
                    "/v1/admin/articles",
                    json={"title": f"Refused {n}", "body_html": "<p>One.</p>"},
                    headers=as_("editor"),
                )
                for n in range(3)
            ] + [
                http.post("/v1/subscriptions", json=_signup(f"r{n}@example.com")) for n in range(3)
            ]
            return list(await asyncio.gather(*writes))

    holder = _hold_write_lock(engine)
    try:
        refused = asyncio.run(scenario())
    finally:
        holder.rollback()
        holder.close()
    for answer in refused:
        assert answer.status_code == 503, answer.text
        assert answer.headers["retry-after"] == "1"
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["type"].endswith("/busy")
    assert _admin_titles(app, as_) == []


def test_concurrent_writers_and_readers_on_two_workers_lose_nothing_and_never_fail(
    engine: Engine, as_: Any, tmp_path: Path
) -> None:
    """A real `masthead serve --workers 2`: writers (article creates, sign-ups) and readers at
    once. Every answer is a success; every acknowledged write is there afterwards, once."""
    url = engine.url.render_as_string(hide_password=False)
    env = operator_env(
        url,
        MASTHEAD_LOG_LEVEL="warning",
        MASTHEAD_SUBSCRIPTION_LIMIT_PER_ADDRESS="100000",
        # Generous, so a slow machine still gives every writer its turn: what is tested is
        # that they take turns instead of failing, not how fast.
        MASTHEAD_SQLITE_BUSY_TIMEOUT_MS="60000",
        MASTHEAD_DATABASE_POOL_TIMEOUT="30",
        # PostgreSQL: room for every client at once (the in-flight bound follows the pool).
        MASTHEAD_DATABASE_POOL_SIZE=str(WRITERS + READERS),
    )
    run = uuid.uuid4().hex[:8]
    answers: list[tuple[str, int | str, str]] = []
    created: list[tuple[str, str]] = []
    signed_up: list[str] = []
    lock = threading.Lock()

    def writer(base: str, number: int) -> None:
        with httpx.Client(base_url=base, timeout=90) as http:
            for n in range(WRITES_EACH):
                title = f"Contended {run} {number}-{n}"
                try:
                    if n % 2:
                        email = f"c-{run}-{number}-{n}@example.com"
                        answer = http.post("/v1/subscriptions", json=_signup(email))
                        if answer.status_code == 202:
                            with lock:
                                signed_up.append(email)
                    else:
                        answer = http.post(
                            "/v1/admin/articles",
                            json={"title": title, "body_html": "<p>Contended.</p>"},
                            headers=as_("editor"),
                        )
                        if answer.status_code == 201:
                            with lock:
                                created.append((answer.json()["data"]["id"], title))
                except httpx.HTTPError as exc:
                    with lock:
                        answers.append(("write", type(exc).__name__, ""))
                    continue
                with lock:
                    answers.append(("write", answer.status_code, answer.text[:200]))

    def reader(base: str) -> None:
        with httpx.Client(base_url=base, timeout=90) as http:
            for n in range(READS_EACH):
                path = "/v1/articles" if n % 2 else "/v1/tags"
                try:
                    answer = http.get(path)
                    body = answer.json()
                    ok = answer.status_code == 200 and isinstance(body.get("data"), list)
                except (httpx.HTTPError, ValueError) as exc:
                    with lock:
                        answers.append(("read", type(exc).__name__, ""))
                    continue
                with lock:
                    answers.append(
                        ("read", answer.status_code if ok else "bad body", answer.text[:200])
                    )

    with live_server(env, tmp_path, "--no-demo", "--workers", "2") as server:
        threads = [
            threading.Thread(target=writer, args=(server.base, i)) for i in range(WRITERS)
        ] + [threading.Thread(target=reader, args=(server.base,)) for _ in range(READERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=240)
        assert not any(thread.is_alive() for thread in threads), "clients did not finish"
        log = server.output()

        with httpx.Client(base_url=server.base, timeout=30) as http:
            statuses = Counter((kind, status) for kind, status, _ in answers)
            assert statuses == {
                ("write", 201): WRITERS * WRITES_EACH // 2,
                ("write", 202): WRITERS * WRITES_EACH // 2,
                ("read", 200): READERS * READS_EACH,
            }, [a for a in answers if a[1] not in (200, 201, 202)][:5]
            for article_id, title in created:
                got = http.get(f"/v1/admin/articles/{article_id}", headers=as_("editor"))
                assert got.status_code == 200 and got.json()["data"]["title"] == title
            titles = Counter(
                a["title"]
                for a in http.get("/v1/admin/articles?limit=100", headers=as_("editor")).json()[
                    "data"
                ]
            )
            assert titles == Counter(title for _, title in created)
            emails = Counter(
                s["email"]
                for s in http.get("/v1/admin/subscribers?limit=100", headers=as_("admin")).json()[
                    "data"
                ]
            )
            assert emails == Counter(signed_up)
    assert "Traceback" not in log, log


def _busy_engine(engine: Engine) -> Engine:
    """An engine on the same SQLite file whose writers give up after 50 ms."""
    url = engine.url.render_as_string(hide_password=False)
    return make_engine(load_settings(database_url=url, sqlite_busy_timeout_ms=50))


def _one_warning_per_pass(caplog: pytest.LogCaptureFixture, logger: str, what: str) -> None:
    records = [r for r in caplog.records if r.name == logger and r.levelno >= logging.WARNING]
    assert records, f"no {what} pass ran"
    for record in records:
        assert record.levelno == logging.WARNING
        assert record.exc_info is None
        assert record.getMessage() == (
            f"{what} pass skipped: the database is locked by other writers; retrying at the "
            "next poll"
        )


def _until_logged(caplog: pytest.LogCaptureFixture, logger: str) -> Any:
    async def wait() -> None:
        for _ in range(1000):
            if any(r.name == logger for r in caplog.records):
                return
            await asyncio.sleep(0.01)

    return wait()


def test_background_passes_on_a_locked_database_log_one_warning_line_not_a_traceback(
    backend: str, settings: Any, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite's write lock")
    quick = _busy_engine(engine)
    app = create_app(
        settings.model_copy(update={"webhook_poll_seconds": 0.05, "outbox_poll_seconds": 0.05}),
        engine=quick,
    )
    caplog.set_level(logging.WARNING)

    async def scenario() -> None:
        stop = asyncio.Event()
        webhooks = asyncio.create_task(run_webhook_worker(app, stop))
        await _until_logged(caplog, "masthead.webhooks")
        stop.set()
        await asyncio.wait_for(webhooks, 30)
        sender = OutboxSender(app.state.sessionmaker, app.state.settings, lambda: FIXED_NOW)
        sender.start()
        await _until_logged(caplog, "masthead.mail")
        await sender.stop()

    holder = _hold_write_lock(engine)
    try:
        asyncio.run(scenario())
    finally:
        holder.rollback()
        holder.close()
        quick.dispose()
    _one_warning_per_pass(caplog, "masthead.webhooks", "webhook")
    _one_warning_per_pass(caplog, "masthead.mail", "outbox")

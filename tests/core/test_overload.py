"""Overload is shed, not queued: a bound on requests in flight, bounded waits for the
database, SQLite writers that take the lock up front and answer 503 "busy" past its budget."""

import asyncio
import sqlite3
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.types import Receive, Scope, Send

from api.core.overload import InFlightLimit
from api.main import create_app
from tests.conftest import FIXED_NOW


def test_requests_past_the_bound_get_503_at_once_and_liveness_still_answers() -> None:
    release = asyncio.Event()
    entered = asyncio.Event()

    async def slow_app(scope: Scope, receive: Receive, send: Send) -> None:
        entered.set()
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"done"})

    limited = InFlightLimit(slow_app, limit=1)

    async def scenario() -> tuple[httpx.Response, httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=limited)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            first = asyncio.create_task(http.get("/v1/articles"))
            await entered.wait()
            shed = await http.get("/v1/articles")
            # /healthz is exempt: it reaches the app (which answers once released).
            health = asyncio.create_task(http.get("/healthz"))
            await asyncio.sleep(0)
            release.set()
            return await first, shed, await health

    first, shed, health = asyncio.run(scenario())
    assert first.status_code == 200
    assert shed.status_code == 503
    assert shed.headers["retry-after"] == "1"
    assert shed.headers["content-type"] == "application/problem+json"
    assert shed.json()["type"].endswith("/overloaded")
    assert health.status_code == 200
    assert limited.in_flight == 0 and limited.shed == 1


def test_the_app_sheds_past_its_setting(settings: Any, engine: Any) -> None:
    app = create_app(settings.model_copy(update={"max_in_flight": 1}), engine=engine)
    limit = next(m for m in app.user_middleware if m.cls is InFlightLimit)
    assert limit.kwargs["limit"] == 1


def _hold_sqlite_write_lock(engine: Any) -> sqlite3.Connection:
    holder = sqlite3.connect(engine.url.database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def test_a_writer_that_cannot_get_the_lock_is_503_busy_and_writes_nothing(
    backend: str, settings: Any, engine: Any, as_: Any
) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite's write lock")
    app = create_app(settings.model_copy(update={"sqlite_busy_timeout_ms": 50}), engine=engine)
    app.state.clock = lambda: FIXED_NOW
    body = {"title": "Locked Out", "body_html": "<p>One.</p>"}
    with TestClient(app, raise_server_exceptions=False) as client:
        holder = _hold_sqlite_write_lock(engine)
        try:
            refused = client.post("/v1/admin/articles", json=body, headers=as_("editor"))
            reads_go_on = client.get("/v1/articles")
        finally:
            holder.rollback()
            holder.close()
        assert refused.status_code == 503, refused.text
        assert refused.headers["retry-after"] == "1"
        assert refused.json()["type"].endswith("/busy")
        assert "busy" in refused.json()["detail"]
        assert reads_go_on.status_code == 200
        listed = client.get("/v1/admin/articles", headers=as_("editor")).json()["data"]
        assert listed == []
        created = client.post("/v1/admin/articles", json=body, headers=as_("editor"))
        assert created.status_code == 201, created.text


def test_waiting_for_a_pooled_connection_is_bounded_and_ends_in_503(
    backend: str, settings: Any, engine: Any
) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite's pool never makes a checkout wait")
    tight = settings.model_copy(
        update={
            "database_pool_size": 1,
            "database_max_overflow": 0,
            "database_pool_timeout": 0.2,
            "response_cache": False,
        }
    )
    app = create_app(tight)  # its own engine, so its own pool of one connection
    app.state.clock = lambda: FIXED_NOW
    with TestClient(app, raise_server_exceptions=False) as client:
        held = app.state.engine.connect()
        try:
            response = client.get("/v1/articles")
        finally:
            held.close()
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"]
        assert response.headers["content-type"] == "application/problem+json"
        assert client.get("/v1/articles").status_code == 200
    app.state.engine.dispose()


def test_sqlite_reads_run_on_the_loop_only_when_alone(
    backend: str, settings: Any, engine: Any
) -> None:
    """A burst of reads goes to the thread pool, so the loop stays free for `/healthz` and
    for shedding; a lone read runs inline (cheaper)."""
    if backend != "sqlite":
        pytest.skip("only SQLite reads run on the event loop")
    import threading

    from sqlalchemy import event

    app = create_app(settings.model_copy(update={"response_cache": False}), engine=engine)
    app.state.clock = lambda: FIXED_NOW
    threads: list[tuple[str, int]] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        threads.append((statement, threading.get_ident()))

    async def scenario(concurrent: int) -> tuple[int, list[int]]:
        loop_thread = threading.get_ident()
        threads.clear()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            answers = await asyncio.gather(*(http.get("/v1/tags") for _ in range(concurrent)))
        assert [a.status_code for a in answers] == [200] * concurrent
        return loop_thread, [ident for _, ident in threads]

    event.listen(engine, "before_cursor_execute", note)
    try:
        loop_thread, alone = asyncio.run(scenario(1))
        assert alone and set(alone) == {loop_thread}
        loop_thread, burst = asyncio.run(scenario(8))
        assert burst and loop_thread not in set(burst)
    finally:
        event.remove(engine, "before_cursor_execute", note)

"""The background WebSub worker: turn changes into pending pings, then send what is due.

Every worker process may run one (with `MASTHEAD_WEBSUB_HUB` set and the background worker
on); the cursor lock and the ping leases keep them from pinging anything twice at once.
"""

import asyncio
import logging
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from api.core.jobs import run_passes
from api.core.settings import Settings
from api.webhooks.delivery import Outcome, make_client
from api.websub.delivery import ping_due
from api.websub.dispatch import queue_pings

log = logging.getLogger("masthead.websub")


def websub_pass(
    factory: sessionmaker[Session], settings: Settings, now: datetime, client: httpx.Client
) -> list[Outcome]:
    """One full pass: queue the pings of every change so far, then send those due. Nothing
    at all without a hub."""
    if not settings.websub_hub or not settings.public_url:
        return []
    base = str(settings.public_url).rstrip("/")
    while True:
        with factory() as session, session.begin():
            queued = queue_pings(session, now, base)
        if not queued.more:
            break
    return ping_due(factory, settings, now, client)


async def run_websub_worker(app: Any, stop: asyncio.Event) -> None:
    """Run passes every `webhook_poll_seconds` until `stop` is set (a pass under way ends)."""
    settings: Settings = app.state.settings
    with make_client() as client:
        await run_passes(
            lambda: websub_pass(app.state.sessionmaker, settings, app.state.clock(), client),
            stop,
            settings.webhook_poll_seconds,
            log,
            "websub",
        )

"""The background webhook worker: turn changes into events, then send what is due.

Every worker process may run one; the cursor lock and the delivery leases keep them from
making or sending anything twice.
"""

import asyncio
import logging
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from api.core.jobs import run_passes
from api.core.settings import Settings
from api.webhooks.delivery import Outcome, deliver_due, make_client
from api.webhooks.events import dispatch_events

log = logging.getLogger("masthead.webhooks")


def public_base(settings: Settings) -> str:
    return str(settings.public_url).rstrip("/") if settings.public_url else ""


def dispatch_all(factory: sessionmaker[Session], settings: Settings, now: datetime) -> int:
    """Dispatch passes until the change log is caught up; return how many events were made."""
    made = 0
    while True:
        with factory() as session, session.begin():
            result = dispatch_events(session, now, public_base(settings))
        made += len(result.events)
        for event in result.events:  # a scheduled article's publication is logged here
            log.info("event %s (%s %s)", event.name, *_entity(event))
        if not result.more:
            return made


def _entity(event: Any) -> tuple[str, str]:
    """What an event is about, by id (a subscriber event names no address)."""
    kind = event.name.partition(".")[0]
    data = event.data if isinstance(event.data, dict) else {}
    return kind, str(data.get("id", "?"))


def webhook_pass(
    factory: sessionmaker[Session], settings: Settings, now: datetime, client: httpx.Client
) -> list[Outcome]:
    """One full pass: dispatch, then deliver everything due."""
    dispatch_all(factory, settings, now)
    return deliver_due(factory, settings, now, client)


async def run_webhook_worker(app: Any, stop: asyncio.Event) -> None:
    """Run passes every `webhook_poll_seconds` until `stop` is set (a pass under way ends)."""
    settings: Settings = app.state.settings
    with make_client() as client:
        await run_passes(
            lambda: webhook_pass(app.state.sessionmaker, settings, app.state.clock(), client),
            stop,
            settings.webhook_poll_seconds,
            log,
            "webhook",
        )

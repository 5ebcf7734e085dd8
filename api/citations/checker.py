"""The link checker: each cited URL asked for on a slow cadence, through the outbound rules
of `api.core.fetch`, in the app's own background loop (no cron).

A pass links citations that have no link yet, leases a small batch of due links (rows of
`api.core.jobs`: several workers never check one link at once), probes each outside any
transaction and records what it found in a transaction of its own:
- a 2xx answer: `ok`, checked again `link_check_interval_days` later;
- 404 or 410: `broken` at once;
- anything else (an error status, a timeout, a refused address, too many redirects): a
  failure; `link_check_failures` in a row make the link `broken`, until then it keeps its
  status and is checked again `link_check_retry_hours` later.
When what the public sees changes (`status`), the articles citing the link are marked
changed (`api.citations.links.touch_citing_articles`).
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col

from api.articles.models import Citation
from api.citations.links import link_unlinked, touch_citing_articles
from api.citations.models import CitedLink, LinkStatus
from api.core.db import rows_matched
from api.core.fetch import Probe, probe
from api.core.jobs import lease_due, log_failed_pass, unleased
from api.core.settings import Settings

log = logging.getLogger("masthead.citations")
USER_AGENT = "Masthead-LinkCheck/1"
GONE = frozenset({404, 410})


def link_checker_enabled(settings: Settings) -> bool:
    """The `link_checker` setting; unset, on everywhere but in the `test` environment."""
    if settings.link_checker is not None:
        return settings.link_checker
    return settings.environment != "test"


@dataclass(frozen=True)
class ClaimedLink:
    id: str
    url: str
    status: str
    consecutive_failures: int
    first_failed_at: datetime | None
    lease: datetime


def claim_due(session: Session, now: datetime, batch: int, lease: datetime) -> list[ClaimedLink]:
    """Lease the links due at `now` that some citation still cites, oldest due first."""
    due_now = col(CitedLink.next_check_at) <= now
    cited = exists().where(col(Citation.link_id) == col(CitedLink.id))
    due = (
        select(col(CitedLink.id))
        .where(due_now, unleased(CitedLink, now), cited)
        .order_by(col(CitedLink.next_check_at), col(CitedLink.id))
        .limit(batch)
    )
    ids = lease_due(session, CitedLink, due, pending=due_now, now=now, lease=lease)
    if not ids:
        return []
    rows = session.scalars(
        select(CitedLink)
        .where(col(CitedLink.id).in_(ids))
        .order_by(col(CitedLink.next_check_at), col(CitedLink.id))
    )
    return [
        ClaimedLink(r.id, r.url, r.status, r.consecutive_failures, r.first_failed_at, lease)
        for r in rows
    ]


def check_link(link: ClaimedLink, settings: Settings, client: httpx.Client) -> Probe:
    return probe(
        client,
        link.url,
        allow_private=settings.webhook_allow_private,
        timeout=settings.link_check_timeout_seconds,
        user_agent=USER_AGENT,
    )


def record_check(
    session: Session, link: ClaimedLink, found: Probe, settings: Settings, now: datetime
) -> str:
    """Store what the check found (only while this worker's lease holds); return the
    link's status now."""
    code = found.status_code
    interval = timedelta(days=settings.link_check_interval_days)
    values: dict[str, Any] = {
        "last_status_code": code,
        "last_checked_at": now,
        "locked_until": None,
    }
    if found.error is None and code is not None and 200 <= code < 300:
        status = LinkStatus.ok.value
        values |= {
            "last_error": None,
            "consecutive_failures": 0,
            "first_failed_at": None,
            "next_check_at": now + interval,
        }
    else:
        failures = link.consecutive_failures + 1
        gone = found.error is None and code in GONE
        broken = gone or failures >= settings.link_check_failures
        status = LinkStatus.broken.value if broken else link.status
        retry = min(timedelta(hours=settings.link_check_retry_hours), interval)
        values |= {
            "last_error": (found.error or f"HTTP {code}")[:500],
            "consecutive_failures": failures,
            "first_failed_at": link.first_failed_at or now,
            "next_check_at": now + (interval if broken else retry),
        }
    values["status"] = status
    mine = (col(CitedLink.id) == link.id) & (col(CitedLink.locked_until) == link.lease)
    done = session.execute(update(CitedLink).where(mine).values(**values))
    if rows_matched(done) and status != link.status:
        touch_citing_articles(session, link.id)
    return status


def check_pass(
    factory: sessionmaker[Session],
    settings: Settings,
    now: datetime,
    client: httpx.Client,
    stopping: Callable[[], bool] = lambda: False,
) -> list[tuple[str, Probe]]:
    """One pass: link unlinked citations, then check one batch of due links (until
    `stopping()` says the worker is shutting down: the rest are released). Returns each
    checked link's id with what its check found, in order."""
    with factory() as session, session.begin():
        link_unlinked(session, now)
    # The lease outlasts the whole batch timing out, so no other worker takes one mid-check.
    lease = now + timedelta(
        seconds=settings.link_check_timeout_seconds * (settings.link_check_batch + 1) + 60
    )
    with factory() as session, session.begin():
        links = claim_due(session, now, settings.link_check_batch, lease)
    checked: list[tuple[str, Probe]] = []
    for link in links:
        if stopping():
            _release(factory, links[len(checked) :])
            break
        found = check_link(link, settings, client)
        with factory() as session, session.begin():
            status = record_check(session, link, found, settings, now)
        log.info(
            "cited link %s checked: %s (%s)",
            link.id,
            status,
            # The reason's kind only (it may name addresses); the admin API has it all.
            found.error.partition(":")[0] if found.error else f"HTTP {found.status_code}",
        )
        checked.append((link.id, found))
    return checked


def _release(factory: sessionmaker[Session], links: list[ClaimedLink]) -> None:
    with factory() as session, session.begin():
        for link in links:
            session.execute(
                update(CitedLink)
                .where(col(CitedLink.id) == link.id, col(CitedLink.locked_until) == link.lease)
                .values(locked_until=None)
            )


def make_client() -> httpx.Client:
    """The checker's HTTP client: redirects followed by `probe` only, no proxies from the
    environment."""
    return httpx.Client(follow_redirects=False, trust_env=False)


async def run_link_checker(app: Any, stop: asyncio.Event) -> None:
    """Run a pass every `link_check_poll_seconds`, the first one poll after start-up (a
    worker that starts and stops at once checks nothing), until `stop` is set; a pass
    under way ends after the link it is checking."""
    settings: Settings = app.state.settings
    with make_client() as client:
        while not await _stopped(stop, settings.link_check_poll_seconds):
            try:
                await asyncio.to_thread(
                    check_pass,
                    app.state.sessionmaker,
                    settings,
                    app.state.clock(),
                    client,
                    stop.is_set,
                )
            except Exception as exc:
                log_failed_pass(log, "link check", exc)


async def _stopped(stop: asyncio.Event, seconds: float) -> bool:
    """Wait up to `seconds` for `stop`; whether it was set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
    return stop.is_set()

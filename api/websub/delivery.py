"""Pinging the hub: claim due pings, POST `hub.mode=publish&hub.url=<feed URL>`, record.

Pings are jobs of `api.core.jobs` (leased rows, sent at least once; a hub takes a repeated
ping as one more fetch). A failed ping is retried with backoff up to the webhook attempts
setting; the next change to the feed makes it pending again. The hub is reached as webhook
targets are (`api.webhooks.delivery.post_to_target`): a public address only, unless the
private-address relaxation for tests is set, no redirects.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col

from api.core.jobs import lease_due, retry_delay, unleased, work_through_due
from api.core.logs import redact
from api.core.settings import Settings
from api.webhooks.delivery import Outcome, post_to_target
from api.websub.models import PingStatus, WebSubPing

log = logging.getLogger("masthead.websub")

BATCH = 20
USER_AGENT = "Masthead-WebSub/1"


@dataclass(frozen=True)
class ClaimedPing:
    id: str
    topic: str
    requested: int
    attempts: int
    lease: datetime


def _due(now: datetime) -> Any:
    return (
        select(col(WebSubPing.id))
        .where(
            col(WebSubPing.status) == PingStatus.pending,
            col(WebSubPing.next_attempt_at) <= now,
            unleased(WebSubPing, now),
        )
        .order_by(col(WebSubPing.next_attempt_at), col(WebSubPing.id))
        .limit(BATCH)
    )


def claim_due(session: Session, now: datetime, lease_for: timedelta) -> list[ClaimedPing]:
    """Lease due pings to this worker."""
    lease = now + lease_for
    pending = col(WebSubPing.status) == PingStatus.pending
    ids = lease_due(session, WebSubPing, _due(now), pending=pending, now=now, lease=lease)
    if not ids:
        return []
    rows = session.scalars(
        select(WebSubPing)
        .where(col(WebSubPing.id).in_(ids))
        .order_by(col(WebSubPing.next_attempt_at), col(WebSubPing.id))
    )
    return [ClaimedPing(p.id, p.topic, p.requested, p.attempts, lease) for p in rows]


def send_ping(ping: ClaimedPing, settings: Settings, client: httpx.Client) -> Outcome:
    """Tell the hub the feed at `ping.topic` changed (a 2xx answer is success)."""
    hub = str(settings.websub_hub)
    body = urlencode({"hub.mode": "publish", "hub.url": ping.topic}).encode("ascii")
    headers = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": USER_AGENT}
    outcome = post_to_target(client, hub, body, headers, settings)
    if outcome.succeeded:
        log.info("websub ping %s for %s: HTTP %s", ping.id, ping.topic, outcome.status_code)
    else:
        log.warning(
            "websub ping %s for %s failed, attempt %s: %s",
            ping.id,
            ping.topic,
            ping.attempts + 1,
            redact(outcome.error or ""),
        )
    return outcome


def record_outcome(
    session: Session, ping: ClaimedPing, outcome: Outcome, settings: Settings, now: datetime
) -> None:
    """Sent, unless the feed changed again meanwhile (then due again at once); else back off,
    or give up after the webhook attempts setting."""
    mine = (col(WebSubPing.id) == ping.id) & (col(WebSubPing.locked_until) == ping.lease)
    attempts = ping.attempts + 1
    common: dict[str, Any] = {
        "locked_until": None,
        "last_attempt_at": now,
        "last_status_code": outcome.status_code,
        "last_error": outcome.error[:500] if outcome.error else None,
    }
    if outcome.succeeded:
        unchanged = col(WebSubPing.requested) == ping.requested
        session.execute(
            update(WebSubPing)
            .where(mine, unchanged)
            .values(status=PingStatus.sent, sent_at=now, attempts=attempts, **common)
        )
        session.execute(update(WebSubPing).where(mine).values(**common))  # asked again
        return
    if attempts < settings.webhook_max_attempts:
        retry_at = now + retry_delay(ping.id, attempts)
        session.execute(
            update(WebSubPing)
            .where(mine)
            .values(attempts=attempts, next_attempt_at=retry_at, **common)
        )
        return
    session.execute(
        update(WebSubPing).where(mine).values(status=PingStatus.failed, attempts=attempts, **common)
    )


def ping_due(
    session_factory: sessionmaker[Session],
    settings: Settings,
    now: datetime,
    client: httpx.Client,
) -> list[Outcome]:
    """Send every ping due at `now` once; return the outcomes, in order."""
    lease_for = timedelta(seconds=settings.webhook_timeout_seconds * (BATCH + 1) + 60)
    return work_through_due(
        session_factory,
        claim=lambda session: claim_due(session, now, lease_for),
        perform=lambda ping: send_ping(ping, settings, client),
        record=lambda session, ping, outcome: record_outcome(session, ping, outcome, settings, now),
        batch=BATCH,
    )

"""Sending deliveries: claim due rows, sign and POST them, record the outcome, back off.

Deliveries are jobs of `api.core.jobs` (leased rows, at least once): a delivery sent again
after a worker died, or retried after a failure, keeps its `webhook-id`, which receivers use
to drop duplicates.

Signatures follow the Standard Webhooks specification (see `api.webhooks.signing`):
`webhook-id`, `webhook-timestamp` (the wall clock when this attempt is sent, not the pass's
start: receivers compare it with their own clocks, five minutes' tolerance, and one pass can
send for longer than that) and `webhook-signature: v1,<base64 HMAC-SHA256 of
"id.timestamp.body">`. Hooks with legacy secrets also get the old `X-Masthead-*` headers.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col

from api.core.db import rows_matched, utcnow
from api.core.fetch import RefusedTarget, check_target, pinned_request
from api.core.http import dump_json
from api.core.jobs import lease_due, retry_delay, unleased, work_through_due
from api.core.logs import redact
from api.core.settings import Settings
from api.webhooks.models import DeliveryStatus, Webhook, WebhookDelivery
from api.webhooks.signing import is_legacy_secret, legacy_headers, standard_headers

log = logging.getLogger("masthead.webhooks")

BATCH = 20
FIRST_RETRY_SECONDS = 30
MAX_RETRY_SECONDS = 3600
USER_AGENT = "Masthead-Webhooks/1"


@dataclass(frozen=True)
class ClaimedDelivery:
    id: str
    webhook_id: str
    url: str
    secret: str
    event: str
    payload: dict[str, Any]
    attempts: int
    lease: datetime


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None

    @property
    def succeeded(self) -> bool:
        return self.error is None


def _due(now: datetime) -> Any:
    active_hooks = select(col(Webhook.id)).where(col(Webhook.active).is_(True))
    return (
        select(col(WebhookDelivery.id))
        .where(
            col(WebhookDelivery.status) == DeliveryStatus.pending,
            col(WebhookDelivery.next_attempt_at) <= now,
            unleased(WebhookDelivery, now),
            col(WebhookDelivery.webhook_id).in_(active_hooks),
        )
        .order_by(col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.id))
        .limit(BATCH)
    )


def claim_due(session: Session, now: datetime, lease_for: timedelta) -> list[ClaimedDelivery]:
    """Lease due deliveries of active hooks to this worker."""
    lease = now + lease_for
    pending = col(WebhookDelivery.status) == DeliveryStatus.pending
    ids = lease_due(session, WebhookDelivery, _due(now), pending=pending, now=now, lease=lease)
    if not ids:
        return []
    rows = session.execute(
        select(WebhookDelivery, Webhook)
        .join(Webhook, col(Webhook.id) == col(WebhookDelivery.webhook_id))
        .where(col(WebhookDelivery.id).in_(ids))
        .order_by(col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.id))
    )
    return [
        ClaimedDelivery(d.id, h.id, h.url, h.secret, d.event, dict(d.payload), d.attempts, lease)
        for d, h in rows
    ]


def send(delivery: ClaimedDelivery, settings: Settings, client: httpx.Client) -> Outcome:
    """POST one delivery to the address its host resolves to (checked first), signed at the
    moment it is sent."""
    body = dump_json(delivery.payload)
    sent_at = utcnow()  # the wall clock, not the pass's `now` (see the module docstring)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **standard_headers(delivery.secret, delivery.id, sent_at, body),
    }
    if is_legacy_secret(delivery.secret):
        headers |= legacy_headers(delivery.secret, delivery.id, delivery.event, sent_at, body)
    return post_to_target(client, delivery.url, body, headers, settings)


def post_to_target(
    client: httpx.Client, target_url: str, body: bytes, headers: dict[str, str], settings: Settings
) -> Outcome:
    """POST `body` to the address `target_url`'s host resolves to, once that address passed
    the outbound rules (`api.core.fetch`); no redirects followed, the answer unread.
    Webhook deliveries and WebSub pings go out through here."""
    try:
        target = check_target(target_url, allow_private=settings.webhook_allow_private)
    except RefusedTarget as exc:
        return Outcome(None, f"refused: {exc}")
    try:
        request = pinned_request(
            client,
            "POST",
            target_url,
            target,
            headers=headers,
            timeout=settings.webhook_timeout_seconds,
            content=body,
        )
        response = client.send(request, follow_redirects=False, stream=True)
        response.close()  # the receiver's body is never read
    except httpx.HTTPError as exc:
        return Outcome(None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    code = response.status_code
    if 200 <= code < 300:
        return Outcome(code, None)
    if 300 <= code < 400:
        where = response.headers.get("location", "")
        return Outcome(code, f"HTTP {code}: redirects are not followed ({where})")
    return Outcome(code, f"HTTP {code}")


def record_outcome(
    session: Session,
    delivery: ClaimedDelivery,
    outcome: Outcome,
    settings: Settings,
    now: datetime,
) -> None:
    """Mark the attempt; back off or give up; disable a hook after repeated failed deliveries."""
    mine = (col(WebhookDelivery.id) == delivery.id) & (
        col(WebhookDelivery.locked_until) == delivery.lease
    )
    attempts = delivery.attempts + 1
    common: dict[str, Any] = {
        "attempts": attempts,
        "locked_until": None,
        "last_attempt_at": now,
        "last_status_code": outcome.status_code,
        "last_error": outcome.error[:500] if outcome.error else None,
    }
    hook = col(Webhook.id) == delivery.webhook_id
    if outcome.succeeded:
        done = session.execute(
            update(WebhookDelivery)
            .where(mine)
            .values(status=DeliveryStatus.succeeded, delivered_at=now, **common)
        )
        if rows_matched(done):
            session.execute(update(Webhook).where(hook).values(consecutive_failures=0))
        return
    if attempts < settings.webhook_max_attempts:
        session.execute(
            update(WebhookDelivery)
            .where(mine)
            .values(next_attempt_at=now + retry_delay(delivery.id, attempts), **common)
        )
        return
    done = session.execute(
        update(WebhookDelivery).where(mine).values(status=DeliveryStatus.failed, **common)
    )
    if not rows_matched(done):
        return
    session.execute(
        update(Webhook)
        .where(hook)
        .values(consecutive_failures=col(Webhook.consecutive_failures) + 1)
    )
    failures = session.scalars(select(col(Webhook.consecutive_failures)).where(hook)).first()
    if failures is not None and failures >= settings.webhook_disable_after:
        disable_webhook(
            session,
            delivery.webhook_id,
            f"disabled after {failures} consecutive failed deliveries; last: {outcome.error}",
            now,
        )


def disable_webhook(session: Session, webhook_id: str, reason: str, now: datetime) -> None:
    """Stop sending to a hook; its waiting deliveries are marked failed with the reason."""
    session.execute(
        update(Webhook)
        .where(col(Webhook.id) == webhook_id, col(Webhook.active).is_(True))
        .values(active=False, disabled_reason=reason[:500])
    )
    session.execute(
        update(WebhookDelivery)
        .where(
            col(WebhookDelivery.webhook_id) == webhook_id,
            col(WebhookDelivery.status) == DeliveryStatus.pending,
        )
        .values(status=DeliveryStatus.failed, last_error="webhook disabled", locked_until=None)
    )
    log.warning("webhook %s disabled at %s: %s", webhook_id, now.isoformat(), reason)


def make_client() -> httpx.Client:
    """The HTTP client deliveries use: no redirects, no proxies from the environment."""
    return httpx.Client(follow_redirects=False, trust_env=False)


def deliver_due(
    session_factory: sessionmaker[Session],
    settings: Settings,
    now: datetime,
    client: httpx.Client,
) -> list[Outcome]:
    """Send every delivery due at `now` once; return the outcomes, in order."""
    # The lease outlasts a whole batch of timeouts, so no other worker takes one mid-send.
    lease_for = timedelta(seconds=settings.webhook_timeout_seconds * (BATCH + 1) + 60)
    return work_through_due(
        session_factory,
        claim=lambda session: claim_due(session, now, lease_for),
        perform=lambda delivery: _send_logged(delivery, settings, client),
        record=lambda session, delivery, outcome: record_outcome(
            session, delivery, outcome, settings, now
        ),
        batch=BATCH,
    )


def _send_logged(delivery: ClaimedDelivery, settings: Settings, client: httpx.Client) -> Outcome:
    outcome = send(delivery, settings, client)
    attempt = delivery.attempts + 1
    if outcome.succeeded:
        log.info(
            "webhook delivery %s (%s) to webhook %s: HTTP %s, attempt %s",
            delivery.id,
            delivery.event,
            delivery.webhook_id,
            outcome.status_code,
            attempt,
        )
    else:
        log.warning(
            "webhook delivery %s (%s) to webhook %s failed, attempt %s: %s",
            delivery.id,
            delivery.event,
            delivery.webhook_id,
            attempt,
            redact(outcome.error or ""),
        )
    return outcome

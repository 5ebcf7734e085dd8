"""The email outbox: claim due messages, render and send them, record the outcome.

`deliver_pending` is one pass (tests call it directly); `OutboxSender` runs passes in the
background of each worker. Messages are jobs of `api.core.jobs` (leased rows, sent at least
once).
"""

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

import aiosmtplib
import anyio
import anyio.from_thread
import anyio.to_thread
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col

from api.core.db import utcnow
from api.core.jobs import lease_due, log_failed_pass, retry_delay, unleased, work_through_due
from api.core.logs import redact
from api.core.origin import SERVED_AT
from api.core.settings import Settings
from api.subscriptions.models import (
    OutboxMessage,
    OutboxStatus,
    Subscriber,
    SubscriberStatus,
    SubscriptionConsent,
)
from api.subscriptions.service import CONFIRMATION
from api.subscriptions.tokens import CONFIRM_SALT, UNSUBSCRIBE_SALT, sign

log = logging.getLogger("masthead.mail")

Clock = Callable[[], datetime]
LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 8
BATCH = 50


@dataclass(frozen=True)
class ClaimedMail:
    id: str
    recipient: str
    subscriber_id: str
    consent_id: str
    attempts: int
    lease: datetime


def _due(now: datetime) -> Any:
    return (
        select(col(OutboxMessage.id))
        .where(
            col(OutboxMessage.status) == OutboxStatus.pending,
            col(OutboxMessage.available_at) <= now,
            unleased(OutboxMessage, now),
        )
        .order_by(col(OutboxMessage.created_at), col(OutboxMessage.id))
        .limit(BATCH)
    )


def claim_due(session: Session, now: datetime) -> list[ClaimedMail]:
    """Lease due messages to this worker and load what rendering them needs."""
    lease = now + LEASE
    pending = col(OutboxMessage.status) == OutboxStatus.pending
    ids = lease_due(session, OutboxMessage, _due(now), pending=pending, now=now, lease=lease)
    mails = []
    for message in session.scalars(select(OutboxMessage).where(col(OutboxMessage.id).in_(ids))):
        mail = _renderable(session, message, lease)
        if mail is None:
            message.status = OutboxStatus.cancelled
            message.locked_until = None
        else:
            mails.append(mail)
    return mails


def _renderable(session: Session, message: OutboxMessage, lease: datetime) -> ClaimedMail | None:
    """What the message needs, or None when it no longer should go (confirmed, withdrawn)."""
    if message.kind != CONFIRMATION or not message.subscriber_id or not message.recipient:
        return None
    subscriber = session.get(Subscriber, message.subscriber_id)
    if subscriber is None or subscriber.status != SubscriberStatus.pending:
        return None
    consent_id = session.scalars(
        select(col(SubscriptionConsent.id))
        .where(
            col(SubscriptionConsent.subscriber_id) == subscriber.id,
            col(SubscriptionConsent.confirmed_at).is_(None),
            col(SubscriptionConsent.withdrawn_at).is_(None),
        )
        .order_by(col(SubscriptionConsent.consented_at).desc())
        .limit(1)
    ).first()
    if consent_id is None:
        return None
    return ClaimedMail(
        message.id, message.recipient, subscriber.id, consent_id, message.attempts, lease
    )


def public_base(settings: Settings) -> str:
    """Where email links point: MASTHEAD_PUBLIC_URL, else the address `masthead serve`
    listens on (SERVED_AT, so `make run PORT=9000` mails links that work)."""
    return str(settings.public_url or os.environ.get(SERVED_AT) or "http://localhost:8000").rstrip(
        "/"
    )


def refuse_to_lose_mail(settings: Settings) -> str | None:
    """Why the server must not start: in production, sign-ups with nowhere to send email."""
    if settings.environment == "production" and settings.signups_enabled and not settings.smtp_url:
        return (
            "invalid setting MASTHEAD_SMTP_URL: production needs an SMTP server to send "
            "sign-up confirmations (or set MASTHEAD_SIGNUPS_ENABLED=false)"
        )
    return None


def show_on_console(message: EmailMessage) -> None:
    """Development without SMTP: the whole email, links readable, on standard output. The one
    place an address is shown; never logged, never outside development."""
    body = message.get_body(("plain",))
    text = body.get_content() if isinstance(body, EmailMessage) else str(message.get_payload())
    headers = "".join(
        f"{name}: {message[name]}\n"
        for name in ("From", "To", "Subject", "List-Unsubscribe")
        if message[name]
    )
    rule = "-" * 20
    sys.stdout.write(
        f"{rule} email (development, MASTHEAD_SMTP_URL not set: shown, not sent) {rule}\n"
        f"{headers}\n{text.rstrip()}\n{rule} end of email {rule}\n"
    )
    sys.stdout.flush()


def render_confirmation(mail: ClaimedMail, settings: Settings, clock: Clock) -> EmailMessage:
    """The confirmation email, with a signed unsubscribe link and RFC 8058 headers."""
    base = public_base(settings)
    confirm_token = sign(
        settings.secret_key, CONFIRM_SALT, clock, {"s": mail.subscriber_id, "c": mail.consent_id}
    )
    unsubscribe_token = sign(
        settings.secret_key, UNSUBSCRIBE_SALT, clock, {"s": mail.subscriber_id}
    )
    confirm_url = f"{base}/v1/subscriptions/confirm?{urlencode({'token': confirm_token})}"
    unsubscribe_url = (
        f"{base}/v1/subscriptions/unsubscribe?{urlencode({'token': unsubscribe_token})}"
    )
    hours = settings.subscription_confirm_max_age // 3600
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = mail.recipient
    message["Subject"] = "Please confirm your subscription"
    message["Message-ID"] = make_msgid(domain=urlsplit(base).hostname or "localhost")
    message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(
        "Thanks for signing up!\n\n"
        "Please confirm that you want to receive our newsletter by opening this link:\n\n"
        f"{confirm_url}\n\n"
        f"The link works for {hours} hours. If you did not sign up, ignore this email: "
        "you will not hear from us again.\n\n"
        f"Unsubscribe: {unsubscribe_url}\n"
    )
    return message


async def send_email(message: EmailMessage, settings: Settings) -> None:
    """Over SMTP when `smtp_url` is set (smtps:// for implicit TLS); without it, shown on the
    console in development and dropped elsewhere (production refuses to start so)."""
    if not settings.smtp_url:
        if settings.environment == "development":
            show_on_console(message)
        else:
            log.warning("email %s dropped: MASTHEAD_SMTP_URL is not set", message["Message-ID"])
        return
    url = urlsplit(settings.smtp_url)
    implicit_tls = url.scheme == "smtps"
    await aiosmtplib.send(
        message,
        hostname=url.hostname or "localhost",
        port=url.port or (465 if implicit_tls else 25),
        username=unquote(url.username) if url.username else None,
        password=unquote(url.password) if url.password else None,
        use_tls=implicit_tls,
        timeout=30,
    )


def _record_outcome(
    session: Session, mail: ClaimedMail, now: datetime, error: Exception | None
) -> None:
    mine = (col(OutboxMessage.id) == mail.id) & (col(OutboxMessage.locked_until) == mail.lease)
    if error is None:
        values: dict[str, Any] = {
            "status": OutboxStatus.sent,
            "sent_at": now,
            "locked_until": None,
            "attempts": mail.attempts + 1,
        }
    else:
        attempts = mail.attempts + 1
        values = {
            "status": OutboxStatus.failed if attempts >= MAX_ATTEMPTS else OutboxStatus.pending,
            "attempts": attempts,
            "available_at": now + retry_delay(mail.id, attempts),
            "locked_until": None,
            "last_error": f"{type(error).__name__}: {error}"[:500],
        }
    session.execute(update(OutboxMessage).where(mine).values(**values))


async def deliver_pending(
    session_factory: sessionmaker[Session], settings: Settings, clock: Clock = utcnow
) -> int:
    """Send every due message once; return how many were sent."""

    def send(mail: ClaimedMail) -> Exception | None:
        try:  # on the event loop: this runs in a worker thread started by anyio
            anyio.from_thread.run(send_email, render_confirmation(mail, settings, clock), settings)
        except Exception as exc:  # any failure is retried later with backoff
            # An SMTP refusal may quote the recipient: never logged as such.
            log.warning("email %s not sent: %s", mail.id, redact(f"{type(exc).__name__}: {exc}"))
            return exc
        if settings.smtp_url:
            log.info("email %s sent over SMTP (attempt %s)", mail.id, mail.attempts + 1)
        return None

    errors = await anyio.to_thread.run_sync(
        lambda: work_through_due(
            session_factory,
            claim=lambda session: claim_due(session, clock()),
            perform=send,
            record=lambda session, mail, error: _record_outcome(session, mail, clock(), error),
            batch=BATCH,
        )
    )
    return sum(error is None for error in errors)


class OutboxSender:
    """Runs `deliver_pending` at start, whenever nudged, and every `outbox_poll_seconds`."""

    def __init__(
        self, session_factory: sessionmaker[Session], settings: Settings, clock: Clock
    ) -> None:
        self.session_factory = session_factory
        self.settings = settings
        self.clock = clock
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._run(), name="masthead-outbox-sender")

    def nudge(self) -> None:
        """Ask for a pass now; safe to call from any thread."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    async def stop(self) -> None:
        """Finish the pass under way (no half-recorded sends), then stop."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=30)
            except TimeoutError:
                log.warning("outbox sender did not stop in time; cancelled")

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await deliver_pending(self.session_factory, self.settings, self.clock)
            except Exception as exc:
                log_failed_pass(log, "outbox", exc)
            if self._stopping:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.outbox_poll_seconds)
            self._wake.clear()

"""Work kept as rows (emails to send, webhook deliveries): lease the due ones, perform each,
record the outcome, back off on failure.

Rows are claimed with a lease (`locked_until`): on PostgreSQL with `SELECT … FOR UPDATE SKIP
LOCKED`, on SQLite with a conditional UPDATE per row, so several workers never perform the
same job at once. Work is done at least once: a worker that dies between performing a job
and recording it leaves the lease to expire, and the job is performed again.
"""

import asyncio
import contextlib
import hashlib
import logging
import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, or_, update
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col

from api.core.db import rows_matched
from api.core.writers import is_busy

Job = TypeVar("Job")
Outcome = TypeVar("Outcome")
FIRST_RETRY_SECONDS = 30
MAX_RETRY_SECONDS = 3600


def unleased(model: Any, now: datetime) -> ColumnElement[bool]:
    """Rows no worker holds a lease on at `now`."""
    return or_(col(model.locked_until).is_(None), col(model.locked_until) < now)


def lease_due(
    session: Session,
    model: Any,
    due: Select[Any],
    *,
    pending: ColumnElement[bool],
    now: datetime,
    lease: datetime,
) -> list[str]:
    """Lease the ids `due` selects to this worker until `lease`. On SQLite each row is leased
    only if still `pending` and unleased: another worker may have taken it since the SELECT."""
    ids_column = col(model.id)
    claimable = and_(pending, unleased(model, now))
    if session.get_bind().dialect.name == "postgresql":
        ids = list(session.scalars(due.with_for_update(skip_locked=True)))
        if ids:
            session.execute(update(model).where(ids_column.in_(ids)).values(locked_until=lease))
        return ids
    ids = []
    for candidate in session.scalars(due).all():
        claimed = session.execute(
            update(model).where(ids_column == candidate, claimable).values(locked_until=lease)
        )
        if rows_matched(claimed) == 1:
            ids.append(candidate)
    return ids


def retry_delay(job_id: str, attempts: int) -> timedelta:
    """30 s doubling per failed attempt up to an hour, plus up to 20 % jitter derived from the
    job (deterministic, so tests can predict it; different jobs spread out)."""
    seconds = min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), MAX_RETRY_SECONDS)
    digest = hashlib.sha256(f"{job_id}:{attempts}".encode()).digest()
    jitter = int.from_bytes(digest[:4], "big") / 2**32 * 0.2
    return timedelta(seconds=seconds * (1 + jitter))


def work_through_due(
    factory: sessionmaker[Session],
    *,
    claim: Callable[[Session], Sequence[Job]],
    perform: Callable[[Job], Outcome],
    record: Callable[[Session, Job, Outcome], None],
    batch: int,
) -> list[Outcome]:
    """Claim a batch, perform each job outside any transaction, record each outcome in its
    own; repeat until a batch comes back short. Returns the outcomes in order."""
    outcomes: list[Outcome] = []
    while True:
        with factory() as session, session.begin():
            jobs = claim(session)
        for job in jobs:
            outcome = perform(job)
            with factory() as session, session.begin():
                record(session, job, outcome)
            outcomes.append(outcome)
        if len(jobs) < batch:
            return outcomes


def database_away(exc: BaseException) -> str | None:
    """Why a pass could not reach the database, when that is all that went wrong: SQLite
    locked by other writers past the busy budget, or PostgreSQL away (the driver's
    connection-level errors, a pool timeout); else None."""
    if isinstance(exc, OperationalError) and is_busy(exc):
        return "the database is locked by other writers"
    if isinstance(exc, SQLAlchemyTimeoutError):
        return "no database connection was free"
    if isinstance(exc, OperationalError | InterfaceError) and not isinstance(
        exc.orig, sqlite3.Error
    ):
        return "the database is not reachable"
    return None


def log_failed_pass(log: logging.Logger, what: str, exc: BaseException) -> None:
    """One warning line when a background pass failed only because the database was busy or
    away (it is retried at the next poll); the traceback for anything else."""
    reason = database_away(exc)
    if reason is not None:
        log.warning("%s pass skipped: %s; retrying at the next poll", what, reason)
    else:
        log.error("%s pass failed; retrying at the next poll", what, exc_info=exc)


async def run_passes(
    one_pass: Callable[[], object],
    stop: asyncio.Event,
    every: float,
    log: logging.Logger,
    what: str,
) -> None:
    """Run `one_pass` in a thread, then every `every` seconds, until `stop` is set (a pass
    under way ends first); a failed pass is logged and the next one comes as planned."""
    while not stop.is_set():
        try:
            await asyncio.to_thread(one_pass)
        except Exception as exc:
            log_failed_pass(log, what, exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)

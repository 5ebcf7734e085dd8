"""Telling readers apart for one day without knowing who they are.

A click counts as a new reader when the digest of today's salt with the reader's address,
user agent and the counter's key (action, article, placement) is not yet in today's
sightings. The salt is random and lives one day in the database, shared by every worker:
the first click of a new day deletes the earlier days' salts and sightings, after which no
digest can be linked to an address any more. Neither the address nor the user agent is
stored anywhere, nor any cookie set.
"""

import hashlib
import secrets
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.actions.models import ReaderSalt, ReaderSighting
from api.core.db import insert_on_conflict


def forget_earlier_days(session: Session, today: date) -> None:
    """Delete the salts and sightings of every day before `today`."""
    session.execute(delete(ReaderSighting).where(col(ReaderSighting.day) < today))
    session.execute(delete(ReaderSalt).where(col(ReaderSalt.day) < today))


def daily_salt(session: Session, today: date) -> bytes:
    """Today's salt, made (and the earlier days' forgotten) by the day's first click."""
    salt = session.scalar(select(col(ReaderSalt.salt)).where(col(ReaderSalt.day) == today))
    if salt is None:
        forget_earlier_days(session, today)
        session.execute(
            insert_on_conflict(session, ReaderSalt)
            .values(day=today, salt=secrets.token_hex(32))
            .on_conflict_do_nothing(index_elements=["day"])
        )
        salt = session.scalar(select(col(ReaderSalt.salt)).where(col(ReaderSalt.day) == today))
    assert salt is not None
    return bytes.fromhex(salt)


def reader_digest(salt: bytes, address: str, user_agent: str, key: tuple[str, ...]) -> str:
    """32 hex digits of a keyed hash: the same reader and key give the same digest all day."""
    message = "\x00".join((address, user_agent, *key)).encode("utf-8", "replace")
    return hashlib.blake2b(message, key=salt[:64], digest_size=16).hexdigest()


def first_sighting(
    session: Session, today: date, address: str, user_agent: str, key: tuple[str, ...]
) -> bool:
    """Whether this reader follows this link for the first time today (and note it)."""
    digest = reader_digest(daily_salt(session, today), address, user_agent, key)
    inserted = session.execute(
        insert_on_conflict(session, ReaderSighting)
        .values(day=today, digest=digest)
        .on_conflict_do_nothing(index_elements=["day", "digest"])
        .returning(col(ReaderSighting.digest))
    ).first()
    return inserted is not None

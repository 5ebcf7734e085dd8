"""Issuing, checking and revoking API tokens. Only a token's SHA-256 is ever stored."""

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from api.auth.models import ApiToken, Role
from api.core.errors import Conflict, NotFound, Unprocessable

TOKEN_PREFIX = "mh_"
# Content keys are 26 lowercase hex characters, the form of Ghost's Content API keys (the
# official client refuses any other before it sends a request). Keys issued before in the
# `mh_` form keep working.
CONTENT_KEY = re.compile(r"^[0-9a-f]{26}$")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's id, name and role (never the token itself)."""

    token_id: str
    name: str
    role: Role


def issue_token(
    session: Session, *, name: str, role: Role, now: datetime, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a named token; returns the row and the token, which is never retrievable again."""
    if session.scalars(select(ApiToken).where(col(ApiToken.name) == name)).first():
        raise Conflict(
            f"A token named `{name}` already exists: choose another name (a name stays "
            "with its token, even revoked, for the audit log)."
        )
    if expires_at is not None:
        expires_at = expires_at if expires_at.tzinfo else expires_at.replace(tzinfo=UTC)
        if expires_at <= now:
            raise Unprocessable(
                "`expires_at` is not in the future: such a token would never work.",
                errors=[{"loc": ["body", "expires_at"], "msg": "must be in the future"}],
            )
    if role == Role.content:
        token = secrets.token_hex(13)
    else:
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        name=name, role=role.value, token_hash=hash_token(token), created_at=now,
        expires_at=expires_at,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row, token


def list_tokens(session: Session) -> Sequence[ApiToken]:
    return session.scalars(
        select(ApiToken).order_by(col(ApiToken.created_at), col(ApiToken.name))
    ).all()


def revoke_token(session: Session, token: ApiToken, now: datetime) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = now
        session.flush()
    return token


def get_token(session: Session, token_id: str) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"No token with id `{token_id}`.")
    return token


def get_token_by_name(session: Session, name: str) -> ApiToken:
    token = session.scalars(select(ApiToken).where(col(ApiToken.name) == name)).first()
    if token is None:
        raise NotFound(f"No token named `{name}`.")
    return token


def usable(token: ApiToken | None, now: datetime) -> bool:
    return (
        token is not None
        and token.revoked_at is None
        and (token.expires_at is None or now < token.expires_at)
    )


def find_usable_token(session: Session, raw: str, now: datetime) -> ApiToken | None:
    """The live (not revoked, not expired) token matching `raw`, or None."""
    if not (raw.startswith(TOKEN_PREFIX) or CONTENT_KEY.match(raw)) or len(raw) > 200:
        return None
    token = session.scalars(
        select(ApiToken).where(col(ApiToken.token_hash) == hash_token(raw))
    ).first()
    return token if usable(token, now) else None


def count_content_key_use(session: Session, token_id: str, now: datetime) -> None:
    """One more public request made with this content key (an atomic increment)."""
    session.execute(
        update(ApiToken)
        .where(col(ApiToken.id) == token_id)
        .values(use_count=col(ApiToken.use_count) + 1, last_used_at=now)
    )


# An admin token's last use is kept to this precision: at most one write per token per
# minute, never one per request.
LAST_USE_PRECISION = timedelta(minutes=1)


def last_use_is_stale(token: ApiToken, now: datetime) -> bool:
    return token.last_used_at is None or now - token.last_used_at >= LAST_USE_PRECISION


def record_last_use(session: Session, token_id: str, now: datetime) -> None:
    """Note that the token was used at `now`, unless a use in the last minute was noted
    (by another request or worker) since it was read."""
    session.execute(
        update(ApiToken)
        .where(
            col(ApiToken.id) == token_id,
            col(ApiToken.last_used_at).is_(None)
            | (col(ApiToken.last_used_at) <= now - LAST_USE_PRECISION),
        )
        .values(last_used_at=now)
    )

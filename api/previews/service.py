"""Preview links: signed tokens naming one item, the item's preview generation and an expiry.

Nothing is stored per link. Revoking bumps the item's generation, which every link made
before carries in its signature, so one write ends all of them; expiry is checked against
the application's clock (tests move it), not the signer's."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.articles.models import Article
from api.auth.service import Principal
from api.core.db import insert_on_conflict
from api.core.errors import NotFound
from api.core.tables import table_of
from api.editorial.audit import record
from api.previews.models import PreviewGeneration

SALT = "masthead-preview"
DEFAULT_LIFETIME = timedelta(hours=24)
MAX_LIFETIME = timedelta(days=30)
GENERATIONS = table_of(PreviewGeneration)
# Error answers of the preview route are kept out of search engines too.
NOINDEX = {"X-Robots-Tag": "noindex"}


@dataclass(frozen=True)
class PreviewKind:
    """One kind of item that can be previewed (articles; pages share their table)."""

    name: str
    # The live item (not deleted) by id, or NotFound.
    load: Callable[[Session, str], Article]
    # Raises Forbidden when the caller may not preview (or revoke previews of) the item.
    may_preview: Callable[[Session, Principal, Article], None]
    # The item in its public shape, and its workflow state (`draft`, `scheduled`, ...).
    render: Callable[[Session, Article, datetime, str], dict[str, Any]]
    status: Callable[[Article, datetime], str]


@dataclass(frozen=True)
class PreviewClaim:
    """What a preview token says: which item, at which generation, until when."""

    kind: str
    item_id: str
    generation: int
    expires_at: datetime


@dataclass(frozen=True)
class PreviewLink:
    token: str
    claim: PreviewClaim


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=SALT)


def sign_claim(secret_key: str, claim: PreviewClaim) -> str:
    payload = [claim.kind, claim.item_id, claim.generation, int(claim.expires_at.timestamp())]
    return str(_serializer(secret_key).dumps(payload))


def read_claim(secret_key: str, token: str) -> PreviewClaim:
    """The claim of a token signed by us, or 404 (forged, truncated, malformed)."""
    try:
        payload = _serializer(secret_key).loads(token)
    except BadSignature:
        payload = None
    if not (
        isinstance(payload, list)
        and len(payload) == 4
        and isinstance(payload[0], str)
        and isinstance(payload[1], str)
        and all(isinstance(n, int) and not isinstance(n, bool) for n in payload[2:])
    ):
        raise NotFound(
            "This is not a preview link; check that it was copied whole.", headers=NOINDEX
        )
    kind, item_id, generation, expires = payload
    return PreviewClaim(kind, item_id, generation, datetime.fromtimestamp(expires, UTC))


def current_generation(session: Session, item_id: str) -> int:
    found = session.execute(
        select(GENERATIONS.c.generation).where(GENERATIONS.c.article_id == item_id)
    ).scalar()
    return int(found or 0)


def make_preview_link(
    session: Session,
    kind: PreviewKind,
    item: Article,
    lifetime: timedelta,
    principal: Principal,
    now: datetime,
    secret_key: str,
) -> PreviewLink:
    """A new link to the item's current state, valid for `lifetime` (whole seconds)."""
    expires_at = (now + lifetime).replace(microsecond=0)
    claim = PreviewClaim(kind.name, item.id, current_generation(session, item.id), expires_at)
    record(session, principal, f"{kind.name}.preview", kind.name, item.id, now)
    return PreviewLink(sign_claim(secret_key, claim), claim)


def end_previews(session: Session, item_id: str, now: datetime) -> None:
    """Bump the item's generation: every link made so far stops working. Deleting an item
    calls this too, so restoring it does not bring its old links back."""
    upsert = insert_on_conflict(session, PreviewGeneration).values(
        article_id=item_id, generation=1, revoked_at=now
    )
    session.execute(
        upsert.on_conflict_do_update(
            index_elements=[GENERATIONS.c.article_id],
            set_={"generation": GENERATIONS.c.generation + 1, "revoked_at": now},
        )
    )


def revoke_previews(
    session: Session, kind: PreviewKind, item: Article, principal: Principal, now: datetime
) -> None:
    """End every link made so far for the item (links made afterwards work)."""
    end_previews(session, item.id, now)
    record(session, principal, f"{kind.name}.preview_revoke", kind.name, item.id, now)


def previewed_item(
    session: Session,
    kinds: dict[str, PreviewKind],
    secret_key: str,
    token: str,
    now: datetime,
) -> tuple[PreviewKind, PreviewClaim, Article]:
    """The item a token shows, as it is now; 404 when the token is forged, expired or
    revoked, or the item is gone."""
    claim = read_claim(secret_key, token)
    kind = kinds.get(claim.kind)
    if kind is None:
        raise NotFound(
            "This is not a preview link; check that it was copied whole.", headers=NOINDEX
        )
    if claim.expires_at <= now:
        raise NotFound("This preview link has expired; ask for a new one.", headers=NOINDEX)
    try:
        item = kind.load(session, claim.item_id)
    except NotFound:
        raise NotFound("What this preview link showed no longer exists.", headers=NOINDEX) from None
    if claim.generation != current_generation(session, claim.item_id):
        raise NotFound("This preview link was revoked; ask for a new one.", headers=NOINDEX)
    return kind, claim, item

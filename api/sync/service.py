"""Delta sync: what changed for the public since a token, from the trigger-kept change log.

A token holds the content version it was issued at and the time it was issued. Changes
are read in (version, entity, id) order, so pages never split or skip a change. Things that
change by the clock alone (a scheduled article appearing, an action opening or closing) are
found by time and sent with the first page of an incremental sync.

A tag's, source's or author's `article_count` changes without a write to it: each page
also re-sends what its changed articles link to (one statement for the page's link rows)
and what the log names as unlinked (`tag_link`, `source_link`, `author_link`, written by
the triggers of migration 0010 when a link row is deleted).

Pages are article rows: the log names them as `article`, and each page of changes sorts
the ids it names into articles and pages by their kind (one statement).
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, literal, or_, select, tuple_, union
from sqlalchemy.orm import Session
from sqlmodel import col

from api.actions.models import Action
from api.articles.models import Article, ArticleAuthor, ArticleKind, ArticleTag, Citation
from api.articles.service import relation_options, visible
from api.authors.models import Author
from api.changes.models import Change
from api.core.db import content_version
from api.core.errors import BadRequest
from api.core.opaque import decode_opaque, encode_opaque
from api.sources.models import Source
from api.tags.models import Tag

ENTITIES: dict[str, Any] = {
    "article": Article,
    "tag": Tag,
    "source": Source,
    "action": Action,
    "author": Author,
    # Last, so tokens issued before pages existed still name a position in this order.
    "page": Article,
}
# The kind of article row each entity is (sync reads them from one table).
ARTICLE_ENTITIES = {"article": ArticleKind.article, "page": ArticleKind.page}
# Every relation, and the corrections: an article is re-sent in full when it is corrected.
ALL_RELATIONS = frozenset({"tags", "authors", "sources", "actions", "corrections"})
# Logged when a link row is deleted: the target lost an article (migration 0010).
UNLINKED = {"tag_link": "tag", "source_link": "source", "author_link": "author"}
LOGGED = frozenset(ENTITIES) | frozenset(UNLINKED)


@dataclass(frozen=True)
class SyncToken:
    """Where a client is: changes up to (version, entity, entity_id) seen, at `issued_at`.
    `full` marks a first sync still being paged (it walks the tables, not the log)."""

    version: int
    entity: str
    entity_id: str
    issued_at: datetime
    full: bool = False
    time_sent: bool = False

    def encode(self) -> str:
        payload = [
            self.version,
            self.entity,
            self.entity_id,
            self.issued_at.isoformat(),
            int(self.full),
            int(self.time_sent),
        ]
        return encode_opaque(payload)

    @classmethod
    def decode(cls, token: str) -> "SyncToken":
        try:
            version, entity, entity_id, issued, full, time_sent = decode_opaque(token)
            issued_at = datetime.fromisoformat(issued)
            if (
                not isinstance(version, int)
                or version < 0
                or not isinstance(entity, str)
                or not isinstance(entity_id, str)
                or issued_at.tzinfo is None
                or full not in (0, 1)
                or time_sent not in (0, 1)
                or (entity and entity not in (ENTITIES if full else LOGGED))
            ):
                raise ValueError("bad token")
        except (ValueError, TypeError):
            raise BadRequest(
                "The `since` token is malformed; pass `meta.next_since` unchanged."
            ) from None
        return cls(
            version, entity, entity_id, issued_at.astimezone(UTC), bool(full), bool(time_sent)
        )


@dataclass
class Delta:
    upserted: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))
    deleted: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    next_token: SyncToken | None = None
    has_more: bool = False


def _load(session: Session, entity: str, ids: Sequence[str], now: datetime) -> dict[str, Any]:
    """The current public object of each id (absent = gone or invisible)."""
    if not ids:
        return {}
    model = ENTITIES[entity]
    query = select(model).where(model.id.in_(ids))
    if entity in ARTICLE_ENTITIES:
        query = query.where(visible(now, ARTICLE_ENTITIES[entity])).options(
            *relation_options(ALL_RELATIONS)
        )
    return {row.id: row for row in session.scalars(query)}


def _full_page(session: Session, token: SyncToken, limit: int, now: datetime) -> Delta:
    """First sync: every visible item, walking the tables in (entity, id) order."""
    delta = Delta()
    order = list(ENTITIES)
    start = order.index(token.entity) if token.entity else 0
    remaining = limit
    last: tuple[str, str] | None = None
    for entity in order[start:]:
        model = ENTITIES[entity]
        query = select(model).order_by(model.id).limit(remaining + 1)
        if entity == token.entity and token.entity_id:
            query = query.where(model.id > token.entity_id)
        if entity in ARTICLE_ENTITIES:
            query = query.where(visible(now, ARTICLE_ENTITIES[entity])).options(
                *relation_options(ALL_RELATIONS)
            )
        rows = list(session.scalars(query))
        if len(rows) > remaining:
            rows = rows[:remaining]
            delta.has_more = True
        delta.upserted[entity].extend(rows)
        remaining -= len(rows)
        if rows:
            last = (entity, rows[-1].id)
        if delta.has_more:
            break
    if delta.has_more and last:
        delta.next_token = SyncToken(token.version, last[0], last[1], token.issued_at, full=True)
    else:
        delta.next_token = SyncToken(token.version, "", "", token.issued_at)
    return delta


def _time_triggered(session: Session, since: datetime, now: datetime) -> dict[str, list[str]]:
    """Items whose public state changed by the clock between `since` and `now` (articles
    and pages alike, under `article`: they are sorted by kind afterwards)."""
    articles = session.scalars(
        select(col(Article.id)).where(visible(now, None), col(Article.published_at) > since)
    ).all()
    actions = session.scalars(
        select(col(Action.id)).where(
            or_(
                col(Action.starts_at).between(since, now),
                col(Action.ends_at).between(since, now),
            )
        )
    ).all()
    return {"article": list(articles), "action": list(actions)}


def _by_kind(session: Session, article_ids: Sequence[str]) -> tuple[list[str], list[str]]:
    """These article rows' ids split into articles and pages; an id with no row left (a
    hard delete) is in both, so a client drops it wherever it kept it."""
    if not article_ids:
        return [], []
    ids = list(dict.fromkeys(article_ids))
    kinds = dict(
        session.execute(select(col(Article.id), col(Article.kind)).where(col(Article.id).in_(ids)))
        .tuples()
        .all()
    )
    articles = [i for i in ids if kinds.get(i, ArticleKind.article) == ArticleKind.article]
    pages = [i for i in ids if kinds.get(i, ArticleKind.page) == ArticleKind.page]
    return articles, pages


def _linked(session: Session, article_ids: Sequence[str]) -> dict[str, list[str]]:
    """The tags, sources and authors these articles link to, in one statement: their
    `article_count` may have changed with the articles."""
    if not article_ids:
        return {}
    ids = list(dict.fromkeys(article_ids))
    statement = union(
        select(literal("tag"), col(ArticleTag.tag_id)).where(col(ArticleTag.article_id).in_(ids)),
        select(literal("source"), col(Citation.source_id)).where(col(Citation.article_id).in_(ids)),
        select(literal("author"), col(ArticleAuthor.author_id)).where(
            col(ArticleAuthor.article_id).in_(ids)
        ),
    )
    linked: dict[str, list[str]] = defaultdict(list)
    for entity, entity_id in session.execute(statement):
        linked[entity].append(entity_id)
    for targets in linked.values():
        targets.sort()
    return linked


def sync_delta(session: Session, since: str | None, limit: int, now: datetime) -> Delta:
    """One page of changes since the token (everything visible when there is none)."""
    version = content_version(session.connection())
    if since is None:
        return _full_page(session, SyncToken(version, "", "", now, full=True), limit, now)
    token = SyncToken.decode(since)
    if token.full:
        return _full_page(session, token, limit, now)

    change_version = col(Change.version)
    latest = func.max(change_version).label("latest")
    grouped = (
        select(col(Change.entity), col(Change.entity_id), latest)
        # A page that stopped inside a version resumes within it (the tuple test below).
        .where(
            change_version >= token.version if token.entity else change_version > token.version,
            change_version <= version,
            # Other entities (the site settings) are logged too; sync does not send them.
            col(Change.entity).in_(sorted(LOGGED)),
        )
        .group_by(col(Change.entity), col(Change.entity_id))
        .subquery()
    )
    query = select(grouped.c.entity, grouped.c.entity_id, grouped.c.latest)
    if token.entity:
        query = query.where(
            tuple_(grouped.c.latest, grouped.c.entity, grouped.c.entity_id)
            > tuple_(token.version, token.entity, token.entity_id)
        )
    rows = session.execute(
        query.order_by(grouped.c.latest, grouped.c.entity, grouped.c.entity_id).limit(limit + 1)
    ).all()
    delta = Delta()
    if len(rows) > limit:
        rows = rows[:limit]
        delta.has_more = True
    by_entity: dict[str, list[str]] = defaultdict(list)
    for entity, entity_id, _latest in rows:
        by_entity[UNLINKED.get(entity, entity)].append(entity_id)
    if not token.time_sent:
        for entity, ids in _time_triggered(session, token.issued_at, now).items():
            by_entity[entity].extend(ids)
    if by_entity.get("article"):
        by_entity["article"], by_entity["page"] = _by_kind(session, by_entity["article"])
    for entity, ids in _linked(session, by_entity.get("article", [])).items():
        by_entity[entity].extend(ids)
    for entity, ids in by_entity.items():
        unique = list(dict.fromkeys(ids))
        found = _load(session, entity, unique, now)
        for entity_id in unique:
            if entity_id in found:
                delta.upserted[entity].append(found[entity_id])
            else:
                delta.deleted[entity].append(entity_id)
    # The clock was checked up to `now` on the first page; later pages carry that mark on.
    checked_until = token.issued_at if token.time_sent else now
    if delta.has_more:
        last_entity, last_id, last_version = rows[-1]
        delta.next_token = SyncToken(
            int(last_version), last_entity, last_id, checked_until, time_sent=True
        )
    else:
        delta.next_token = SyncToken(version, "", "", checked_until)
    return delta

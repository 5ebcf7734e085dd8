"""Which feeds changed: from the change log, as webhook events are, so that every write path
(the admin API, corrections, bundle and other imports) and every scheduled article coming
out pings the hub.

`queue_pings` is one pass: under the lock of the `websub_cursor` row it reads the articles
changed after the cursor and those whose publication time came since the last pass, takes
the topics each was in at the last pass (`websub_article_topics`) and those it is in now,
and makes the feed URLs of both pending in `websub_pings`, advancing the cursor and the
remembered topics in the same transaction. A draft's edits change no feed and ping nothing.

The first pass (the hub just configured) starts from the current change-log version and
remembers the topics of every published article, so later changes know what came before.
"""

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, String, delete, func, insert, literal, select, union
from sqlalchemy.orm import Session
from sqlmodel import col

from api.articles.models import Article, ArticleTag, Citation
from api.articles.service import visible
from api.changes.models import Change
from api.core.db import insert_on_conflict, new_id
from api.sources.models import Source
from api.tags.models import Tag
from api.websub.models import PingStatus, WebSubArticleTopic, WebSubCursor, WebSubPing
from api.websub.topics import MAIN, topic_urls

BATCH_VERSIONS = 500
CHUNK = 1000


@dataclass(frozen=True)
class QueuedPings:
    topics: list[str]  # the feed URLs made pending
    more: bool  # changes remain: pass again


def _topics_of(now: datetime, ids: Collection[str] | None) -> Select[Any]:
    """(article_id, topic) for every published article (or these ones): the main feed, its
    tags' and its sources' feeds."""
    shown = visible(now)
    main = select(col(Article.id), literal(MAIN, String)).where(shown)
    tagged = (
        select(col(ArticleTag.article_id), literal("tag=", String) + col(Tag.slug))
        .join(Tag, col(Tag.id) == col(ArticleTag.tag_id))
        .join(Article, col(Article.id) == col(ArticleTag.article_id))
        .where(shown)
    )
    cited = (
        select(col(Citation.article_id), literal("source=", String) + col(Source.slug))
        .join(Source, col(Source.id) == col(Citation.source_id))
        .join(Article, col(Article.id) == col(Citation.article_id))
        .where(shown)
    )
    if ids is not None:
        main = main.where(col(Article.id).in_(ids))
        tagged = tagged.where(col(ArticleTag.article_id).in_(ids))
        cited = cited.where(col(Citation.article_id).in_(ids))
    return union(main, tagged, cited)  # type: ignore[return-value]


def _lock_cursor(session: Session, now: datetime) -> WebSubCursor:
    """The cursor row, locked until the transaction ends; made on the first pass, at the
    current version with every published article's topics remembered."""
    newest = session.scalar(select(func.max(col(Change.version)))) or 0
    made = session.execute(
        insert_on_conflict(session, WebSubCursor)
        .values(id=1, last_version=newest, last_scan_at=now)
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(col(WebSubCursor.id))
    ).first()
    if made is not None:
        session.execute(delete(WebSubArticleTopic))
        session.execute(
            insert(WebSubArticleTopic).from_select(["article_id", "topic"], _topics_of(now, None))
        )
    return session.scalars(
        select(WebSubCursor)
        .where(col(WebSubCursor.id) == 1)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _changed_articles(session: Session, version: int) -> tuple[set[str], int, bool]:
    """Articles changed after `version`, up to BATCH_VERSIONS versions; the last version
    read; whether more remain."""
    versions = col(Change.version)
    upper = session.scalar(
        select(versions).where(versions > version).order_by(versions).offset(BATCH_VERSIONS - 1)
    )
    newest = session.scalar(select(func.max(versions))) or version
    last = upper if upper is not None else newest
    ids = session.scalars(
        select(col(Change.entity_id))
        .where(versions > version, versions <= last, col(Change.entity) == "article")
        .distinct()
    )
    return set(ids), max(last, version), last < newest


def _remembered(session: Session, ids: list[str]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        rows = session.execute(
            select(col(WebSubArticleTopic.article_id), col(WebSubArticleTopic.topic)).where(
                col(WebSubArticleTopic.article_id).in_(chunk)
            )
        )
        for article_id, topic in rows:
            found[article_id].add(topic)
    return found


def _remember(session: Session, ids: list[str], now: datetime) -> dict[str, set[str]]:
    """Replace what is remembered of these articles with the topics they are in now."""
    current: dict[str, set[str]] = defaultdict(set)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        session.execute(
            delete(WebSubArticleTopic).where(col(WebSubArticleTopic.article_id).in_(chunk))
        )
        rows = session.execute(_topics_of(now, chunk)).all()
        for article_id, topic in rows:
            current[article_id].add(topic)
        if rows:
            session.execute(
                insert(WebSubArticleTopic),
                [{"article_id": article_id, "topic": topic} for article_id, topic in rows],
            )
    return current


def request_pings(session: Session, topics: Iterable[str], now: datetime) -> None:
    """Make these feed URLs' pings pending, due now (one row per URL: a change while one is
    pending or being sent asks again, and the hub is told once more after it)."""
    rows = [
        {
            "id": new_id(),
            "topic": topic,
            "status": PingStatus.pending.value,
            "requested": 1,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for topic in topics
    ]
    for start in range(0, len(rows), CHUNK):
        statement = insert_on_conflict(session, WebSubPing).values(rows[start : start + CHUNK])
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["topic"],
                set_={
                    "status": PingStatus.pending.value,
                    "requested": col(WebSubPing.requested) + 1,
                    "attempts": 0,
                    "next_attempt_at": now,
                },
            )
        )


def queue_pings(session: Session, now: datetime, base: str) -> QueuedPings:
    """One pass (the caller commits): the feed URLs of the topics that changed since the
    last pass become pending pings. `base` is the feeds' public base URL."""
    cursor = _lock_cursor(session, now)
    ids, last_version, more = _changed_articles(session, cursor.last_version)
    if cursor.last_scan_at is not None and cursor.last_scan_at < now:
        came_out = select(col(Article.id)).where(
            visible(now), col(Article.published_at) > cursor.last_scan_at
        )
        ids |= set(session.scalars(came_out))
    ordered = sorted(ids)
    before = _remembered(session, ordered)
    after = _remember(session, ordered, now)
    keys: set[str] = set()
    for article_id in ordered:
        keys |= before.get(article_id, set()) | after.get(article_id, set())
    topics = topic_urls(base, keys)
    request_pings(session, topics, now)
    cursor.last_version = last_version
    if cursor.last_scan_at is None or cursor.last_scan_at < now:
        cursor.last_scan_at = now
    session.flush()
    return QueuedPings(topics, more)

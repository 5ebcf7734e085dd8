"""Webhook events, derived from the change log so that every write path fires them.

`dispatch_events` is one pass: under the lock of the `webhook_cursor` row it reads the
changes after the cursor, compares each changed article with what subscribers were last told
(`webhook_article_state`), adds the articles whose scheduled time has come since the last
pass, takes `subscriber.confirmed` and `article.corrected` from the domain-event outbox, and
queues one delivery per event per subscribed active hook, advancing the cursor in the same
transaction. With several workers the passes run one after the other, so each event is
queued once.
"""

import hashlib
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import case, delete, false, func, insert, null, select, true
from sqlalchemy.orm import Session
from sqlmodel import col

from api.actions.models import Action
from api.actions.schemas import action_public
from api.articles.models import Article
from api.articles.schemas import FULL_RELATIONS, article_public
from api.articles.service import relation_options, visible
from api.changes.models import Change
from api.core.db import insert_on_conflict
from api.core.http import dump_json
from api.events.models import OutboxEvent
from api.site.service import load_site
from api.sources.models import Source
from api.sources.schemas import source_public
from api.sources.service import source_article_counts
from api.tags.models import Tag
from api.tags.schemas import tag_public
from api.tags.service import tag_article_counts
from api.webhooks.models import (
    Webhook,
    WebhookArticleState,
    WebhookCursor,
    WebhookDelivery,
)

ARTICLE_EVENTS = (
    "article.published",
    "article.updated",
    "article.unpublished",
    "article.deleted",
    "article.corrected",
)
# Pages are article rows: the same comparison, events named after the row's kind.
PAGE_EVENTS = ("page.published", "page.updated", "page.unpublished", "page.deleted")
RESOURCE_EVENTS = (
    "tag.changed",
    "tag.deleted",
    "source.changed",
    "source.deleted",
    "action.changed",
    "action.deleted",
)
SUBSCRIBER_EVENTS = ("subscriber.confirmed",)
# Taken from the domain-event outbox, where the change that makes them writes them.
OUTBOX_EVENTS = (*SUBSCRIBER_EVENTS, "article.corrected")
EVENT_NAMES = (*ARTICLE_EVENTS, *PAGE_EVENTS, *RESOURCE_EVENTS, *SUBSCRIBER_EVENTS)
# Change-log versions turned into events per pass; a pass reports whether more remain.
# (While no hook listens, a pass takes every version at once: `_remember_visibility`.)
BATCH_VERSIONS = 500
OUTBOX_BATCH = 500


@dataclass(frozen=True)
class Event:
    name: str
    occurred_at: datetime
    data: dict[str, Any]

    def payload(self) -> dict[str, Any]:
        return {"event": self.name, "occurred_at": self.occurred_at, "data": self.data}


@dataclass(frozen=True)
class DispatchResult:
    events: list[Event]
    deliveries: int
    more: bool


def _lock_cursor(session: Session) -> WebhookCursor:
    """The cursor row, created if missing and locked until the transaction ends (on SQLite
    the insert takes the database's write lock, which serialises passes the same way)."""
    session.execute(
        insert_on_conflict(session, WebhookCursor)
        .values(id=1, last_version=0, last_scan_at=None)
        .on_conflict_do_nothing(index_elements=["id"])
    )
    cursor = session.scalars(
        select(WebhookCursor)
        .where(col(WebhookCursor.id) == 1)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return cursor


def _changes_after(session: Session, version: int, versions: int) -> tuple[list[Change], int, bool]:
    """Changes after `version`, up to `versions` versions (whole versions only)."""
    upper = session.scalars(
        select(col(Change.version))
        .where(col(Change.version) > version)
        .order_by(col(Change.version))
        .offset(versions - 1)
        .limit(1)
    ).first()
    query = select(Change).where(col(Change.version) > version)
    if upper is not None:
        query = query.where(col(Change.version) <= upper)
    changes = list(session.scalars(query.order_by(col(Change.version), col(Change.id))))
    if not changes:
        return [], version, False
    last = changes[-1].version
    more = session.scalars(
        select(col(Change.id)).where(col(Change.version) > last).limit(1)
    ).first()
    return changes, last, more is not None


def _fingerprint(public: dict[str, Any]) -> str:
    return hashlib.sha256(dump_json(public)).hexdigest()


def _visibility_and_states(
    session: Session, ids: Collection[str], now: datetime
) -> tuple[set[str], dict[str, WebhookArticleState]]:
    """Which of these articles (and pages) are visible now, and what subscribers were last
    told."""
    visible_ids = set(
        session.scalars(select(col(Article.id)).where(col(Article.id).in_(ids), visible(now, None)))
    )
    states = {
        s.article_id: s
        for s in session.scalars(
            select(WebhookArticleState).where(col(WebhookArticleState.article_id).in_(ids))
        )
    }
    return visible_ids, states


def _article_events(
    session: Session,
    ids: set[str],
    changed_at: dict[str, datetime],
    now: datetime,
    base: str,
) -> list[Event]:
    """Compare each article with what subscribers were last told; remember the new state."""
    if not ids:
        return []
    articles = {
        a.id: a
        for a in session.scalars(
            select(Article)
            .where(col(Article.id).in_(ids))
            .options(*relation_options(FULL_RELATIONS))
        )
    }
    visible_ids, states = _visibility_and_states(session, ids, now)
    # As the public API shows them: `canonical_url` falls back to the frontend's URL.
    site = load_site(session, base) if base and visible_ids else None
    events: list[Event] = []
    for article_id in sorted(ids):
        article = articles.get(article_id)
        state = states.get(article_id)
        was_visible = bool(state and state.was_visible)
        at = changed_at.get(article_id, now)
        if article_id not in changed_at and article is not None and article.published_at:
            at = article.published_at  # scheduled: it appeared when its time came
        gone = {"id": article_id, "slug": state.slug if state else None}
        if article is None:
            if was_visible:  # a row deleted outright: its kind is gone with it
                events.append(Event("article.deleted", at, gone))
            if state is not None:
                session.delete(state)
            continue
        is_visible = article_id in visible_ids
        public = (
            article_public(
                article,
                include=FULL_RELATIONS,
                fields=None,
                with_body=True,
                now=now,
                base=base,
                site=site,
            )
            if is_visible
            else None
        )
        fingerprint = _fingerprint(public) if public is not None else None
        kind = article.kind
        if is_visible and not was_visible:
            events.append(Event(f"{kind}.published", at, public or {}))
        elif was_visible and not is_visible:
            name = f"{kind}.deleted" if article.deleted_at else f"{kind}.unpublished"
            events.append(Event(name, at, gone))
        elif is_visible and state is not None and state.fingerprint != fingerprint:
            events.append(Event(f"{kind}.updated", at, public or {}))
        if state is None:
            state = WebhookArticleState(article_id=article_id, was_visible=is_visible)
            session.add(state)
        state.was_visible = is_visible
        if is_visible:
            state.slug = article.slug
            state.fingerprint = fingerprint
    return events


def _any_active_hook(session: Session) -> bool:
    return (
        session.scalars(
            select(col(Webhook.id)).where(col(Webhook.active).is_(True)).limit(1)
        ).first()
        is not None
    )


def _remember_visibility(
    session: Session,
    after_version: int,
    upto_version: int,
    scan_since: datetime | None,
    now: datetime,
) -> None:
    """While no hook listens, record which articles changed in (after, upto] (or whose
    publication time passed since `scan_since`) are visible, in two set statements: no
    article is rendered, and no change is read into Python (after a bulk import of 100,000
    articles, a walk through its change log would take minutes). The fingerprint is left unknown,
    so the next change to a visible article is reported as `article.updated`, never as a
    second `article.published`; a state whose article is gone is dropped."""
    changed = select(col(Change.entity_id)).where(
        col(Change.version) > after_version,
        col(Change.version) <= upto_version,
        col(Change.entity) == "article",
    )
    if scan_since is not None and scan_since < now:
        came_due = select(col(Article.id)).where(
            visible(now, None), col(Article.published_at) > scan_since
        )
        chosen = changed.union(came_due).subquery()
    else:
        chosen = changed.subquery()
    session.execute(
        delete(WebhookArticleState).where(
            col(WebhookArticleState.article_id).in_(select(chosen.c[0]))
        )
    )
    shown = visible(now, None)
    session.execute(
        insert(WebhookArticleState).from_select(
            ["article_id", "was_visible", "slug", "fingerprint"],
            select(
                col(Article.id),
                case((shown, true()), else_=false()),
                case((shown, col(Article.slug)), else_=null()),
                null(),
            ).where(col(Article.id).in_(select(chosen.c[0]))),
        )
    )


def _resource_events(
    session: Session,
    ids_by_entity: dict[str, set[str]],
    changed_at: dict[str, datetime],
    now: datetime,
    base: str,
) -> list[Event]:
    """`<entity>.changed` with the public shape, or `<entity>.deleted` when the row is gone."""

    def shaped_tags(rows: list[Any]) -> dict[str, Any]:
        counts = tag_article_counts(session, now, [t.id for t in rows])
        return {t.id: tag_public(t, counts.get(t.id, 0)) for t in rows}

    def shaped_sources(rows: list[Any]) -> dict[str, Any]:
        counts = source_article_counts(session, now, [s.id for s in rows])
        return {s.id: source_public(s, counts.get(s.id, 0)) for s in rows}

    def shaped_actions(rows: list[Any]) -> dict[str, Any]:
        return {a.id: action_public(a, now, base) for a in rows}

    events: list[Event] = []
    for entity, model, shape in (
        ("tag", Tag, shaped_tags),
        ("source", Source, shaped_sources),
        ("action", Action, shaped_actions),
    ):
        ids = ids_by_entity.get(entity, set())
        if not ids:
            continue
        shaped = shape(list(session.scalars(select(model).where(col(model.id).in_(ids)))))
        for entity_id in sorted(ids):
            at = changed_at.get(entity_id, now)
            if entity_id in shaped:
                events.append(Event(f"{entity}.changed", at, shaped[entity_id]))
            else:
                events.append(Event(f"{entity}.deleted", at, {"id": entity_id}))
    return events


def _outbox_events(session: Session, now: datetime, base: str) -> list[Event]:
    """`subscriber.confirmed` and `article.corrected` from the domain-event outbox, which
    webhooks consume. A corrected article is sent as the public sees it now, with the new
    note as `correction`; a correction of an article the public cannot see is no event."""
    rows = list(
        session.scalars(
            select(OutboxEvent)
            .where(
                col(OutboxEvent.consumed_at).is_(None),
                col(OutboxEvent.name).in_(OUTBOX_EVENTS),
            )
            .order_by(col(OutboxEvent.id))
            .limit(OUTBOX_BATCH)
        )
    )
    for row in rows:
        row.consumed_at = now
    corrected = {row.payload["article_id"] for row in rows if row.name == "article.corrected"}
    shown = _visible_public(session, corrected, now, base)
    events = []
    for row in rows:
        if row.name != "article.corrected":
            events.append(Event(row.name, row.created_at, dict(row.payload)))
        elif row.payload["article_id"] in shown:
            article = shown[row.payload["article_id"]]
            events.append(
                Event(
                    row.name, row.created_at, {**article, "correction": row.payload["correction"]}
                )
            )
    return events


def _visible_public(
    session: Session, ids: Collection[str], now: datetime, base: str
) -> dict[str, dict[str, Any]]:
    """The public shape of each of these articles that is visible now."""
    if not ids:
        return {}
    articles = list(
        session.scalars(
            select(Article)
            .where(col(Article.id).in_(ids), visible(now))
            .options(*relation_options(FULL_RELATIONS))
        )
    )
    site = load_site(session, base) if base and articles else None
    return {
        a.id: article_public(
            a, include=FULL_RELATIONS, fields=None, with_body=True, now=now, base=base, site=site
        )
        for a in articles
    }


def _scheduled_article_ids(session: Session, since: datetime, now: datetime) -> set[str]:
    """Articles and pages whose publication time passed between the last scan and now."""
    return set(
        session.scalars(
            select(col(Article.id)).where(visible(now, None), col(Article.published_at) > since)
        )
    )


def _queue(session: Session, events: list[Event], now: datetime) -> int:
    """One delivery per event per active hook subscribed to it."""
    if not events:
        return 0
    hooks = list(
        session.scalars(
            select(Webhook).where(col(Webhook.active).is_(True)).order_by(col(Webhook.created_at))
        )
    )
    queued = 0
    for event in events:
        # Through JSON once, so the column holds exactly what will be sent (dates as text).
        payload = orjson.loads(dump_json(event.payload()))
        for hook in hooks:
            if event.name in hook.events:
                session.add(
                    WebhookDelivery(
                        webhook_id=hook.id,
                        event=event.name,
                        payload=payload,
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
                queued += 1
    return queued


def dispatch_events(session: Session, now: datetime, base: str = "") -> DispatchResult:
    """One pass (the caller commits): queue deliveries for what changed since the last pass.

    `base` is the public base URL used in the payloads' links."""
    cursor = _lock_cursor(session)
    if not _any_active_hook(session):
        # Nobody to tell: only remember which articles are visible, without rendering them.
        newest = session.scalar(select(func.max(col(Change.version))))
        upto = max(newest or 0, cursor.last_version)
        _remember_visibility(session, cursor.last_version, upto, cursor.last_scan_at, now)
        events = _outbox_events(session, now, base)
        _advance(cursor, upto, now)
        session.flush()
        return DispatchResult(events, _queue(session, events, now), False)
    changes, last_version, more = _changes_after(session, cursor.last_version, BATCH_VERSIONS)
    ids_by_entity: dict[str, set[str]] = defaultdict(set)
    changed_at: dict[str, datetime] = {}
    for change in changes:
        ids_by_entity[change.entity].add(change.entity_id)
        changed_at[change.entity_id] = change.changed_at
    article_ids = set(ids_by_entity.get("article", set()))
    if cursor.last_scan_at is not None and cursor.last_scan_at < now:
        article_ids |= _scheduled_article_ids(session, cursor.last_scan_at, now)
    events = _article_events(session, article_ids, changed_at, now, base)
    events += _resource_events(session, ids_by_entity, changed_at, now, base)
    events += _outbox_events(session, now, base)
    queued = _queue(session, events, now)
    _advance(cursor, last_version, now)
    session.flush()
    return DispatchResult(events, queued, more)


def _advance(cursor: Any, version: int, now: datetime) -> None:
    cursor.last_version = version
    if cursor.last_scan_at is None or cursor.last_scan_at < now:
        cursor.last_scan_at = now

"""Correcting articles: add, amend and delete their notes; read them for other shapes.

A note is part of the article: each write bumps the article's version (its admin ETag
changes), sets its `updated_at` (feeds, sync and caches see the change), saves a revision
(which lists the notes) and is audited (`correction.create`, `.amend`, `.delete`). A new
note also queues `article.corrected` in the domain-event outbox, in the same transaction."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Row, bindparam, func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.articles.editing import ENTITY, save_revision
from api.articles.models import Article
from api.articles.reads import (
    ARTICLES,
    CORRECTIONS,
    RELATION_QUERIES,
    ArticleView,
    article_columns,
    article_views,
)
from api.articles.service import ArticleFilters, filtered_statement
from api.auth.service import Principal
from api.core.db import new_id
from api.core.errors import Conflict, NotFound, Unprocessable
from api.core.http import dump_json
from api.corrections.models import Correction
from api.corrections.schemas import (
    MAX_PER_ARTICLE,
    CorrectionCreate,
    CorrectionUpdate,
    correction_public,
)
from api.editorial.audit import record
from api.editorial.versions import bump_version
from api.events.service import emit


def correction_admin(correction: Correction) -> dict[str, Any]:
    """A note as editors see it."""
    return correction_public(correction) | {
        "article_id": correction.article_id,
        "created_at": correction.created_at,
        "token_name": correction.token_name,
    }


def list_corrections(session: Session, article: Article) -> list[Correction]:
    """The article's notes, oldest first."""
    return list(
        session.scalars(
            select(Correction)
            .where(col(Correction.article_id) == article.id)
            .order_by(col(Correction.published_at), col(Correction.id))
        )
    )


def load_correction(session: Session, article: Article, correction_id: str) -> Correction:
    correction = session.get(Correction, correction_id)
    if correction is None or correction.article_id != article.id:
        raise NotFound(f"Article `{article.id}` has no correction `{correction_id}`.")
    return correction


def corrections_of(session: Session, article_ids: Sequence[str]) -> dict[str, list[Row[Any]]]:
    """Each article's notes, oldest first, in one statement (absent ids have none). Each row
    answers `id`, `kind`, `text`, `published_at` (the public `at`) and `amended_at`, as the
    `corrections` of an article view do."""
    found: dict[str, list[Row[Any]]] = defaultdict(list)
    if article_ids:
        query = RELATION_QUERIES["corrections"]
        for row in session.connection().execute(query, {"ids": list(dict.fromkeys(article_ids))}):
            found[row.owner_id].append(row)
    return dict(found)


def recently_corrected(
    session: Session,
    now: datetime,
    filters: ArticleFilters,
    *,
    after: datetime,
    limit: int,
    include: frozenset[str],
) -> list[ArticleView]:
    """Up to `limit` visible articles (narrowed by `filters`) with a note made public after
    `after`, latest note first, with their bodies and the included relations: what a feed
    re-sends. Two statements, plus one per relation; none when no note is that recent."""
    latest = func.max(CORRECTIONS.c.published_at)
    noted = (
        filtered_statement(filters.query_shape(), (ARTICLES.c.id,))
        .join_from(ARTICLES, CORRECTIONS, CORRECTIONS.c.article_id == ARTICLES.c.id)
        .where(
            CORRECTIONS.c.published_at > bindparam("after", type_=CORRECTIONS.c.published_at.type),
            CORRECTIONS.c.published_at <= bindparam("now", type_=CORRECTIONS.c.published_at.type),
        )
        .group_by(ARTICLES.c.id)
        .order_by(latest.desc(), ARTICLES.c.id.desc())
        .limit(limit)
    )
    connection = session.connection()
    ids = list(connection.execute(noted, filters.params(now) | {"after": after}).scalars())
    if not ids:
        return []
    rows = connection.execute(
        select(*article_columns(with_body=True)).where(ARTICLES.c.id.in_(ids))
    ).all()
    return article_views(session, rows, include)


def _checked_time(article: Article, at: datetime | None, now: datetime) -> datetime:
    """`at`, or now: never in the future, never before the article came out."""
    if at is None:
        return now
    if at > now:
        raise Unprocessable(
            "A correction cannot be dated in the future.",
            errors=[{"loc": ["body", "at"], "msg": "must not be in the future"}],
        )
    if article.published_at is not None and at < article.published_at:
        raise Unprocessable(
            "A correction cannot be dated before the article's publication.",
            errors=[{"loc": ["body", "at"], "msg": "must not be before its published_at"}],
        )
    return at


def _article_changed(
    session: Session,
    article: Article,
    correction_id: str,
    action: str,
    principal: Principal,
    now: datetime,
) -> None:
    """What every note write does to its article: a new version, `updated_at`, a revision
    that lists the notes, an audit entry."""
    bump_version(session, ENTITY, article.id)
    article.updated_at = now
    session.flush()
    session.expire(article, ["corrections"])
    save_revision(session, article, principal, now)
    record(session, principal, f"correction.{action}", "correction", correction_id, now)


def add_correction(
    session: Session,
    article: Article,
    data: CorrectionCreate,
    principal: Principal,
    now: datetime,
) -> Correction:
    """A new note on the article, public at once if the article is."""
    count = session.scalar(select(func.count()).where(col(Correction.article_id) == article.id))
    if (count or 0) >= MAX_PER_ARTICLE:
        raise Conflict(f"An article carries at most {MAX_PER_ARTICLE} corrections.")
    correction = Correction(
        id=new_id(),
        article_id=article.id,
        kind=data.kind,
        text=data.text,
        published_at=_checked_time(article, data.at, now),
        created_at=now,
        token_name=principal.name,
    )
    session.add(correction)
    session.flush()
    _article_changed(session, article, correction.id, "create", principal, now)
    note = orjson.loads(dump_json(correction_public(correction)))
    emit(session, "article.corrected", {"article_id": article.id, "correction": note}, now)
    return correction


def amend_correction(
    session: Session,
    article: Article,
    correction: Correction,
    data: CorrectionUpdate,
    principal: Principal,
    now: datetime,
) -> Correction:
    """Change a note's kind, wording or time; the change is dated (`amended_at`)."""
    changes = data.model_dump(exclude_unset=True)
    if not changes or None in changes.values():
        nulls = [name for name, value in changes.items() if value is None]
        raise Unprocessable(
            "Give the fields to change (`kind`, `text`, `at`), none of them null.",
            errors=[{"loc": ["body", name], "msg": "must not be null"} for name in nulls],
        )
    if "at" in changes:
        correction.published_at = _checked_time(article, changes["at"], now)
    correction.kind = changes.get("kind", correction.kind)
    correction.text = changes.get("text", correction.text)
    correction.amended_at = now
    session.flush()
    _article_changed(session, article, correction.id, "amend", principal, now)
    return correction


def delete_correction(
    session: Session,
    article: Article,
    correction: Correction,
    principal: Principal,
    now: datetime,
) -> None:
    """Remove a note (one made in error): the revision saved before keeps its text, the new
    one shows it gone, and the audit log says who removed it."""
    correction_id = correction.id
    session.delete(correction)
    session.flush()
    _article_changed(session, article, correction_id, "delete", principal, now)

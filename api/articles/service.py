"""Reading articles as the public sees them: visibility, filters, sorting, relations."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal, select, union_all
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql import Select

from api.actions.models import Action
from api.articles.models import (
    Article,
    ArticleAction,
    ArticleAuthor,
    ArticleStatus,
    ArticleTag,
    Citation,
)
from api.articles.reads import ArticleView, article_columns, article_views
from api.authors.models import Author
from api.core.errors import NotFound
from api.core.pagination import Page, SortKey, count_rows, page_from_rows, paginate_query, sort_keys
from api.search.index import SearchMatch
from api.sources.models import Source
from api.tags.models import Tag

ARTICLE_SORTS = sort_keys(
    Article.id,
    published_at=Article.published_at,
    updated_at=Article.updated_at,
    title=Article.title,
)
DEFAULT_ARTICLE_SORT = "-published_at"
RELATED_TAG_WEIGHT = 3
RELATED_SOURCE_WEIGHT = 1


def visible(now: datetime) -> ColumnElement[bool]:
    """Published, not deleted, and its publication time has come (scheduling needs no cron)."""
    return and_(
        Article.status == ArticleStatus.published,
        Article.deleted_at.is_(None),
        Article.published_at <= now,
    )


def relation_options(include: frozenset[str]) -> list[Any]:
    """Eager loads for the included relations: one extra query each, whatever the page size."""
    options: list[Any] = []
    if "tags" in include:
        options.append(selectinload(Article.tags))
    if "authors" in include:
        options.append(selectinload(Article.authors))
    if "sources" in include:
        options.append(selectinload(Article.citations))
    if "actions" in include:
        options.append(selectinload(Article.actions))
    return options


@dataclass
class ArticleFilters:
    tags: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    lang: str | None = None
    q: str | None = None
    published_after: datetime | None = None
    published_before: datetime | None = None
    updated_after: datetime | None = None


def filtered_articles(session: Session, now: datetime, filters: ArticleFilters) -> Select[Any]:
    """Visible articles narrowed by the filters (each relation filter is 'any of these slugs')."""
    query = select(Article).where(visible(now))
    relation_filters = (
        (filters.tags, ArticleTag.article_id, ArticleTag.tag_id, Tag),
        (filters.sources, Citation.article_id, Citation.source_id, Source),
        (filters.actions, ArticleAction.article_id, ArticleAction.action_id, Action),
        (filters.authors, ArticleAuthor.article_id, ArticleAuthor.author_id, Author),
    )
    for slugs, article_id, target_id, target in relation_filters:
        if slugs:
            query = query.where(
                Article.id.in_(
                    select(article_id)
                    .join(target, target.id == target_id)
                    .where(target.slug.in_(slugs))
                )
            )
    if filters.lang:
        query = query.where(Article.lang == filters.lang)
    if filters.published_after:
        query = query.where(Article.published_at > filters.published_after)
    if filters.published_before:
        query = query.where(Article.published_at < filters.published_before)
    if filters.updated_after:
        query = query.where(Article.updated_at > filters.updated_after)
    if filters.q:
        match = SearchMatch(session, filters.q)
        if match.empty:
            return query.where(literal(False))
        query = query.where(Article.id.in_(match.matching_ids()))
    return query


def list_articles(
    session: Session,
    now: datetime,
    filters: ArticleFilters,
    *,
    sort: SortKey,
    cursor: str | None,
    limit: int,
    include: frozenset[str],
    count: bool,
    with_body: bool = False,
) -> Page[ArticleView]:
    """A keyset page of visible articles as views: one statement for the page, one per
    included relation, one more for `count=true`."""
    query = filtered_articles(session, now, filters)
    paged, limit = paginate_query(
        query.with_only_columns(*article_columns(with_body)), sort, cursor, limit
    )
    page = page_from_rows(session.execute(paged).all(), sort, limit)
    items = article_views(session, page.items, include)
    total = count_rows(session, query) if count else None
    return Page(items, page.next_cursor, total)


def get_visible_article(
    session: Session, now: datetime, slug: str, include: frozenset[str]
) -> ArticleView:
    row = session.execute(
        select(*article_columns(with_body=True)).where(Article.slug == slug, visible(now))
    ).first()
    if row is None:
        raise NotFound(f"No published article with slug `{slug}`.")
    return article_views(session, [row], include)[0]


def related_articles(
    session: Session,
    now: datetime,
    article: ArticleView,
    limit: int,
    include: frozenset[str],
    with_body: bool = False,
) -> list[ArticleView]:
    """Visible articles sharing tags (weighted higher) or sources; most shared, then newest."""
    shared_tags = select(
        ArticleTag.article_id.label("article_id"),
        literal(RELATED_TAG_WEIGHT).label("weight"),
    ).where(
        ArticleTag.tag_id.in_(select(ArticleTag.tag_id).where(ArticleTag.article_id == article.id))
    )
    shared_sources = select(
        Citation.article_id.label("article_id"),
        literal(RELATED_SOURCE_WEIGHT).label("weight"),
    ).where(
        Citation.source_id.in_(select(Citation.source_id).where(Citation.article_id == article.id))
    )
    candidates = union_all(shared_tags, shared_sources).subquery()
    scores = (
        select(candidates.c.article_id, func.sum(candidates.c.weight).label("score"))
        .where(candidates.c.article_id != article.id)
        .group_by(candidates.c.article_id)
        .subquery()
    )
    query = (
        select(*article_columns(with_body))
        .join(scores, scores.c.article_id == Article.id)
        .where(visible(now))
        .order_by(scores.c.score.desc(), Article.published_at.desc(), Article.id.desc())
        .limit(limit)
    )
    return article_views(session, session.execute(query).all(), include)

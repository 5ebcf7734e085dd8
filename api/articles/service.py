"""Reading articles as the public sees them: visibility, filters, sorting, relations."""

import functools
import operator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, func, literal, select, union_all
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql import Select
from sqlmodel import col

from api.actions.models import Action
from api.articles.models import (
    Article,
    ArticleAction,
    ArticleAuthor,
    ArticleKind,
    ArticleStatus,
    ArticleTag,
    Citation,
)
from api.articles.reads import (
    ARTICLES,
    CITATIONS,
    ArticleView,
    article_columns,
    article_views,
)
from api.articles.translations import LANGUAGES, preferred_versions
from api.authors.models import Author
from api.core.errors import NotFound
from api.core.languages import LanguagePreference
from api.core.pagination import Page, SortKey, decode_cursor, page_from_rows, sort_keys
from api.core.tables import relationship_attribute, table_of
from api.search.index import SearchMatch
from api.sources.models import Source
from api.tags.models import Tag

ARTICLE_COLUMNS = ARTICLES.c
ARTICLE_SORTS = sort_keys(
    ARTICLE_COLUMNS.id,
    published_at=ARTICLE_COLUMNS.published_at,
    updated_at=ARTICLE_COLUMNS.updated_at,
    title=ARTICLE_COLUMNS.title,
)
RELATED_TAG_WEIGHT = 3
RELATED_SOURCE_WEIGHT = 1


def of_kind(kind: ArticleKind | None) -> ColumnElement[bool]:
    """Rows of one kind; None: articles and pages alike (still a condition on the leading
    column of the list indexes, so a range on their next column stays indexed)."""
    if kind is None:
        return ARTICLE_COLUMNS.kind.in_([k.value for k in ArticleKind])
    return ARTICLE_COLUMNS.kind == kind.value


def visible_at(now: Any, kind: ArticleKind | None = ArticleKind.article) -> ColumnElement[bool]:
    """Published, not deleted, and its publication time has come (scheduling needs no cron).
    `now` is a time or a bind parameter. Articles only unless `kind` says otherwise: pages
    are in no article read (lists, counts, search, feeds, related, sync's articles)."""
    return and_(
        of_kind(kind),
        ARTICLE_COLUMNS.status == ArticleStatus.published.value,
        ARTICLE_COLUMNS.deleted_at.is_(None),
        ARTICLE_COLUMNS.published_at <= now,
    )


def visible(now: datetime, kind: ArticleKind | None = ArticleKind.article) -> ColumnElement[bool]:
    return visible_at(bindparam(None, now, type_=ARTICLE_COLUMNS.published_at.type), kind)


def relation_options(include: frozenset[str]) -> list[Any]:
    """ORM eager loads for the included relations (admin, sync and webhooks read ORM
    objects): one extra query each, whatever the page size."""
    options: list[Any] = []
    if "tags" in include:
        options.append(selectinload(relationship_attribute(Article.tags)))
    if "authors" in include:
        options.append(selectinload(relationship_attribute(Article.authors)))
    if "sources" in include:
        options.append(selectinload(relationship_attribute(Article.citations)))
    if "actions" in include:
        options.append(selectinload(relationship_attribute(Article.actions)))
    if "corrections" in include:
        options.append(selectinload(relationship_attribute(Article.corrections)))
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
    # Each story once, in the best language of the preference (`api.articles.translations`).
    languages: LanguagePreference | None = None

    def query_shape(self) -> tuple[str, ...]:
        """Which filters are set: statements are built once per shape, then only bound.
        One tag is a shape of its own (`tag`): it has an index in publication order."""
        names = (*RELATION_FILTERS, *SCALAR_FILTERS)
        shape = tuple(name for name in names if getattr(self, name) not in (None, []))
        if self.languages is not None:
            shape += (self.languages.shape,)
        if len(self.tags) == 1:
            return tuple("tag" if name == "tags" else name for name in shape)
        return shape

    @property
    def tag(self) -> str:
        return self.tags[0]

    def params(self, now: datetime) -> dict[str, Any]:
        """Values for the bind parameters of `filtered_statement`."""
        values = {
            name: getattr(self, name)
            for name in self.query_shape()
            if not name.startswith(LANGUAGES)
        }
        if self.languages is not None:
            values |= self.languages.params()
        return {"now": now} | values


ARTICLE_TAGS = table_of(ArticleTag)
ARTICLE_ACTIONS = table_of(ArticleAction)
ARTICLE_AUTHORS = table_of(ArticleAuthor)
TAGS = table_of(Tag)
# name -> (link table's article id, link table's target id, target table)
RELATION_FILTERS = {
    "tags": (ARTICLE_TAGS.c.article_id, ARTICLE_TAGS.c.tag_id, TAGS),
    "sources": (CITATIONS.c.article_id, CITATIONS.c.source_id, table_of(Source)),
    "actions": (ARTICLE_ACTIONS.c.article_id, ARTICLE_ACTIONS.c.action_id, table_of(Action)),
    "authors": (ARTICLE_AUTHORS.c.article_id, ARTICLE_AUTHORS.c.author_id, table_of(Author)),
}
TAG_ID = select(TAGS.c.id).where(TAGS.c.slug == bindparam("tag")).scalar_subquery()
# name -> (column, comparison with the bound value)
SCALAR_FILTERS = {
    "lang": (ARTICLE_COLUMNS.lang, operator.eq),
    "published_after": (ARTICLE_COLUMNS.published_at, operator.gt),
    "published_before": (ARTICLE_COLUMNS.published_at, operator.lt),
    "updated_after": (ARTICLE_COLUMNS.updated_at, operator.gt),
}


def filtered_statement(
    shape: tuple[str, ...],
    columns: tuple[Any, ...],
    *,
    leading: Any = None,
    kind: ArticleKind = ArticleKind.article,
) -> Select[Any]:
    """Visible articles narrowed by the filters named in `shape`, with bind parameters for
    their values (`ArticleFilters.params`). A relation filter is 'any of these slugs'.

    `leading` (a cursor's condition) comes first: given two upper bounds on one indexed
    column, SQLite starts its index range at the first, so the cursor's bound must come
    before the visibility one, or a deep page scans every article ahead of the cursor."""
    query = select(*columns)
    if leading is not None:
        query = query.where(leading)
    query = query.where(visible_at(bindparam("now", type_=ARTICLE_COLUMNS.published_at.type), kind))
    for name in shape:
        if name == "tag":
            tagged = select(ARTICLE_TAGS.c.article_id).where(ARTICLE_TAGS.c.tag_id == TAG_ID)
            query = query.where(ARTICLE_COLUMNS.id.in_(tagged))
        elif name in RELATION_FILTERS:
            article_id, target_id, target = RELATION_FILTERS[name]
            query = query.where(
                ARTICLE_COLUMNS.id.in_(
                    select(article_id)
                    .join(target, target.c.id == target_id)
                    .where(target.c.slug.in_(bindparam(name, expanding=True)))
                )
            )
        elif name in SCALAR_FILTERS:
            column, compare = SCALAR_FILTERS[name]
            query = query.where(compare(column, bindparam(name, type_=column.type)))
        elif name.startswith(LANGUAGES):
            query = query.where(preferred_versions(name, kind))
    return query


def paged_statements(
    shape: tuple[str, ...],
    columns: tuple[Any, ...],
    sort: SortKey,
    after_cursor: bool,
    matching: Select[Any] | None = None,
    kind: ArticleKind = ArticleKind.article,
) -> tuple[Select[Any], Select[Any]]:
    """A page of visible, filtered articles (bind parameters `limit`, the filters' and the
    cursor's) and the count of all of them; `matching` narrows to a search's ids."""
    keys = (
        (ARTICLE_COLUMNS.id,)
        if sort.column is ARTICLE_COLUMNS.id
        else (ARTICLE_COLUMNS.id, sort.column)
    )
    if "tag" in shape and sort.column is ARTICLE_COLUMNS.published_at and matching is None:
        page = _one_tag_by_publication(shape, sort, after_cursor, kind)
    else:
        page = filtered_statement(
            shape, keys, leading=sort.after_bound() if after_cursor else None, kind=kind
        )
        page = page.order_by(*sort.order_by()).limit(bindparam("limit"))
    counted = filtered_statement(shape, (ARTICLE_COLUMNS.id,), kind=kind)
    if matching is not None:
        page = page.where(ARTICLE_COLUMNS.id.in_(matching))
        counted = counted.where(ARTICLE_COLUMNS.id.in_(matching))
    return rows_of_page(page, columns, sort.order_by()), select(func.count()).select_from(
        counted.subquery()
    )


def _one_tag_by_publication(
    shape: tuple[str, ...], sort: SortKey, after_cursor: bool, kind: ArticleKind
) -> Any:
    """One tag's page in publication order, walked from the link rows' index on (tag_id,
    published_at, article_id): it stops after `limit` visible articles, where `id IN (the
    tag's articles)` would visit and sort all of them (growing with the tag)."""
    links = SortKey(
        sort.name, ARTICLE_TAGS.c.published_at, ARTICLE_TAGS.c.article_id, sort.descending
    )
    rest = tuple(name for name in shape if name != "tag")
    page = filtered_statement(
        rest,
        (ARTICLE_TAGS.c.article_id.label("id"), ARTICLE_TAGS.c.published_at.label("published_at")),
        leading=links.after_bound() if after_cursor else None,
        kind=kind,
    )
    now = bindparam("now", type_=ARTICLE_COLUMNS.published_at.type)
    return (
        page.select_from(
            ARTICLE_TAGS.join(ARTICLES, ARTICLE_COLUMNS.id == ARTICLE_TAGS.c.article_id)
        )
        .where(ARTICLE_TAGS.c.tag_id == TAG_ID, ARTICLE_TAGS.c.published_at <= now)
        .order_by(*links.order_by())
        .limit(bindparam("limit"))
    )


def rows_of_page(page: Select[Any], columns: tuple[Any, ...], order: Any) -> Select[Any]:
    """The shown columns of a page chosen by id first.

    Choosing the page reads only indexes; reading every candidate's whole row (on SQLite,
    the columns after the bodies sit on overflow pages) before sorting and cutting would
    make a filter's or a search's cost grow with the number of matches."""
    chosen = page.subquery("page")
    return (
        select(*columns, *(c for c in chosen.c if c.key not in {column.key for column in columns}))
        .join_from(ARTICLES, chosen, chosen.c.id == ARTICLE_COLUMNS.id)
        .order_by(*order)
    )


@functools.lru_cache(maxsize=1024)
def page_statements(
    shape: tuple[str, ...],
    sort: str,
    after_cursor: bool,
    with_body: bool,
    kind: ArticleKind = ArticleKind.article,
) -> tuple[Select[Any], Select[Any]]:
    """`paged_statements` for one query shape, built once.

    Building a statement costs more CPU than running it on SQLite; the bound values are
    all that changes between two requests of the same shape."""
    return paged_statements(
        shape, article_columns(with_body), ARTICLE_SORTS[sort], after_cursor, kind=kind
    )


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
    kind: ArticleKind = ArticleKind.article,
) -> Page[ArticleView]:
    """A keyset page of visible articles (or pages, by `kind`) as views: one statement for
    the page, one per included relation, one more for `count=true`."""
    params = filters.params(now) | {"limit": limit + 1}
    if cursor:
        params |= sort.cursor_params(decode_cursor(cursor, sort))
    if filters.q:
        # A search's statement depends on its terms, so it is built each time.
        match = SearchMatch(session, filters.q)
        if match.empty:
            return Page([], None, 0 if count else None)
        paged, counted = paged_statements(
            filters.query_shape(),
            article_columns(with_body),
            sort,
            bool(cursor),
            matching=match.matching_ids(),
            kind=kind,
        )
        params |= match.params()
    else:
        paged, counted = page_statements(
            filters.query_shape(), sort.name, bool(cursor), with_body, kind
        )
    connection = session.connection()
    page = page_from_rows(connection.execute(paged, params).all(), sort, limit)
    items = article_views(session, page.items, include)
    total = connection.execute(counted, params).scalar_one() if count else None
    return Page(items, page.next_cursor, total)


ITEM_BY_SLUG = {
    kind: select(*article_columns(with_body=True)).where(
        ARTICLE_COLUMNS.slug == bindparam("slug"),
        visible_at(bindparam("now", type_=ARTICLE_COLUMNS.published_at.type), kind),
    )
    for kind in ArticleKind
}


def get_visible_article(
    session: Session,
    now: datetime,
    slug: str,
    include: frozenset[str],
    kind: ArticleKind = ArticleKind.article,
) -> ArticleView:
    """One visible article (or page, by `kind`) by slug; 404 otherwise."""
    row = session.connection().execute(ITEM_BY_SLUG[kind], {"slug": slug, "now": now}).first()
    if row is None:
        raise NotFound(f"No published {kind.value} with slug `{slug}`.")
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
    shared_tags: Select[str, int] = select(
        col(ArticleTag.article_id).label("article_id"),
        literal(RELATED_TAG_WEIGHT).label("weight"),
    ).where(
        col(ArticleTag.tag_id).in_(
            select(col(ArticleTag.tag_id)).where(col(ArticleTag.article_id) == article.id)
        )
    )
    shared_sources: Select[str, int] = select(
        col(Citation.article_id).label("article_id"),
        literal(RELATED_SOURCE_WEIGHT).label("weight"),
    ).where(
        col(Citation.source_id).in_(
            select(col(Citation.source_id)).where(col(Citation.article_id) == article.id)
        )
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
        .join(scores, scores.c.article_id == col(Article.id))
        .where(visible(now))
        .order_by(scores.c.score.desc(), col(Article.published_at).desc(), col(Article.id).desc())
        .limit(limit)
    )
    return article_views(session, session.execute(query).all(), include)

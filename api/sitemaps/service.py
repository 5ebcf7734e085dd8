"""Which URLs the sitemaps list, read in keyset order a batch at a time.

The index costs a fixed number of statements whatever the content (one grouped count per
month of articles, one count each for pages, tags and authors); one sitemap reads its URLs
in batches of `BATCH` rows by keyset, and a section with more than `URLS_PER_SITEMAP` URLs
is split into numbered sitemaps, the start of page N found by keyset hops of that size.
"""

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, exists, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from api.articles.models import ArticleAuthor, ArticleKind, ArticleTag
from api.articles.reads import ARTICLES
from api.articles.service import visible_at
from api.articles.translations import visible_members
from api.authors.models import Author
from api.core.errors import NotFound
from api.core.tables import table_of
from api.tags.models import Tag

# The sitemap protocol's limit per file; one sitemap per month splits beyond it.
URLS_PER_SITEMAP = 50_000
# Rows per statement while writing one sitemap.
BATCH = 5_000
# Google News takes articles of the last two days, at most 1,000 per sitemap.
NEWS_WINDOW = timedelta(hours=48)
NEWS_LIMIT = 1_000
SECTIONS = ("pages", "tags", "authors")

TAGS, AUTHORS = table_of(Tag), table_of(Author)
ARTICLE_TAGS, ARTICLE_AUTHORS = table_of(ArticleTag), table_of(ArticleAuthor)
NOW = bindparam("now", type_=ARTICLES.c.published_at.type)
TAG_LINK = ARTICLE_TAGS.c.tag_id
AUTHOR_LINK = ARTICLE_AUTHORS.c.author_id


@dataclass(frozen=True)
class Entry:
    """One URL of a sitemap: what it is (`kind`, `slug`) and when it last changed."""

    kind: str
    slug: str
    lastmod: datetime | None
    # The story's visible versions, itself included, as (lang, slug): when it has others.
    alternates: tuple[tuple[str, str], ...] = ()


def _with_alternates(
    session: Session, now: datetime, rows: Iterator[Any], kind: str
) -> Iterator[Entry]:
    """Entries of rows (`slug`, `updated_at`, `translation_group`), `BATCH` at a time with
    one statement per batch for their stories' versions (none when no row has any)."""
    while batch := list(itertools.islice(rows, BATCH)):
        versions = visible_members(session, now, [row.translation_group for row in batch])
        for row in batch:
            found = versions.get(row.translation_group or "", [])
            alternates = tuple((v.lang, v.slug) for v in found) if len(found) > 1 else ()
            yield Entry(kind, row.slug, row.updated_at, alternates)


@dataclass(frozen=True)
class SitemapRef:
    """One sitemap of the index: its file name (without `.xml`) and newest change."""

    name: str
    lastmod: datetime | None


def month_of(session: Session, column: Any) -> ColumnElement[str]:
    """`YYYY-MM` of a UTC timestamp column (SQLite keeps them as UTC text)."""
    if session.get_bind().dialect.name == "sqlite":
        return func.substr(column, 1, 7)
    return func.to_char(func.timezone("UTC", column), "YYYY-MM")


def page_count(urls: int) -> int:
    return max(1, math.ceil(urls / URLS_PER_SITEMAP))


def page_names(name: str, urls: int) -> list[str]:
    """`name`, then `name-2`, `name-3`… for a section of `urls` URLs."""
    return [name if n == 1 else f"{name}-{n}" for n in range(1, page_count(urls) + 1)]


def _newest(*moments: datetime | None) -> datetime | None:
    return max((m for m in moments if m is not None), default=None)


def sitemap_index(session: Session, now: datetime) -> list[SitemapRef]:
    """Every sitemap with its newest change: pages first, then tags, authors and the
    months of articles, newest month first."""
    connection = session.connection()
    month = month_of(session, ARTICLES.c.published_at)
    months = connection.execute(
        select(month.label("month"), func.count(), func.max(ARTICLES.c.updated_at))
        .where(visible_at(NOW))
        .group_by(month)
        .order_by(month.desc()),
        {"now": now},
    ).all()
    newest_article = _newest(*(row[2] for row in months))
    pages_count, pages_lastmod = connection.execute(
        select(func.count(), func.max(ARTICLES.c.updated_at)).where(
            visible_at(NOW, ArticleKind.page)
        ),
        {"now": now},
    ).one()
    refs = [
        SitemapRef(name, _newest(pages_lastmod, newest_article))
        for name in page_names("pages", pages_count + 1)  # and the home page
    ]
    for section, table, link in (
        ("tags", TAGS, ARTICLE_TAGS),
        ("authors", AUTHORS, ARTICLE_AUTHORS),
    ):
        count, lastmod = connection.execute(
            select(func.count(), func.max(table.c.updated_at)).where(
                exists().where(
                    link.c.article_id == ARTICLES.c.id,
                    link.c[f"{section[:-1]}_id"] == table.c.id,
                    visible_at(NOW),
                )
            ),
            {"now": now},
        ).one()
        if count:
            refs += [
                SitemapRef(n, _newest(lastmod, newest_article)) for n in page_names(section, count)
            ]
    for month_name, count, lastmod in months:
        refs += [SitemapRef(n, lastmod) for n in page_names(f"articles-{month_name}", count)]
    return refs


def _after(keys: tuple[Any, ...], last: tuple[Any, ...] | None) -> ColumnElement[bool] | None:
    """Rows after `last` in the order of `keys` (one or two columns)."""
    if last is None:
        return None
    if len(keys) == 1:
        return keys[0] > last[0]
    return or_(keys[0] > last[0], and_(keys[0] == last[0], keys[1] > last[1]))


def _walk(
    session: Session, query: Select[Any], keys: tuple[Any, ...], page: int, params: dict[str, Any]
) -> Iterator[Any]:
    """The rows of sitemap `page` of `query` (ordered by `keys`), `BATCH` per statement."""
    connection = session.connection()
    last: tuple[Any, ...] | None = None

    def narrowed(statement: Select[Any]) -> Select[Any]:
        condition = _after(keys, last)
        return statement if condition is None else statement.where(condition)

    for _ in range(page - 1):  # hop to the page's start, URLS_PER_SITEMAP rows at a time
        hop = narrowed(query.with_only_columns(*keys)).order_by(*keys)
        row = connection.execute(hop.offset(URLS_PER_SITEMAP - 1).limit(1), params).first()
        if row is None:
            raise NotFound("No such sitemap.")
        last = tuple(row)
    remaining = URLS_PER_SITEMAP
    while remaining > 0:
        size = min(BATCH, remaining)
        rows = connection.execute(narrowed(query).order_by(*keys).limit(size), params).all()
        yield from rows
        if len(rows) < size:
            return
        remaining -= size
        last = tuple(getattr(rows[-1], key.name) for key in keys)


def article_entries(session: Session, now: datetime, month: str, page: int) -> Iterator[Entry]:
    """The visible articles published in `month` (`YYYY-MM`), oldest first."""
    start = datetime.fromisoformat(f"{month}-01T00:00:00+00:00")
    end = (start + timedelta(days=32)).replace(day=1)
    keys = (ARTICLES.c.published_at, ARTICLES.c.id)
    query = select(
        ARTICLES.c.slug, ARTICLES.c.updated_at, ARTICLES.c.translation_group, *keys
    ).where(
        visible_at(NOW),
        ARTICLES.c.published_at >= bindparam("start", start, ARTICLES.c.published_at.type),
        ARTICLES.c.published_at < bindparam("end", end, ARTICLES.c.published_at.type),
    )
    rows = _walk(session, query, keys, page, {"now": now})
    yield from _with_alternates(session, now, rows, "article")


def page_entries(session: Session, now: datetime, page: int) -> Iterator[Entry]:
    """The visible pages by id (the home page, first of all, is the caller's)."""
    keys = (ARTICLES.c.id,)
    query = select(
        ARTICLES.c.slug, ARTICLES.c.updated_at, ARTICLES.c.translation_group, ARTICLES.c.id
    ).where(visible_at(NOW, ArticleKind.page))
    rows = _walk(session, query, keys, page, {"now": now})
    yield from _with_alternates(session, now, rows, "page")


def _listing_entries(
    session: Session, now: datetime, page: int, table: Any, link: Any, target: Any, kind: str
) -> Iterator[Entry]:
    """Tags or authors with at least one visible article, by id; each changes when it or
    one of its articles does."""
    keys = (table.c.id,)
    query = (
        select(
            table.c.id,
            table.c.slug,
            table.c.updated_at,
            func.max(ARTICLES.c.updated_at).label("newest"),
        )
        .join(link, target == table.c.id)
        .join(ARTICLES, ARTICLES.c.id == link.c.article_id)
        .where(visible_at(NOW))
        .group_by(table.c.id, table.c.slug, table.c.updated_at)
    )
    for row in _walk(session, query, keys, page, {"now": now}):
        yield Entry(kind, row.slug, _newest(row.updated_at, row.newest))


def tag_entries(session: Session, now: datetime, page: int) -> Iterator[Entry]:
    return _listing_entries(session, now, page, TAGS, ARTICLE_TAGS, TAG_LINK, "tag")


def author_entries(session: Session, now: datetime, page: int) -> Iterator[Entry]:
    return _listing_entries(session, now, page, AUTHORS, ARTICLE_AUTHORS, AUTHOR_LINK, "author")


@dataclass(frozen=True)
class NewsEntry:
    slug: str
    title: str
    published_at: datetime
    lang: str


def news_entries(session: Session, now: datetime) -> list[NewsEntry]:
    """Visible articles of the last 48 hours, newest first (at most NEWS_LIMIT)."""
    rows = session.connection().execute(
        select(ARTICLES.c.slug, ARTICLES.c.title, ARTICLES.c.published_at, ARTICLES.c.lang)
        .where(
            visible_at(NOW),
            ARTICLES.c.published_at > bindparam("since", type_=ARTICLES.c.published_at.type),
        )
        .order_by(ARTICLES.c.published_at.desc(), ARTICLES.c.id.desc())
        .limit(NEWS_LIMIT),
        {"now": now, "since": now - NEWS_WINDOW},
    )
    return [NewsEntry(row.slug, row.title, row.published_at, row.lang) for row in rows]

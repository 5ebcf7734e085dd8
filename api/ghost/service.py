"""Ghost's reads over the native ones: the same visibility rule, the same columns and
indexes, the same relation loaders (one statement per relation per page).

A `Listing` says what one Ghost resource lists (posts, pages, tags, authors): its rows'
visibility, the orders it takes (columns with an index, plus the id as tie-breaker) and the
fields its NQL filters may name. Pages of a listing are chosen by `page` (an offset over
the ids an index yields) or, to stream `limit=all`, by keyset after the last row sent.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, bindparam, func, or_, select, true
from sqlalchemy.orm import Session

from api.articles.models import ArticleKind
from api.articles.reads import ARTICLES, LIST_COLUMNS, ArticleView, article_views
from api.articles.service import (
    ARTICLE_AUTHORS,
    ARTICLE_TAGS,
    TAGS,
    rows_of_page,
    visible_at,
)
from api.authors.models import Author
from api.changes.counts import stored_article_counts
from api.core.tables import table_of
from api.ghost import nql
from api.ghost.ids import id_prefix, matches_ghost_id
from api.ghost.nql import Column, Constant, Related
from api.tags.service import tag_article_counts

AUTHORS = table_of(Author)
ARTICLE_COLUMNS = ARTICLES.c
POST_COLUMNS = (*LIST_COLUMNS, ARTICLE_COLUMNS.created_at)
FORMAT_COLUMNS = {"html": ARTICLE_COLUMNS.body_html, "plaintext": ARTICLE_COLUMNS.body_text}
author_article_counts = stored_article_counts("author")
NOW = bindparam("now", type_=ARTICLE_COLUMNS.published_at.type)


def _uuid_hex(value: str) -> str | None:
    hexed = value.replace("-", "").lower()
    return hexed if len(hexed) == 32 else None


def _id_field(column: Any) -> Column:
    return Column(column, convert=id_prefix, match=matches_ghost_id)


def _linked(
    link_owner: Any, link_target: Any, target: Any, *, primary: bool = False
) -> Callable[[ColumnElement[bool]], Any]:
    """The owners linked to a target matching a condition (the primary one only, when
    `primary`: the link at position 0)."""

    def linked(condition: ColumnElement[bool]) -> Any:
        query = select(link_owner).join(target, target.c.id == link_target).where(condition)
        if primary:
            query = query.where(link_owner.table.c.position == 0)
        return query

    return linked


def _relation_fields(
    prefix: str, shorthand: str, link: Any, key: str, target: Any
) -> dict[str, Any]:
    """`tag`, `tags`, `tags.slug`, `tags.name`, `tags.id`, `primary_tag`, `primary_tag.slug`
    (and the same for authors)."""
    owner, link_target = link.c.article_id, link.c[key]
    fields: dict[str, Any] = {}
    for column_name, spec in (
        ("slug", Column(target.c.slug)),
        ("name", Column(target.c.name)),
        ("id", _id_field(target.c.id)),
    ):
        fields[f"{prefix}s.{column_name}"] = Related(
            spec, _linked(owner, link_target, target), ARTICLE_COLUMNS.id
        )
        fields[f"primary_{prefix}.{column_name}"] = Related(
            spec, _linked(owner, link_target, target, primary=True), ARTICLE_COLUMNS.id
        )
    fields[shorthand] = fields[f"{shorthand}s"] = fields[f"{prefix}s.slug"]
    fields[f"primary_{prefix}"] = fields[f"primary_{prefix}.slug"]
    return fields


POST_FILTERS: dict[str, nql.Field] = {
    "id": _id_field(ARTICLE_COLUMNS.id),
    "uuid": Column(ARTICLE_COLUMNS.id, convert=_uuid_hex),
    "slug": Column(ARTICLE_COLUMNS.slug),
    "title": Column(ARTICLE_COLUMNS.title),
    "published_at": Column(ARTICLE_COLUMNS.published_at, "time"),
    "updated_at": Column(ARTICLE_COLUMNS.updated_at, "time"),
    "feature_image": Column(ARTICLE_COLUMNS.feature_image_url),
    "featured": Constant(False, "bool"),
    "visibility": Constant("public"),
    "status": Constant("published"),
    **_relation_fields("tag", "tag", ARTICLE_TAGS, "tag_id", TAGS),
    **_relation_fields("author", "author", ARTICLE_AUTHORS, "author_id", AUTHORS),
}
TAG_FILTERS: dict[str, nql.Field] = {
    "id": _id_field(TAGS.c.id),
    "slug": Column(TAGS.c.slug),
    "name": Column(TAGS.c.name),
    "visibility": Constant("public"),
}
AUTHOR_FILTERS: dict[str, nql.Field] = {
    "id": _id_field(AUTHORS.c.id),
    "slug": Column(AUTHORS.c.slug),
    "name": Column(AUTHORS.c.name),
}


@dataclass(frozen=True)
class Listing:
    name: str
    id_column: Any
    orders: dict[str, Any]
    default_order: tuple[tuple[str, bool], ...]
    filters: dict[str, nql.Field]
    visible: Callable[[], ColumnElement[bool]]
    articles: bool = False  # rows of the article table: pages chosen by id first

    def condition(self, filter_text: str | None, now: datetime) -> ColumnElement[bool]:
        """Visible rows matching the filter (FilterError when it is malformed)."""
        if not filter_text:
            return self.visible()
        matching = nql.compile_filter(filter_text, self.filters, now)
        return and_(self.visible(), matching)

    def order(self, requested: Sequence[tuple[str, bool]]) -> list[tuple[Any, bool]]:
        """Columns and directions, the id last (in the last key's direction)."""
        keys = [(self.orders[name], desc) for name, desc in (requested or self.default_order)]
        if not any(column is self.id_column for column, _ in keys):
            keys.append((self.id_column, keys[-1][1] if keys else False))
        return keys


def _article_kind(kind: ArticleKind) -> Callable[[], ColumnElement[bool]]:
    return lambda: visible_at(NOW, kind)


ARTICLE_ORDERS = {
    "published_at": ARTICLE_COLUMNS.published_at,
    "updated_at": ARTICLE_COLUMNS.updated_at,
    "title": ARTICLE_COLUMNS.title,
    "slug": ARTICLE_COLUMNS.slug,
    "id": ARTICLE_COLUMNS.id,
}
POSTS = Listing(
    "posts", ARTICLE_COLUMNS.id, ARTICLE_ORDERS, (("published_at", True),), POST_FILTERS,
    _article_kind(ArticleKind.article), articles=True,
)  # fmt: skip
PAGES = Listing(
    "pages", ARTICLE_COLUMNS.id, ARTICLE_ORDERS, (("published_at", True),), POST_FILTERS,
    _article_kind(ArticleKind.page), articles=True,
)  # fmt: skip
TAG_LISTING = Listing(
    "tags", TAGS.c.id, {"name": TAGS.c.name, "slug": TAGS.c.slug, "id": TAGS.c.id},
    (("name", False),), TAG_FILTERS, true,
)  # fmt: skip
AUTHOR_LISTING = Listing(
    "authors", AUTHORS.c.id, {"name": AUTHORS.c.name, "slug": AUTHORS.c.slug, "id": AUTHORS.c.id},
    (("name", False),), AUTHOR_FILTERS, true,
)  # fmt: skip
TABLE_COLUMNS = {"tags": tuple(TAGS.c), "authors": tuple(AUTHORS.c)}


def order_by(keys: Sequence[tuple[Any, bool]]) -> list[Any]:
    return [column.desc() if desc else column.asc() for column, desc in keys]


def after(keys: Sequence[tuple[Any, bool]], row: Row[Any]) -> ColumnElement[bool]:
    """Rows after `row` in this order (a keyset bound, whatever the directions). The bound
    on the first column alone lets its index start at the row."""
    values = [getattr(row, column.key) for column, _ in keys]
    branches = []
    for index, (column, desc) in enumerate(keys):
        equal = [keys[j][0] == values[j] for j in range(index)]
        beyond = column < values[index] if desc else column > values[index]
        branches.append(and_(*equal, beyond))
    first, first_desc = keys[0]
    lead = first <= values[0] if first_desc else first >= values[0]
    return and_(lead, or_(*branches))


def article_columns(formats: frozenset[str]) -> tuple[Any, ...]:
    return (*POST_COLUMNS, *(FORMAT_COLUMNS[f] for f in sorted(formats & FORMAT_COLUMNS.keys())))


def select_rows(
    session: Session,
    listing: Listing,
    condition: ColumnElement[bool],
    keys: Sequence[tuple[Any, bool]],
    now: datetime,
    *,
    limit: int,
    offset: int = 0,
    after_row: Row[Any] | None = None,
    formats: frozenset[str] = frozenset(),
) -> Sequence[Row[Any]]:
    """One page of the listing's rows in order: by offset, or after a row."""
    where = condition if after_row is None else and_(after(keys, after_row), condition)
    if listing.articles:
        chosen = (
            select(ARTICLE_COLUMNS.id, *(c for c, _ in keys if c is not ARTICLE_COLUMNS.id))
            .where(where)
            .order_by(*order_by(keys))
            .limit(limit)
            .offset(offset)
        )
        statement = rows_of_page(chosen, article_columns(formats), order_by(keys))
    else:
        statement = (
            select(*TABLE_COLUMNS[listing.name])
            .where(where)
            .order_by(*order_by(keys))
            .limit(limit)
            .offset(offset)
        )
    return session.connection().execute(statement, {"now": now}).all()


def count_rows(
    session: Session, listing: Listing, condition: ColumnElement[bool], now: datetime
) -> int:
    counted = select(listing.id_column).where(condition).subquery()
    statement = select(func.count()).select_from(counted)
    return int(session.connection().execute(statement, {"now": now}).scalar_one())


def read_row(
    session: Session,
    listing: Listing,
    now: datetime,
    *,
    ghost_id: str | None = None,
    slug: str | None = None,
    formats: frozenset[str] = frozenset(),
) -> Row[Any] | None:
    """One visible row by Ghost id or slug."""
    columns = article_columns(formats) if listing.articles else TABLE_COLUMNS[listing.name]
    table_id = listing.id_column
    if ghost_id is not None:
        match = matches_ghost_id(table_id, ghost_id)
    else:
        match = table_id.table.c.slug == slug
    statement = select(*columns).where(listing.visible(), match).limit(1)
    return session.connection().execute(statement, {"now": now}).first()


def post_views(
    session: Session, rows: Sequence[Row[Any]], include: frozenset[str]
) -> list[ArticleView]:
    """Rows as the native views, with tags and authors attached: one statement each."""
    return article_views(session, rows, include & {"tags", "authors"})


def post_counts(
    session: Session, listing: Listing, now: datetime, ids: Sequence[str]
) -> dict[str, int]:
    """Visible articles per tag or author, for `include=count.posts`."""
    counts = tag_article_counts if listing is TAG_LISTING else author_article_counts
    return counts(session, now, ids)

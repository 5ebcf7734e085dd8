"""Keyset pagination: sort orders, opaque cursors, and the list envelope."""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Float,
    Integer,
    Numeric,
    Select,
    and_,
    bindparam,
    func,
    select,
    tuple_,
)
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from api.core.errors import BadRequest
from api.core.opaque import decode_opaque, encode_opaque

T = TypeVar("T")
# An ORM attribute (`Article.id`) or a Core column (`ARTICLES.c.id`). SQLModel types model
# attributes as their Python values (`str`), so no precise type fits both.
SortColumn = Any


@dataclass(frozen=True)
class SortKey:
    """One public sort order: a column, a direction, and the id as tie-breaker."""

    name: str
    column: SortColumn
    id_column: SortColumn
    descending: bool

    def order_by(self) -> list[ColumnElement[Any]]:
        if self.descending:
            return [self.column.desc(), self.id_column.desc()]
        return [self.column.asc(), self.id_column.asc()]

    def after(self, cursor: "Cursor") -> ColumnElement[bool]:
        """Rows strictly after the cursor, as one row-value comparison an index can serve."""
        return self._after(
            bindparam(None, cursor.value, type_=self.column.type),
            bindparam(None, cursor.id, type_=self.id_column.type),
        )

    def after_bound(self) -> ColumnElement[bool]:
        """`after` with named bind parameters, for statements built once (`cursor_params`)."""
        return self._after(
            bindparam("cursor_value", type_=self.column.type),
            bindparam("cursor_id", type_=self.id_column.type),
        )

    def cursor_params(self, cursor: "Cursor") -> dict[str, Any]:
        return {"cursor_value": cursor.value, "cursor_id": cursor.id}

    def _after(self, value: Any, ident: Any) -> ColumnElement[bool]:
        # The redundant bound on the sort column alone lets an index whose last column is
        # the sort column (not the id) start at the cursor instead of scanning up to it:
        # SQLite does not derive that bound from the row-value comparison.
        left = tuple_(self.column, self.id_column)
        right = tuple_(value, ident)
        if self.descending:
            return and_(self.column <= value, left < right)
        return and_(self.column >= value, left > right)

    def value_of(self, row: Any) -> Any:
        return getattr(row, self.column.key)


def sort_keys(id_column: SortColumn, **columns: SortColumn) -> dict[str, SortKey]:
    """Both directions of each named column: `name` ascending, `-name` descending."""
    keys: dict[str, SortKey] = {}
    for name, column in columns.items():
        keys[name] = SortKey(name, column, id_column, descending=False)
        keys["-" + name] = SortKey("-" + name, column, id_column, descending=True)
    return keys


@dataclass(frozen=True)
class Cursor:
    sort: str
    value: Any
    id: str


def encode_cursor(sort: SortKey, row: Any) -> str:
    value = sort.value_of(row)
    kind = "t" if isinstance(value, datetime) else "s"
    payload = [sort.name, kind, value.isoformat() if kind == "t" else value, row.id]
    return encode_opaque(payload)


def _cursor_value(sort: SortKey, kind: object, value: object) -> Any:
    """The cursor's sort value, if it has the type of the sort column; else ValueError.

    A value of the wrong type would reach the database and fail there (a 500), so a cursor
    is checked against the column it will be compared with.
    """
    sql_type = sort.column.type
    if isinstance(sql_type, TypeDecorator):
        sql_type = sql_type.impl_instance
    if isinstance(sql_type, DateTime):
        if kind != "t" or not isinstance(value, str):
            raise ValueError("expected a time")
        moment = datetime.fromisoformat(value)
        # astimezone raises OverflowError for times that do not exist in UTC.
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if kind != "s":
        raise ValueError("bad kind")
    if isinstance(sql_type, Integer | Numeric | Float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("expected a number")
        if not math.isfinite(value):
            raise ValueError("expected a finite number")
        return value
    if not isinstance(value, str) or "\x00" in value:
        raise ValueError("expected text")
    return value


def decode_cursor(token: str, sort: SortKey) -> Cursor:
    """Parse a cursor made by `encode_cursor` for the same sort order, or raise 400."""
    malformed = BadRequest(
        "The cursor is malformed; pass `meta.next_cursor` from the previous page unchanged."
    )
    try:
        name, kind, value, ident = decode_opaque(token)
    except (ValueError, TypeError):
        raise malformed from None
    if name != sort.name:
        raise BadRequest(f"This cursor belongs to sort `{name}`, not `{sort.name}`.")
    try:
        value = _cursor_value(sort, kind, value)
    except (ValueError, TypeError, OverflowError):
        raise malformed from None
    if not isinstance(ident, str) or "\x00" in ident:
        raise malformed
    return Cursor(name, value, ident)


@dataclass
class Page(Generic[T]):
    items: Sequence[T]
    next_cursor: str | None
    total: int | None = None


def paginate_query(
    query: Select[Any], sort: SortKey, cursor: str | None, limit: int
) -> tuple[Select[Any], int]:
    """Apply order, cursor and limit (+1 row to learn whether a next page exists)."""
    if cursor:
        query = query.where(sort.after(decode_cursor(cursor, sort)))
    return query.order_by(*sort.order_by()).limit(limit + 1), limit


def page_from_rows(rows: Sequence[T], sort: SortKey, limit: int) -> Page[T]:
    if len(rows) > limit:
        rows = rows[:limit]
        return Page(rows, encode_cursor(sort, rows[-1]))
    return Page(rows, None)


def fetch_page(
    session: Session,
    query: Select[Any],
    *,
    sort: SortKey,
    cursor: str | None,
    limit: int,
    count: bool,
    options: Sequence[Any] = (),
    plain: bool = False,
) -> Page[Any]:
    """Run a keyset-paginated query: one statement for the page, one more for `count=true`.
    `plain` returns Core rows instead of ORM objects (cheaper, when the caller only reads
    columns)."""
    paged, limit = paginate_query(query, sort, cursor, limit)
    if plain:
        rows: Sequence[Any] = session.connection().execute(paged).all()
    else:
        rows = session.scalars(paged.options(*options)).all()
    page = page_from_rows(rows, sort, limit)
    if count:
        page.total = count_rows(session, query)
    return page


def count_rows(session: Session, query: Select[Any]) -> int:
    """How many rows the (unpaged) query matches."""
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0

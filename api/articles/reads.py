"""Public article reads as plain rows: no ORM objects between the database and the JSON.

Public reads only ever render what they load, and building ORM instances for them (identity
map, instrumentation, relationship collections) would cost more CPU than the rest of a list
request. So they select the columns they show and group the related rows by article in
Python: one statement per included relation, whatever the page size, as `selectinload` makes.

An `ArticleView` answers the same attribute names as `Article` (`tags`, `authors`,
`citations`, `actions` included), so the shaping code serves both.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, bindparam, func, select
from sqlalchemy.orm import Session
from sqlmodel import SQLModel

from api.actions.models import Action
from api.articles.models import Article, ArticleAction, ArticleAuthor, ArticleTag, Citation
from api.authors.models import Author
from api.citations.models import CitedLink, LinkStatus
from api.core.tables import table_of
from api.corrections.models import Correction
from api.sources.models import Source
from api.tags.models import Tag

ARTICLES = table_of(Article)
CITATIONS = table_of(Citation)
LINKS = table_of(CitedLink)
# What public responses show (and sort by); never the bodies' sources or the bookkeeping.
LIST_COLUMNS = tuple(
    ARTICLES.c[name]
    for name in (
        "id",
        "kind",
        "slug",
        "title",
        "subtitle",
        "excerpt",
        "lang",
        "translation_group",
        "published_at",
        "updated_at",
        "reading_time",
        "word_count",
        "canonical_url",
        "feature_image_url",
        "feature_image_alt",
        "feature_image_caption",
    )
)
BODY_COLUMNS = (*LIST_COLUMNS, ARTICLES.c.body_html)


def article_columns(with_body: bool) -> tuple[Any, ...]:
    """The columns a public response shows: the body only where it is rendered."""
    return BODY_COLUMNS if with_body else LIST_COLUMNS


class ArticleView:
    """An article's shown columns plus the relations that were asked for (others stay
    empty and are never rendered)."""

    # The columns of `LIST_COLUMNS` (and `body_html` with `BODY_COLUMNS`), set from the row.
    id: str
    kind: str
    slug: str
    title: str
    subtitle: str | None
    excerpt: str | None
    body_html: str
    lang: str
    translation_group: str | None
    published_at: datetime | None
    updated_at: datetime
    reading_time: int
    word_count: int
    canonical_url: str | None
    feature_image_url: str | None
    feature_image_alt: str | None
    feature_image_caption: str | None

    def __init__(self, row: Row[Any]) -> None:
        self.__dict__.update(row._mapping)
        self.tags: list[Row[Any]] = []
        self.authors: list[Row[Any]] = []
        self.citations: list[CitationView] = []
        self.actions: list[Row[Any]] = []
        self.corrections: list[Row[Any]] = []
        # Set by `api.articles.translations.attach_translations` where they are shown.
        self.translations: list[Any] | None = None
        self.original: Any = None


class CitationView:
    """A citation with its source (a row with the source's columns)."""

    __slots__ = (
        "archived_url",
        "cited_url",
        "context",
        "link_status",
        "position",
        "source",
        "source_id",
    )

    def __init__(self, row: Row[Any]) -> None:
        self.source = row
        self.source_id = row.source_id
        self.cited_url = row.cited_url
        self.context = row.context
        self.position = row.position
        self.link_status = row.link_status
        self.archived_url = row.archived_url


def _relation_query(
    link_model: type[SQLModel], target_column: str, target_model: type[SQLModel], shown: str
) -> Select[Any]:
    """The rows of one relation for a page of articles (bind parameter `ids`), in each
    article's order. `shown` names the target's columns that responses render."""
    link, target = table_of(link_model), table_of(target_model)
    return (
        select(link.c.article_id.label("owner_id"), *(target.c[name] for name in shown.split()))
        .join(target, target.c.id == link.c[target_column])
        .where(link.c.article_id.in_(bindparam("ids", expanding=True)))
        .order_by(link.c.article_id, link.c.position, target.c.id)
    )


# Built once: each request only binds the page's ids.
RELATION_QUERIES: dict[str, Select[Any]] = {
    "tags": _relation_query(ArticleTag, "tag_id", Tag, "id slug name hashtag"),
    "authors": _relation_query(ArticleAuthor, "author_id", Author, "id slug name bio url"),
    "actions": _relation_query(
        ArticleAction,
        "action_id",
        Action,
        "id slug kind title description url organisation starts_at ends_at goal_kind "
        "goal_target goal_currency close_on_goal progress_override progress_counted",
    ),
    "sources": _relation_query(Citation, "source_id", Source, "id slug name kind url")
    .add_columns(
        *(CITATIONS.c[name] for name in ("source_id", "cited_url", "context", "position")),
        func.coalesce(LINKS.c.status, LinkStatus.unchecked.value).label("link_status"),
        LINKS.c.archived_url,
    )
    # The cited URL's checks, in the same statement (`api.citations`).
    .outerjoin(LINKS, LINKS.c.id == CITATIONS.c.link_id),
}
CORRECTIONS = table_of(Correction)
# Not a relation of `include`: every article shape shows its corrections (oldest first).
RELATION_QUERIES["corrections"] = (
    select(
        CORRECTIONS.c.article_id.label("owner_id"),
        *(CORRECTIONS.c[name] for name in ("id", "kind", "text", "published_at", "amended_at")),
    )
    .where(CORRECTIONS.c.article_id.in_(bindparam("ids", expanding=True)))
    .order_by(CORRECTIONS.c.article_id, CORRECTIONS.c.published_at, CORRECTIONS.c.id)
)
RELATION_ATTRIBUTES = {
    "tags": "tags",
    "authors": "authors",
    "actions": "actions",
    "sources": "citations",
    "corrections": "corrections",
}


def article_views(
    session: Session, rows: Iterable[Row[Any]], include: frozenset[str]
) -> list[ArticleView]:
    """Views of the rows with the included relations attached: one statement each."""
    views = [ArticleView(row) for row in rows]
    attach_relations(session, views, include)
    return views


def attach_relations(
    session: Session, views: Sequence[ArticleView], include: frozenset[str]
) -> None:
    if not views:
        return
    by_id = {view.id: view for view in views}
    ids = list(by_id)
    connection = session.connection()
    for relation in sorted(include & RELATION_QUERIES.keys()):
        attribute = RELATION_ATTRIBUTES[relation]
        wrap = CitationView if relation == "sources" else None
        for row in connection.execute(RELATION_QUERIES[relation], {"ids": ids}):
            getattr(by_id[row.owner_id], attribute).append(wrap(row) if wrap else row)

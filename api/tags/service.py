"""Tags as the public sees them, with counts of visible articles computed per page."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from api.articles.models import ArticleTag
from api.articles.reads import ARTICLES
from api.articles.service import visible_at
from api.core.errors import NotFound
from api.core.pagination import Page, SortKey, count_rows, page_from_rows, paginate_query, sort_keys
from api.tags.models import Tag

TAGS = Tag.__table__  # type: ignore[attr-defined]
LINKS = ArticleTag.__table__  # type: ignore[attr-defined]
TAG_SORTS = sort_keys(TAGS.c.id, name=TAGS.c.name, slug=TAGS.c.slug)
# Built once; each request binds the page's tag ids and the time.
TAG_COUNTS = (
    select(LINKS.c.tag_id, func.count())
    .join(ARTICLES, ARTICLES.c.id == LINKS.c.article_id)
    .where(
        LINKS.c.tag_id.in_(bindparam("ids", expanding=True)),
        visible_at(bindparam("now", type_=ARTICLES.c.published_at.type)),
    )
    .group_by(LINKS.c.tag_id)
)


def tag_article_counts(session: Session, now: datetime, tag_ids: Sequence[str]) -> dict[str, int]:
    """Visible articles per tag, for a whole page of tags in one grouped query."""
    if not tag_ids:
        return {}
    rows = session.connection().execute(TAG_COUNTS, {"ids": list(tag_ids), "now": now})
    return {tag_id: count for tag_id, count in rows}


def list_tags(
    session: Session, *, sort: SortKey, cursor: str | None, limit: int, count: bool
) -> Page[Any]:
    """A page of tags as rows (the public shape reads their columns, nothing else)."""
    query = select(*TAGS.c)
    paged, limit = paginate_query(query, sort, cursor, limit)
    page = page_from_rows(session.connection().execute(paged).all(), sort, limit)
    if count:
        page.total = count_rows(session, query)
    return page


def get_tag(session: Session, slug: str) -> Tag:
    tag = session.scalars(select(Tag).where(Tag.slug == slug)).first()
    if tag is None:
        raise NotFound(f"No tag with slug `{slug}`.")
    return tag

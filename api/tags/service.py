"""Tags as the public sees them, with counts of visible articles computed per page."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.articles.models import Article, ArticleTag
from api.articles.service import visible
from api.core.errors import NotFound
from api.core.pagination import Page, SortKey, fetch_page, sort_keys
from api.tags.models import Tag

TAG_SORTS = sort_keys(Tag.id, name=Tag.name, slug=Tag.slug)


def tag_article_counts(session: Session, now: datetime, tag_ids: Sequence[str]) -> dict[str, int]:
    """Visible articles per tag, for a whole page of tags in one grouped query."""
    if not tag_ids:
        return {}
    rows = session.execute(
        select(ArticleTag.tag_id, func.count())
        .join(Article, Article.id == ArticleTag.article_id)
        .where(ArticleTag.tag_id.in_(tag_ids), visible(now))
        .group_by(ArticleTag.tag_id)
    )
    return {tag_id: count for tag_id, count in rows}


def list_tags(
    session: Session, *, sort: SortKey, cursor: str | None, limit: int, count: bool
) -> Page[Tag]:
    return fetch_page(session, select(Tag), sort=sort, cursor=cursor, limit=limit, count=count)


def get_tag(session: Session, slug: str) -> Tag:
    tag = session.scalars(select(Tag).where(Tag.slug == slug)).first()
    if tag is None:
        raise NotFound(f"No tag with slug `{slug}`.")
    return tag

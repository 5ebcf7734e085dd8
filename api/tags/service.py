"""Tags as the public sees them, with counts of visible articles computed per page."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.articles.service import ARTICLE_TAGS, visible_article_counts
from api.core.errors import NotFound
from api.core.pagination import Page, SortKey, fetch_page, sort_keys
from api.core.tables import table_of
from api.tags.models import Tag

TAGS = table_of(Tag)
TAG_SORTS = sort_keys(TAGS.c.id, name=TAGS.c.name, slug=TAGS.c.slug)
tag_article_counts = visible_article_counts(ARTICLE_TAGS.c.tag_id, ARTICLE_TAGS.c.article_id)


def list_tags(
    session: Session, *, sort: SortKey, cursor: str | None, limit: int, count: bool
) -> Page[Any]:
    """A page of tags as rows (the public shape reads their columns, nothing else)."""
    return fetch_page(
        session, select(*TAGS.c), sort=sort, cursor=cursor, limit=limit, count=count, plain=True
    )


def get_tag(session: Session, slug: str) -> Tag:
    tag = session.scalars(select(Tag).where(col(Tag.slug) == slug)).first()
    if tag is None:
        raise NotFound(f"No tag with slug `{slug}`.")
    return tag

"""Tags as the public sees them, with their counts of visible articles (stored, see
`api.changes.counts`)."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.changes.counts import stored_article_counts
from api.core.errors import NotFound
from api.core.pagination import Page, SortKey, fetch_page, sort_keys
from api.core.tables import table_of
from api.tags.models import Tag

TAGS = table_of(Tag)
TAG_SORTS = sort_keys(TAGS.c.id, name=TAGS.c.name, slug=TAGS.c.slug)
tag_article_counts = stored_article_counts("tag")


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

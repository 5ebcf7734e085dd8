"""Sources as the public sees them, with their counts of visible articles citing each
(stored, see `api.changes.counts`)."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.changes.counts import stored_article_counts
from api.core.errors import NotFound
from api.core.pagination import Page, SortKey, fetch_page, sort_keys
from api.core.tables import table_of
from api.sources.models import Source

SOURCES = table_of(Source)
SOURCE_SORTS = sort_keys(SOURCES.c.id, name=SOURCES.c.name, slug=SOURCES.c.slug)
# An article citing a source twice counts once.
source_article_counts = stored_article_counts("source")


def list_sources(
    session: Session,
    *,
    kind: str | None,
    country: str | None,
    sort: SortKey,
    cursor: str | None,
    limit: int,
    count: bool,
) -> Page[Any]:
    """A page of sources as rows (the public shape reads their columns, nothing else)."""
    query = select(*SOURCES.c)
    if kind:
        query = query.where(SOURCES.c.kind == kind)
    if country:
        query = query.where(SOURCES.c.country == country.upper())
    return fetch_page(
        session, query, sort=sort, cursor=cursor, limit=limit, count=count, plain=True
    )


def get_source(session: Session, slug: str) -> Source:
    source = session.scalars(select(Source).where(col(Source.slug) == slug)).first()
    if source is None:
        raise NotFound(f"No source with slug `{slug}`.")
    return source

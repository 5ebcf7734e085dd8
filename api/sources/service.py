"""Sources as the public sees them, with counts of visible articles citing each."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from api.articles.models import Article, Citation
from api.articles.service import visible
from api.core.errors import NotFound
from api.core.pagination import Page, SortKey, fetch_page, sort_keys
from api.sources.models import Source

SOURCE_SORTS = sort_keys(Source.id, name=Source.name, slug=Source.slug)


def source_article_counts(
    session: Session, now: datetime, source_ids: Sequence[str]
) -> dict[str, int]:
    """Visible articles citing each source (an article citing it twice counts once)."""
    if not source_ids:
        return {}
    rows = session.execute(
        select(Citation.source_id, func.count(distinct(Citation.article_id)))
        .join(Article, Article.id == Citation.article_id)
        .where(Citation.source_id.in_(source_ids), visible(now))
        .group_by(Citation.source_id)
    )
    return {source_id: count for source_id, count in rows}


def list_sources(
    session: Session,
    *,
    kind: str | None,
    country: str | None,
    sort: SortKey,
    cursor: str | None,
    limit: int,
    count: bool,
) -> Page[Source]:
    query = select(Source)
    if kind:
        query = query.where(Source.kind == kind)
    if country:
        query = query.where(Source.country == country.upper())
    return fetch_page(session, query, sort=sort, cursor=cursor, limit=limit, count=count)


def get_source(session: Session, slug: str) -> Source:
    source = session.scalars(select(Source).where(Source.slug == slug)).first()
    if source is None:
        raise NotFound(f"No source with slug `{slug}`.")
    return source

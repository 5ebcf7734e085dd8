"""Cited links for editors: the citations that need a fix, and archived copies."""

from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from api.articles.models import Article, Citation
from api.auth.service import Principal
from api.citations.links import touch_citing_articles
from api.citations.models import CitedLink
from api.citations.schemas import CitedLinkUpdate, cited_link_admin
from api.core.errors import NotFound
from api.core.pagination import Page, SortKey, fetch_page
from api.core.tables import table_of
from api.editorial.audit import record
from api.editorial.versions import bump_version, current_version, versions_of
from api.sources.models import Source

ENTITY = "cited_link"
ARTICLES = table_of(Article)
CITATIONS = table_of(Citation)
LINKS = table_of(CitedLink)
SOURCES = table_of(Source)
LINK_COLUMNS = tuple(LINKS.c)
# Newest articles first: by publication, drafts by creation.
ARTICLE_DATE = func.coalesce(ARTICLES.c.published_at, ARTICLES.c.created_at).label("article_date")
CITATION_SORT = SortKey("-article_date", ARTICLE_DATE, CITATIONS.c.id, descending=True)


def list_citations(
    session: Session, *, status: str | None, cursor: str | None, limit: int, count: bool
) -> Page[Row[Any]]:
    """Citations with a checked URL (of `status`, when given) in articles that are not
    deleted, newest articles first: one statement per page (and one for `count`)."""
    query = (
        select(
            CITATIONS.c.id,
            CITATIONS.c.cited_url,
            CITATIONS.c.context,
            CITATIONS.c.position,
            *(ARTICLES.c[name].label(f"article_{name}") for name in _ARTICLE_SHOWN),
            *(SOURCES.c[name].label(f"source_{name}") for name in _SOURCE_SHOWN),
            *(column.label(f"link_{column.name}") for column in LINK_COLUMNS),
            ARTICLE_DATE,
        )
        .join(ARTICLES, ARTICLES.c.id == CITATIONS.c.article_id)
        .join(SOURCES, SOURCES.c.id == CITATIONS.c.source_id)
        .join(LINKS, LINKS.c.id == CITATIONS.c.link_id)
        .where(ARTICLES.c.deleted_at.is_(None))
    )
    if status is not None:
        query = query.where(LINKS.c.status == status)
    return fetch_page(
        session, query, sort=CITATION_SORT, cursor=cursor, limit=limit, count=count, plain=True
    )


_ARTICLE_SHOWN = ("id", "kind", "slug", "title", "published_at")
_SOURCE_SHOWN = ("id", "slug", "name", "kind", "url")


def citations_admin(session: Session, rows: list[Row[Any]]) -> list[dict[str, Any]]:
    """The page's rows as editors see them (one more statement: the links' versions)."""
    versions = versions_of(session, ENTITY, list(dict.fromkeys(r.link_id for r in rows)))
    items = []
    for row in rows:
        values = row._mapping
        link = CitedLink(**{c.name: values[f"link_{c.name}"] for c in LINK_COLUMNS})
        items.append(
            {
                "id": row.id,
                "article": {name: values[f"article_{name}"] for name in _ARTICLE_SHOWN},
                # SourceRef's fields, as `source_ref` shows them.
                "source": {name: values[f"source_{name}"] for name in _SOURCE_SHOWN},
                "cited_url": row.cited_url,
                "context": row.context,
                "position": row.position,
                "link": cited_link_admin(link, versions[link.id].version),
            }
        )
    return items


def load_link(session: Session, link_id: str) -> CitedLink:
    link = session.get(CitedLink, link_id)
    if link is None:
        raise NotFound(f"No cited link with id `{link_id}`.")
    return link


def link_admin(session: Session, link: CitedLink) -> dict[str, Any]:
    return cited_link_admin(link, current_version(session, ENTITY, link.id).version)


def update_link(
    session: Session,
    link: CitedLink,
    data: CitedLinkUpdate,
    version: int,
    principal: Principal,
    now: datetime,
) -> CitedLink:
    """Change the archived copy (audited as `cited_link.update`); the articles citing the
    link change with it."""
    bump_version(session, ENTITY, link.id, expected=version)
    if "archived_url" in data.model_fields_set and data.archived_url != link.archived_url:
        session.execute(
            update(CitedLink)
            .where(col(CitedLink.id) == link.id)
            .values(archived_url=data.archived_url)
        )
        touch_citing_articles(session, link.id)
    record(session, principal, "cited_link.update", ENTITY, link.id, now)
    session.flush()
    session.refresh(link)
    return link

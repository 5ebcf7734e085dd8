"""Authors as the public sees them."""

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.authors.models import Author
from api.core.errors import NotFound
from api.core.pagination import Page, SortKey, fetch_page, sort_keys

AUTHOR_SORTS = sort_keys(Author.id, name=Author.name, slug=Author.slug)


def list_authors(
    session: Session, *, sort: SortKey, cursor: str | None, limit: int, count: bool
) -> Page[Author]:
    return fetch_page(session, select(Author), sort=sort, cursor=cursor, limit=limit, count=count)


def get_author(session: Session, slug: str) -> Author:
    author = session.scalars(select(Author).where(col(Author.slug) == slug)).first()
    if author is None:
        raise NotFound(f"No author with slug `{slug}`.")
    return author

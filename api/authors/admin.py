"""`/v1/admin/authors`: authors through the shared resource routes."""

from typing import Any

from api.articles.models import ArticleAuthor
from api.authors.models import Author
from api.authors.schemas import AuthorAdmin, AuthorCreate, AuthorUpdate, author_public
from api.editorial.resource_routes import resource_router
from api.editorial.resources import Resource, stamps


def render_admin_author(author: Author, _now: Any, _base: str) -> dict[str, Any]:
    return {**author_public(author), **stamps(author)}


AUTHOR_RESOURCE = Resource(
    name="author",
    plural="authors",
    model=Author,
    create=AuthorCreate,
    update=AuthorUpdate,
    admin=AuthorAdmin,
    name_field="name",
    render_admin=render_admin_author,
    link_model=ArticleAuthor,
    link_column=ArticleAuthor.author_id,
)
router = resource_router(AUTHOR_RESOURCE)

from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Row

from api.authors.models import Author
from api.bundle.schemas import AuthorItem
from api.editorial.schemas import SLUG, ServerStamped, Stamped, describe, update_model


class AuthorPublic(BaseModel):
    """A person who writes for the publication."""

    id: str = Field(description="Stable opaque identifier.")
    slug: str = Field(description="URL-safe unique name.")
    name: str = Field(description="Display name.")
    bio: str | None = Field(None, description="Short biography (plain text).")
    url: str | None = Field(None, description="The author's own page (absolute http(s) URL).")


AUTHOR_FIELDS = frozenset(AuthorPublic.model_fields)


def author_public(author: Author | Row[Any]) -> dict[str, Any]:
    return {
        "id": author.id,
        "slug": author.slug,
        "name": author.name,
        "bio": author.bio,
        "url": author.url,
    }


class AuthorCreate(ServerStamped, AuthorItem):
    """A new author."""


describe(AuthorCreate, {
    "slug": SLUG, "name": "Display name.", "bio": "Short biography (plain text).",
    "url": "The author's own page (absolute http(s) URL).",
})  # fmt: skip


AuthorUpdate = update_model(AuthorCreate, "an author")


class AuthorAdmin(AuthorPublic, Stamped):
    """An author, as editors see it."""

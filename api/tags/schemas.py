from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Row

from api.bundle.schemas import TagItem
from api.editorial.schemas import SLUG, ServerStamped, Stamped, describe, update_model
from api.tags.models import Tag


class TagRef(BaseModel):
    """A tag as embedded in an article."""

    id: str = Field(description="Stable opaque identifier.")
    slug: str = Field(description="URL-safe unique name, e.g. `chechen-anti-gay-purge`.")
    name: str = Field(description="Display name.")
    hashtag: str | None = Field(description="The hashtag form, e.g. `#ChechenAntiGayPurge`.")


class TagPublic(TagRef):
    """A tag with the number of published articles carrying it."""

    description: str | None = Field(None, description="What the tag is about (plain text).")
    article_count: int | None = Field(None, description="Published articles with this tag.")


TAG_FIELDS = frozenset(TagPublic.model_fields)


def tag_ref(tag: Tag | Row[Any]) -> dict[str, Any]:
    return {"id": tag.id, "slug": tag.slug, "name": tag.name, "hashtag": tag.hashtag}


def tag_public(tag: Tag, article_count: int) -> dict[str, Any]:
    return {**tag_ref(tag), "description": tag.description, "article_count": article_count}


class TagCreate(ServerStamped, TagItem):
    """A new tag."""


describe(TagCreate, {
    "slug": SLUG, "name": "Display name.",
    "hashtag": "Hashtag form, e.g. `#ChechenAntiGayPurge`; made from the name when absent.",
    "description": "What the tag is about (plain text).",
})  # fmt: skip


TagUpdate = update_model(TagCreate, "a tag")


class TagAdmin(TagRef, Stamped):
    """A tag, as editors see it."""

    description: str | None = Field(None, description="What the tag is about (plain text).")

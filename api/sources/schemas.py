from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Row

from api.bundle.schemas import SourceItem
from api.editorial.schemas import SLUG, ServerStamped, Stamped, describe, update_model
from api.sources.models import Source, SourceKind


class SourceRef(BaseModel):
    """A source as embedded in a citation."""

    id: str = Field(description="Stable opaque identifier.")
    slug: str = Field(description="URL-safe unique name, e.g. `human-rights-watch`.")
    name: str = Field(description="Display name of the outlet, organisation or person.")
    kind: SourceKind = Field(description="What sort of source this is.")
    url: str | None = Field(description="The source's home page (absolute http(s) URL).")


class SourcePublic(SourceRef):
    """A source the publication cites, with the number of published articles citing it."""

    country: str | None = Field(None, description="ISO 3166-1 alpha-2 country code, or null.")
    description: str | None = Field(None, description="Who the source is (plain text).")
    article_count: int | None = Field(None, description="Published articles citing it.")


SOURCE_FIELDS = frozenset(SourcePublic.model_fields)


def source_ref(source: Source | Row[Any]) -> dict[str, Any]:
    return {
        "id": source.id,
        "slug": source.slug,
        "name": source.name,
        "kind": source.kind,
        "url": source.url,
    }


def source_public(source: Source, article_count: int) -> dict[str, Any]:
    return {
        **source_ref(source),
        "country": source.country,
        "description": source.description,
        "article_count": article_count,
    }


class SourceCreate(ServerStamped, SourceItem):
    """A new source (outlet, organisation, person...)."""


describe(SourceCreate, {
    "slug": SLUG, "name": "Display name.", "kind": "What sort of source this is.",
    "url": "Home page (absolute http(s) URL).", "country": "ISO 3166-1 alpha-2 code.",
    "description": "Who the source is (plain text).",
})  # fmt: skip


SourceUpdate = update_model(SourceCreate, "a source")


class SourceAdmin(SourceRef, Stamped):
    """A source, as editors see it."""

    country: str | None = Field(None, description="ISO 3166-1 alpha-2 country code, or null.")
    description: str | None = Field(None, description="Who the source is (plain text).")

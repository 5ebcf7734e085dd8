"""`/v1/admin/tags`: tags through the shared resource routes."""

from typing import Any

from api.articles.models import ArticleTag
from api.editorial.resource_routes import resource_router
from api.editorial.resources import Resource, stamps
from api.tags.models import Tag
from api.tags.naming import hashtag_for
from api.tags.schemas import TagAdmin, TagCreate, TagUpdate, tag_ref


def render_admin_tag(tag: Tag, _now: Any, _base: str) -> dict[str, Any]:
    return {**tag_ref(tag), "description": tag.description, **stamps(tag)}


def fill_hashtag(values: dict[str, Any]) -> None:
    if not values.get("hashtag"):
        values["hashtag"] = hashtag_for(values["name"])


TAG_RESOURCE = Resource(
    name="tag",
    plural="tags",
    model=Tag,
    create=TagCreate,
    update=TagUpdate,
    admin=TagAdmin,
    name_field="name",
    render_admin=render_admin_tag,
    link_model=ArticleTag,
    link_column=ArticleTag.tag_id,
    derive=fill_hashtag,
    in_search_text=True,
)
router = resource_router(TAG_RESOURCE)

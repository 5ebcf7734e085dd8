"""`/v1/admin/sources`: sources through the shared resource routes."""

from typing import Any

from api.articles.models import Citation
from api.editorial.resource_routes import resource_router
from api.editorial.resources import Resource, stamps
from api.sources.models import Source
from api.sources.schemas import SourceAdmin, SourceCreate, SourceUpdate, source_ref


def render_admin_source(source: Source, _now: Any, _base: str) -> dict[str, Any]:
    return {
        **source_ref(source),
        "country": source.country,
        "description": source.description,
        **stamps(source),
    }


SOURCE_RESOURCE = Resource(
    name="source",
    plural="sources",
    model=Source,
    create=SourceCreate,
    update=SourceUpdate,
    admin=SourceAdmin,
    name_field="name",
    render_admin=render_admin_source,
    link_model=Citation,
    link_column=Citation.source_id,
)
router = resource_router(SOURCE_RESOURCE)

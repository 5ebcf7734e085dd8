"""GET /v1/sync: delta sync for offline clients and static-site builders."""

from typing import Annotated, Any, Generic, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from api.actions.schemas import ActionPublic, action_public
from api.articles.schemas import ArticlePublic, article_public
from api.articles.translations import translations_of
from api.authors.schemas import AuthorPublic, author_public
from api.core.db import NowDep, SessionDep, public_read
from api.core.errors import problem_responses
from api.core.http import base_url, dump_json, public_response, reject_unknown_query
from api.site.service import load_site
from api.sources.schemas import SourcePublic, source_public
from api.sources.service import source_article_counts
from api.sync.service import ALL_RELATIONS, sync_delta
from api.tags.schemas import TagPublic, tag_public
from api.tags.service import tag_article_counts

T = TypeVar("T")
router = APIRouter(prefix="/v1/sync", tags=["sync"], dependencies=[Depends(reject_unknown_query)])


class Changes(BaseModel, Generic[T]):
    """What changed in one resource since the token."""

    upserted: list[T] = Field(description="Items to add or replace, in full.")
    deleted: list[str] = Field(
        description="Ids of items to remove (for articles: also "
        "unpublished, made drafts or rescheduled)."
    )


class SyncData(BaseModel):
    articles: Changes[ArticlePublic] = Field(description="Article changes.")
    tags: Changes[TagPublic] = Field(description="Tag changes.")
    sources: Changes[SourcePublic] = Field(description="Source changes.")
    actions: Changes[ActionPublic] = Field(description="Action changes.")
    authors: Changes[AuthorPublic] = Field(description="Author changes.")
    pages: Changes[ArticlePublic] = Field(
        description="Page changes (pages have the article shape; `links.self` is "
        "`/v1/pages/{slug}`)."
    )


class SyncMeta(BaseModel):
    next_since: str = Field(description="Pass as `since` next time (or at once if `has_more`).")
    has_more: bool = Field(description="More changes are waiting: call again at once.")


class SyncEnvelope(BaseModel):
    """One page of changes. Apply upserts and deletions in order, then store `next_since`."""

    data: SyncData = Field(description="Changes per resource.")
    meta: SyncMeta = Field(description="Where to continue.")


@router.get(
    "",
    response_model=SyncEnvelope,
    responses=problem_responses(400, 422),
    summary="Delta sync",
)
@public_read
def sync_changes(
    request: Request,
    session: SessionDep,
    now: NowDep,
    since: Annotated[
        str | None,
        Query(
            max_length=512,
            description="`meta.next_since` of the previous call; absent for a first, full "
            "sync. Tokens stay valid across restarts. Malformed tokens are a 400.",
        ),
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=1000, description="Changes per page, 1 to 1000 (default 500).")
    ] = 500,
) -> Response:
    """Everything published (first call), then only what changed: upserted items in full and
    the ids of deleted ones. An article unpublished, deleted, made a draft or scheduled
    later appears in `deleted`; a scheduled article appears in `upserted` once its time
    has come; pages (under `pages`) alike. Counts (`article_count`) are as of the call."""
    delta = sync_delta(session, since, limit, now)
    base = base_url(request)
    shown = [*delta.upserted.get("article", []), *delta.upserted.get("page", [])]
    # The `canonical_url` fallback (the frontend's URL) needs the site settings.
    site = load_site(session, base) if shown else None
    # Their other language versions (one statement, none when no item has any).
    versions = translations_of(session, now, shown)
    tags = delta.upserted.get("tag", [])
    sources = delta.upserted.get("source", [])
    tag_counts = tag_article_counts(session, now, [t.id for t in tags])
    source_counts = source_article_counts(session, now, [s.id for s in sources])

    def changes(name: str, upserted: list[Any]) -> dict[str, Any]:
        return {"upserted": upserted, "deleted": delta.deleted.get(name, [])}

    def articles(name: str) -> dict[str, Any]:
        return changes(
            name,
            [
                article_public(
                    a,
                    include=ALL_RELATIONS,
                    fields=None,
                    with_body=True,
                    now=now,
                    base=base,
                    site=site,
                    translations=versions[a.id],
                )
                for a in delta.upserted.get(name, [])
            ],
        )

    data = {
        "articles": articles("article"),
        "tags": changes("tag", [tag_public(t, tag_counts.get(t.id, 0)) for t in tags]),
        "sources": changes(
            "source", [source_public(s, source_counts.get(s.id, 0)) for s in sources]
        ),
        "actions": changes(
            "action", [action_public(a, now, base) for a in delta.upserted.get("action", [])]
        ),
        "authors": changes("author", [author_public(a) for a in delta.upserted.get("author", [])]),
        "pages": articles("page"),
    }
    assert delta.next_token is not None
    body = dump_json(
        {
            "data": data,
            "meta": {"next_since": delta.next_token.encode(), "has_more": delta.has_more},
        }
    )
    return public_response(
        request, body, extra_headers={"Cache-Control": "public, no-cache"}, surrogate_keys=["sync"]
    )

"""`/v1/admin/articles`: write articles, publish them, keep and restore their revisions."""

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Body, Depends, Path, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from api.articles import editing as service
from api.articles.models import Article
from api.articles.schemas import ArticleAdmin, ArticleCreate, ArticleUpdate, PublishRequest
from api.auth.dependencies import AdminRouter, ContributorDep, EditorDep
from api.auth.service import Principal
from api.core.db import NowDep, SessionDep
from api.core.envelopes import ItemEnvelope, ListEnvelope
from api.core.errors import problem_responses
from api.core.http import base_url, reject_unknown_query
from api.core.listing import Count, CursorParam, Limit
from api.editorial.http import admin_response, check_if_match, item_response, list_response
from api.editorial.schemas import RevisionPublic
from api.editorial.versions import current_version, versions_of

router = AdminRouter(
    prefix="/v1/admin/articles",
    tags=["admin: articles"],
    dependencies=[Depends(reject_unknown_query)],
)
ArticleId = Annotated[str, Path(max_length=32, description="The article's id.")]


def render_admin_article(
    request: Request, session: Session, now: datetime, article: Article
) -> dict[str, Any]:
    """The article as editors see it, at its current version."""
    version = current_version(session, service.ENTITY, article.id).version
    return service.admin_article(article, version, now, base_url(request))


@router.post(
    "",
    status_code=201,
    response_model=ItemEnvelope[ArticleAdmin],
    responses=problem_responses(409, 413, 422),
    summary="Create an article (a draft)",
)
def create_admin_article(
    request: Request,
    session: SessionDep,
    now: NowDep,
    principal: ContributorDep,
    data: Annotated[ArticleCreate, Body(description="The new article.")],
) -> Response:
    """Creates a draft. The body (`body_html` or `body_markdown`) is sanitised; word count,
    reading time, search text and (when absent) the excerpt are derived."""
    article = service.create_article(session, data, principal, now)
    return item_response(render_admin_article(request, session, now, article), status_code=201)


@router.get(
    "",
    response_model=ListEnvelope[ArticleAdmin],
    responses=problem_responses(400, 422),
    summary="List articles of any status",
)
def list_admin_articles(
    request: Request,
    session: SessionDep,
    now: NowDep,
    principal: ContributorDep,
    limit: Limit = 15,
    cursor: CursorParam = None,
    count: Count = False,
    status: Annotated[
        Literal["draft", "scheduled", "published"] | None,
        Query(description="Only articles in this state."),
    ] = None,
    deleted: Annotated[
        bool, Query(description="List (soft-)deleted articles instead of live ones.")
    ] = False,
) -> Response:
    """Most recently changed first. Contributors see their own articles only."""
    page = service.list_admin_articles(
        session, principal, now, status=status, deleted=deleted, cursor=cursor, limit=limit,
        count=count,
    )  # fmt: skip
    versions = versions_of(session, service.ENTITY, [a.id for a in page.items])
    base = base_url(request)
    items = [service.admin_article(a, versions[a.id].version, now, base) for a in page.items]
    return list_response(request, items, page, limit)


def _readable_article(
    session: Session, principal: Principal, article_id: str, **kwargs: Any
) -> Article:
    article = service.load_article(session, article_id, **kwargs)
    service.may_read(session, principal, article)
    return article


@router.get(
    "/{article_id}",
    response_model=ItemEnvelope[ArticleAdmin],
    responses=problem_responses(404, 422),
    summary="Get one article",
)
def get_admin_article(
    request: Request,
    session: SessionDep,
    now: NowDep,
    principal: ContributorDep,
    article_id: ArticleId,
) -> Response:
    """Any status, deleted ones too. The `ETag` is what `If-Match` must carry on PATCH."""
    article = _readable_article(session, principal, article_id, deleted_too=True)
    return item_response(render_admin_article(request, session, now, article))


@router.patch(
    "/{article_id}",
    response_model=ItemEnvelope[ArticleAdmin],
    responses=problem_responses(404, 409, 412, 413, 422, 428),
    summary="Change an article",
)
def update_admin_article(
    request: Request,
    session: SessionDep,
    now: NowDep,
    principal: ContributorDep,
    article_id: ArticleId,
    data: Annotated[ArticleUpdate, Body(description="The fields to change.")],  # type: ignore[valid-type]
) -> Response:
    """Needs `If-Match` with the current ETag (428 without, 412 when stale): of two
    editors saving at once, exactly one wins. Contributors may change their own drafts."""
    article = service.load_article(session, article_id)
    service.may_edit(session, principal, article)
    version = current_version(session, service.ENTITY, article.id).version
    check_if_match(request, service.admin_article(article, version, now, base_url(request)))
    article = service.update_article(session, article, data, version, principal, now)
    return item_response(render_admin_article(request, session, now, article))


@router.delete(
    "/{article_id}",
    response_model=ItemEnvelope[ArticleAdmin],
    responses=problem_responses(404, 422),
    summary="Delete an article (soft)",
)
def delete_admin_article(
    request: Request,
    session: SessionDep,
    now: NowDep,
    principal: EditorDep,
    article_id: ArticleId,
) -> Response:
    """It disappears publicly at once; it is kept (with `deleted_at`) for sync and for
    restoring a revision."""
    article = service.delete_article(
        session, service.load_article(session, article_id), principal, now
    )
    return item_response(render_admin_article(request, session, now, article))


@router.post(
    "/{article_id}/publish",
    response_model=ItemEnvelope[ArticleAdmin],
    responses=problem_responses(404, 422),
    summary="Publish or schedule an article",
)
def publish_admin_article(
    request: Request,
    session: SessionDep,
    now: NowDep,
    principal: EditorDep,
    article_id: ArticleId,
    data: Annotated[PublishRequest | None, Body(description="Optional publication time.")] = None,
) -> Response:
    """Publishes now, or at `published_at`; a future time schedules it and it appears
    publicly by itself when the time comes."""
    article = service.load_article(session, article_id)
    when = data.published_at if data else None
    article = service.publish_article(session, article, when, principal, now)
    return item_response(render_admin_article(request, session, now, article))


@router.post(
    "/{article_id}/unpublish",
    response_model=ItemEnvelope[ArticleAdmin],
    responses=problem_responses(404, 422),
    summary="Unpublish an article",
)
def unpublish_admin_article(
    request: Request,
    session: SessionDep,
    now: NowDep,
    principal: EditorDep,
    article_id: ArticleId,
) -> Response:
    """Back to draft: it disappears publicly at once."""
    article = service.unpublish_article(
        session, service.load_article(session, article_id), principal, now
    )
    return item_response(render_admin_article(request, session, now, article))


@router.get(
    "/{article_id}/revisions",
    response_model=ItemEnvelope[list[RevisionPublic]],
    responses=problem_responses(404, 422),
    summary="List an article's revisions",
)
def list_article_revisions(
    session: SessionDep,
    principal: EditorDep,
    article_id: ArticleId,
) -> Response:
    """Every saved state, newest first."""
    article = service.load_article(session, article_id, deleted_too=True)
    return admin_response(
        {
            "data": [
                {
                    "number": r.number,
                    "token_name": r.token_name,
                    "created_at": r.created_at,
                    "snapshot": r.snapshot,
                }
                for r in service.list_revisions(session, article)
            ]
        }
    )


@router.post(
    "/{article_id}/revisions/{number}/restore",
    response_model=ItemEnvelope[ArticleAdmin],
    responses=problem_responses(404, 409, 422),
    summary="Restore a revision",
)
def restore_article_revision(
    request: Request,
    session: SessionDep,
    now: NowDep,
    principal: EditorDep,
    article_id: ArticleId,
    # Bounded to what both databases store in an INTEGER column (a larger one is a 422).
    number: Annotated[
        int, Path(ge=1, le=2_147_483_647, description="The revision number, from 1.")
    ],
) -> Response:
    """Brings back the revision's content (undeleting the article if needed) as a new save;
    publication state is kept."""
    article = service.load_article(session, article_id, deleted_too=True)
    article = service.restore_revision(session, article, number, principal, now)
    return item_response(render_admin_article(request, session, now, article))

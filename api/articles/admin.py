"""`/v1/admin/articles` and `/v1/admin/pages`: write articles and pages, publish them, keep
and restore their revisions. One set of routes, built per kind."""

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Body, Depends, Path, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from api.articles import editing as service
from api.articles.models import Article, ArticleKind
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


def render_admin_article(
    request: Request, session: Session, now: datetime, article: Article
) -> dict[str, Any]:
    """The article (or page) as editors see it, at its current version."""
    version = current_version(session, service.ENTITY, article.id).version
    return service.admin_article(article, version, now, base_url(request))


def article_admin_router(kind: ArticleKind) -> AdminRouter:
    """The admin routes of one kind: `/v1/admin/articles` or `/v1/admin/pages`."""
    noun = kind.value
    plural = f"{noun}s"
    a_noun = f"an {noun}" if noun[0] in "aeiou" else f"a {noun}"
    router = AdminRouter(
        prefix=f"/v1/admin/{plural}",
        tags=[f"admin: {plural}"],
        dependencies=[Depends(reject_unknown_query)],
    )
    # Named `article_id` or `page_id` in the paths, as the document has always called it.
    id_name = f"{noun}_id"
    ItemId = Annotated[str, Path(alias=id_name, max_length=32, description=f"The {noun}'s id.")]

    def load(session: Session, item: str, *, deleted_too: bool = False) -> Article:
        return service.load_article(session, item, deleted_too=deleted_too, kind=kind)

    @router.post(
        "",
        status_code=201,
        response_model=ItemEnvelope[ArticleAdmin],
        responses=problem_responses(409, 413, 422),
        summary=f"Create {a_noun} (a draft)",
        name=f"create_admin_{noun}",
        description=f"Creates a draft {noun}. The body (`body_html` or `body_markdown`) is "
        "sanitised; word count, reading time, search text and (when absent) the excerpt are "
        "derived. Articles and pages share one slug namespace: a slug taken by either is a "
        "409.",
    )
    def create_item(
        request: Request,
        session: SessionDep,
        now: NowDep,
        principal: ContributorDep,
        data: Annotated[ArticleCreate, Body(description=f"The new {noun}.")],
    ) -> Response:
        article = service.create_article(session, data, principal, now, kind)
        return item_response(render_admin_article(request, session, now, article), status_code=201)

    @router.get(
        "",
        response_model=ListEnvelope[ArticleAdmin],
        responses=problem_responses(400, 422),
        summary=f"List {plural} of any status",
        name=f"list_admin_{plural}",
        description=f"Most recently changed first. Contributors see their own {plural} only.",
    )
    def list_items(
        request: Request,
        session: SessionDep,
        now: NowDep,
        principal: ContributorDep,
        limit: Limit = 15,
        cursor: CursorParam = None,
        count: Count = False,
        status: Annotated[
            Literal["draft", "scheduled", "published"] | None,
            Query(description=f"Only {plural} in this state."),
        ] = None,
        deleted: Annotated[
            bool, Query(description=f"List (soft-)deleted {plural} instead of live ones.")
        ] = False,
    ) -> Response:
        page = service.list_admin_articles(
            session, principal, now, status=status, deleted=deleted, cursor=cursor,
            limit=limit, count=count, kind=kind,
        )  # fmt: skip
        versions = versions_of(session, service.ENTITY, [a.id for a in page.items])
        base = base_url(request)
        items = [service.admin_article(a, versions[a.id].version, now, base) for a in page.items]
        return list_response(request, items, page, limit)

    def readable(session: Session, principal: Principal, item: str, **kwargs: Any) -> Article:
        article = load(session, item, **kwargs)
        service.may_read(session, principal, article)
        return article

    @router.get(
        f"/{{{id_name}}}",
        response_model=ItemEnvelope[ArticleAdmin],
        responses=problem_responses(404, 422),
        summary=f"Get one {noun}",
        name=f"get_admin_{noun}",
        description="Any status, deleted ones too. The `ETag` is what `If-Match` must carry "
        "on PATCH.",
    )
    def get_item(
        request: Request,
        session: SessionDep,
        now: NowDep,
        principal: ContributorDep,
        item_id: ItemId,
    ) -> Response:
        article = readable(session, principal, item_id, deleted_too=True)
        return item_response(render_admin_article(request, session, now, article))

    @router.patch(
        f"/{{{id_name}}}",
        response_model=ItemEnvelope[ArticleAdmin],
        responses=problem_responses(404, 409, 412, 413, 422, 428),
        summary=f"Change {a_noun}",
        name=f"update_admin_{noun}",
        description="Needs `If-Match` with the current ETag (428 without, 412 when stale): "
        "of two editors saving at once, exactly one wins. Contributors may change their "
        "own drafts.",
    )
    def update_item(
        request: Request,
        session: SessionDep,
        now: NowDep,
        principal: ContributorDep,
        item_id: ItemId,
        data: Annotated[ArticleUpdate, Body(description="The fields to change.")],  # type: ignore[valid-type]
    ) -> Response:
        article = load(session, item_id)
        service.may_edit(session, principal, article)
        version = current_version(session, service.ENTITY, article.id).version
        check_if_match(request, service.admin_article(article, version, now, base_url(request)))
        article = service.update_article(session, article, data, version, principal, now)
        return item_response(render_admin_article(request, session, now, article))

    @router.delete(
        f"/{{{id_name}}}",
        response_model=ItemEnvelope[ArticleAdmin],
        responses=problem_responses(404, 422),
        summary=f"Delete {a_noun} (soft)",
        name=f"delete_admin_{noun}",
        description="It disappears publicly at once; it is kept (with `deleted_at`) for sync "
        "and for restoring a revision.",
    )
    def delete_item(
        request: Request,
        session: SessionDep,
        now: NowDep,
        principal: EditorDep,
        item_id: ItemId,
    ) -> Response:
        article = service.delete_article(session, load(session, item_id), principal, now)
        return item_response(render_admin_article(request, session, now, article))

    @router.post(
        f"/{{{id_name}}}/publish",
        response_model=ItemEnvelope[ArticleAdmin],
        responses=problem_responses(404, 422),
        summary=f"Publish or schedule {a_noun}",
        name=f"publish_admin_{noun}",
        description="Publishes now, or at `published_at`; a future time schedules it and it "
        "appears publicly by itself when the time comes.",
    )
    def publish_item(
        request: Request,
        session: SessionDep,
        now: NowDep,
        principal: EditorDep,
        item_id: ItemId,
        data: Annotated[
            PublishRequest | None, Body(description="Optional publication time.")
        ] = None,
    ) -> Response:
        article = load(session, item_id)
        when = data.published_at if data else None
        article = service.publish_article(session, article, when, principal, now)
        return item_response(render_admin_article(request, session, now, article))

    @router.post(
        f"/{{{id_name}}}/unpublish",
        response_model=ItemEnvelope[ArticleAdmin],
        responses=problem_responses(404, 422),
        summary=f"Unpublish {a_noun}",
        name=f"unpublish_admin_{noun}",
        description="Back to draft: it disappears publicly at once.",
    )
    def unpublish_item(
        request: Request,
        session: SessionDep,
        now: NowDep,
        principal: EditorDep,
        item_id: ItemId,
    ) -> Response:
        article = service.unpublish_article(session, load(session, item_id), principal, now)
        return item_response(render_admin_article(request, session, now, article))

    @router.get(
        f"/{{{id_name}}}/revisions",
        response_model=ItemEnvelope[list[RevisionPublic]],
        responses=problem_responses(404, 422),
        summary=f"List {a_noun}'s revisions",
        name=f"list_{noun}_revisions",
        description="Every saved state, newest first.",
    )
    def list_revisions(session: SessionDep, principal: EditorDep, item_id: ItemId) -> Response:
        article = load(session, item_id, deleted_too=True)
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
        f"/{{{id_name}}}/revisions/{{number}}/restore",
        response_model=ItemEnvelope[ArticleAdmin],
        responses=problem_responses(404, 409, 422),
        summary="Restore a revision",
        name=f"restore_{noun}_revision",
        description=f"Brings back the revision's content (undeleting the {noun} if needed) "
        "as a new save; publication state is kept, and so are the corrections (they are the "
        "public record: those made since stay, those deleted since stay deleted).",
    )
    def restore_revision(
        request: Request,
        session: SessionDep,
        now: NowDep,
        principal: EditorDep,
        item_id: ItemId,
        # Bounded to what both databases store in an INTEGER column (a larger one is a 422).
        number: Annotated[
            int, Path(ge=1, le=2_147_483_647, description="The revision number, from 1.")
        ],
    ) -> Response:
        article = load(session, item_id, deleted_too=True)
        article = service.restore_revision(session, article, number, principal, now)
        return item_response(render_admin_article(request, session, now, article))

    return router


router = article_admin_router(ArticleKind.article)
pages_router = article_admin_router(ArticleKind.page)

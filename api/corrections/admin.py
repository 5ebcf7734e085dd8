"""`/v1/admin/articles/{id}/corrections`: the notes editors add when an article was wrong,
unclear or is withdrawn."""

from typing import Annotated

from fastapi import Body, Depends, Path, Request
from starlette.responses import Response

from api.articles import editing
from api.articles.admin import render_admin_article
from api.auth.dependencies import AdminRouter, EditorDep
from api.core.db import NowDep, SessionDep
from api.core.envelopes import ItemEnvelope
from api.core.errors import problem_responses
from api.core.http import reject_unknown_query
from api.corrections import service
from api.corrections.schemas import (
    MAX_PER_ARTICLE,
    CorrectionAdmin,
    CorrectionCreate,
    CorrectionUpdate,
)
from api.editorial.http import admin_response, check_if_match, item_response, no_content

router = AdminRouter(
    prefix="/v1/admin/articles",
    tags=["admin: articles"],
    dependencies=[Depends(reject_unknown_query)],
)
ArticleId = Annotated[str, Path(max_length=32, description="The article's id.")]
CorrectionId = Annotated[str, Path(max_length=32, description="The correction's id.")]
WRITES = (
    "Each write is part of the article: its `updated_at` and version change (so its admin "
    "ETag does), a revision is saved (revisions list the corrections) and the audit log "
    "records it (`correction.create`, `correction.amend`, `correction.delete`). Restoring a "
    "revision never changes the corrections: they are the public record."
)


def _location(article_id: str, correction_id: str) -> str:
    return f"/v1/admin/articles/{article_id}/corrections/{correction_id}"


@router.get(
    "/{article_id}/corrections",
    response_model=ItemEnvelope[list[CorrectionAdmin]],
    responses=problem_responses(404, 422),
    summary="List an article's corrections",
    name="list_article_corrections",
)
def list_corrections(session: SessionDep, _principal: EditorDep, article_id: ArticleId) -> Response:
    """Every correction, clarification and retraction of the article, oldest first (at most
    100), as the public sees them plus who entered them. Deleted articles too."""
    article = editing.load_article(session, article_id, deleted_too=True)
    notes = service.list_corrections(session, article)
    return admin_response({"data": [service.correction_admin(c) for c in notes]})


@router.post(
    "/{article_id}/corrections",
    status_code=201,
    response_model=ItemEnvelope[CorrectionAdmin],
    responses=problem_responses(404, 409, 412, 413, 422),
    summary="Correct, clarify or retract an article",
    name="create_article_correction",
    description="Adds a note the public article shows at once in `corrections` (a "
    "`retraction` also marks it `retracted: true`; it stays readable). Feeds re-send the "
    "article with the note, webhooks get `article.corrected`, `/v1/sync` re-sends the "
    "article. An `If-Match` with the article's ETag (from `GET /v1/admin/articles/{id}`) "
    "is optional: when sent, a stale one is a 412, so the note is added to the version the "
    f"editor read. At most {MAX_PER_ARTICLE} notes per article (409 beyond). {WRITES}",
)
def create_correction(
    request: Request,
    session: SessionDep,
    now: NowDep,
    principal: EditorDep,
    article_id: ArticleId,
    data: Annotated[CorrectionCreate, Body(description="The note.")],
) -> Response:
    article = editing.load_article(session, article_id)
    if request.headers.get("if-match"):
        check_if_match(request, render_admin_article(request, session, now, article))
    correction = service.add_correction(session, article, data, principal, now)
    response = item_response(service.correction_admin(correction), status_code=201)
    response.headers["Location"] = _location(article.id, correction.id)
    return response


@router.get(
    "/{article_id}/corrections/{correction_id}",
    response_model=ItemEnvelope[CorrectionAdmin],
    responses=problem_responses(404, 422),
    summary="Get one correction",
    name="get_article_correction",
)
def get_correction(
    session: SessionDep,
    _principal: EditorDep,
    article_id: ArticleId,
    correction_id: CorrectionId,
) -> Response:
    """The note; its `ETag` is what `If-Match` must carry to amend or delete it."""
    article = editing.load_article(session, article_id, deleted_too=True)
    correction = service.load_correction(session, article, correction_id)
    return item_response(service.correction_admin(correction))


@router.patch(
    "/{article_id}/corrections/{correction_id}",
    response_model=ItemEnvelope[CorrectionAdmin],
    responses=problem_responses(404, 412, 413, 422, 428),
    summary="Amend a correction",
    name="amend_article_correction",
    description="Changes the note's `kind`, `text` or `at`; the public note then shows "
    "`amended_at`. Needs `If-Match` with the note's ETag (428 without, 412 when stale). " + WRITES,
)
def amend_correction(
    request: Request,
    session: SessionDep,
    now: NowDep,
    principal: EditorDep,
    article_id: ArticleId,
    correction_id: CorrectionId,
    data: Annotated[CorrectionUpdate, Body(description="The fields to change.")],
) -> Response:
    article = editing.load_article(session, article_id)
    correction = service.load_correction(session, article, correction_id)
    check_if_match(request, service.correction_admin(correction))
    correction = service.amend_correction(session, article, correction, data, principal, now)
    return item_response(service.correction_admin(correction))


@router.delete(
    "/{article_id}/corrections/{correction_id}",
    status_code=204,
    responses=problem_responses(404, 412, 422, 428),
    summary="Delete a correction",
    name="delete_article_correction",
    description="For a note made in error (on the wrong article, say): to change one, "
    "amend it. Needs `If-Match` with the note's ETag (428 without, 412 when stale). The "
    "note leaves the public article at once; the revision saved before keeps its text, and "
    "the audit log says who deleted it and when. " + WRITES,
)
def delete_correction(
    request: Request,
    session: SessionDep,
    now: NowDep,
    principal: EditorDep,
    article_id: ArticleId,
    correction_id: CorrectionId,
) -> Response:
    article = editing.load_article(session, article_id)
    correction = service.load_correction(session, article, correction_id)
    check_if_match(request, service.correction_admin(correction))
    service.delete_correction(session, article, correction, principal, now)
    return no_content()

"""`/v1/admin/actions`: actions through the shared resource routes, and their click counts."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Path
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col
from starlette.responses import Response

from api.actions.models import Action
from api.actions.progress import goal_columns, recount_progress
from api.actions.schemas import (
    ActionAdmin,
    ActionCreate,
    ActionUpdate,
    action_public,
    action_tracking,
)
from api.actions.service import click_counts
from api.articles.models import Article, ArticleAction
from api.auth.dependencies import AdminRouter, EditorDep
from api.core.db import SessionDep
from api.core.errors import NotFound, problem_responses
from api.core.http import reject_unknown_query
from api.editorial.http import admin_response
from api.editorial.resource_routes import resource_router
from api.editorial.resources import Resource, stamps


def render_admin_action(action: Action, now: datetime, base: str) -> dict[str, Any]:
    return {**action_public(action, now, base), **action_tracking(action), **stamps(action)}


def recount_after_write(session: Session, action: Action) -> None:
    """A changed goal changes what counts as progress."""
    recount_progress(session, [action.id])


ACTION_RESOURCE = Resource(
    name="action",
    plural="actions",
    model=Action,
    create=ActionCreate,
    update=ActionUpdate,
    admin=ActionAdmin,
    name_field="title",
    render_admin=render_admin_action,
    derive=goal_columns,
    after_write=recount_after_write,
    link_model=ArticleAction,
    link_column=ArticleAction.action_id,
)
router = resource_router(ACTION_RESOURCE)
clicks_router = AdminRouter(
    prefix="/v1/admin/actions",
    tags=["admin: actions"],
    dependencies=[Depends(reject_unknown_query)],
)


class ArticleClicks(BaseModel):
    article_id: str | None = Field(description="The citing article; null for other places.")
    article_slug: str | None = Field(description="Its slug, when it still exists.")
    clicks: int = Field(description="Clicks through the action's `go_url` from there.")


class ActionClicks(BaseModel):
    """Click counts of one action; no reader data is kept, only these counters."""

    action_id: str = Field(description="The action.")
    total: int = Field(description="All clicks.")
    by_article: list[ArticleClicks] = Field(description="Clicks per citing article, most first.")


@clicks_router.get(
    "/{action_id}/clicks",
    response_model=ActionClicks,
    responses=problem_responses(401, 403, 404, 422),
    summary="Click counts of an action",
)
def action_clicks(
    session: SessionDep,
    _principal: EditorDep,
    action_id: Annotated[str, Path(max_length=32, description="The action's id.")],
) -> Response:
    """Clicks through the tracked redirect, in total and per article they came from."""
    if session.get(Action, action_id) is None:
        raise NotFound(f"No action with id `{action_id}`.")
    counts = click_counts(session, action_id)
    slugs: dict[str, str] = dict(
        session.execute(
            select(col(Article.id), col(Article.slug)).where(col(Article.id).in_(list(counts)))
        ).all()
    )
    most_first = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    by_article = [
        {"article_id": article_id or None, "article_slug": slugs.get(article_id), "clicks": clicks}
        for article_id, clicks in most_first
    ]
    return admin_response(
        {"action_id": action_id, "total": sum(counts.values()), "by_article": by_article}
    )

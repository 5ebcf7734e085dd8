"""Calls to action as the public sees them: active within their window unless asked for all."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.actions.models import Action, ActionClick
from api.core.db import insert_on_conflict
from api.core.errors import NotFound
from api.core.pagination import Page, SortKey, fetch_page, sort_keys

ACTION_SORTS = sort_keys(
    Action.id, created_at=Action.created_at, title=Action.title, slug=Action.slug
)


class ActiveFilter(StrEnum):
    true = "true"
    false = "false"
    all = "all"


def active_at(now: datetime) -> ColumnElement[bool]:
    return and_(
        or_(col(Action.starts_at).is_(None), col(Action.starts_at) <= now),
        or_(col(Action.ends_at).is_(None), col(Action.ends_at) > now),
    )


def list_actions(
    session: Session,
    now: datetime,
    *,
    active: ActiveFilter,
    kind: str | None,
    sort: SortKey,
    cursor: str | None,
    limit: int,
    count: bool,
) -> Page[Action]:
    query = select(Action)
    if active is ActiveFilter.true:
        query = query.where(active_at(now))
    elif active is ActiveFilter.false:
        query = query.where(~active_at(now))
    if kind:
        query = query.where(col(Action.kind) == kind)
    return fetch_page(session, query, sort=sort, cursor=cursor, limit=limit, count=count)


def get_action(session: Session, slug: str) -> Action:
    action = session.scalars(select(Action).where(col(Action.slug) == slug)).first()
    if action is None:
        raise NotFound(f"No action with slug `{slug}`.")
    return action


def record_click(session: Session, action: Action, article_id: str | None, now: datetime) -> None:
    """Count one click for today (and the citing article): a counter, no personal data."""
    values = {
        "action_id": action.id,
        "article_id": article_id or "",
        "day": now.date(),
        "clicks": 1,
    }
    statement = insert_on_conflict(session, ActionClick).values(**values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["action_id", "article_id", "day"],
            set_={"clicks": col(ActionClick.clicks) + 1},
        )
    )


def click_counts(session: Session, action_id: str) -> dict[str, int]:
    """Clicks per citing article id ('' for clicks from elsewhere)."""
    rows = session.execute(
        select(col(ActionClick.article_id), func.sum(col(ActionClick.clicks)))
        .where(col(ActionClick.action_id) == action_id)
        .group_by(col(ActionClick.article_id))
    )
    return {article_id: int(total) for article_id, total in rows}

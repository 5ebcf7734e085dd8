"""Calls to action as the public sees them: active within their window unless asked for all."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from api.actions.models import Action
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
        or_(Action.starts_at.is_(None), Action.starts_at <= now),
        or_(Action.ends_at.is_(None), Action.ends_at > now),
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
        query = query.where(Action.kind == kind)
    return fetch_page(session, query, sort=sort, cursor=cursor, limit=limit, count=count)


def get_action(session: Session, slug: str) -> Action:
    action = session.scalars(select(Action).where(Action.slug == slug)).first()
    if action is None:
        raise NotFound(f"No action with slug `{slug}`.")
    return action

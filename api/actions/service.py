"""Calls to action as the public sees them (open ones unless asked for all), and the clicks
through their tracked redirect."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.actions.attribution import destination
from api.actions.models import Action, ActionClick, Placement
from api.actions.progress import closed_at
from api.actions.readers import first_sighting
from api.articles.models import Article
from api.articles.service import visible
from api.core.db import insert_on_conflict
from api.core.errors import NotFound, ProblemError
from api.core.pagination import Page, SortKey, fetch_page, sort_keys
from api.site.service import load_site

ACTION_SORTS = sort_keys(
    Action.id, created_at=Action.created_at, title=Action.title, slug=Action.slug
)


class ActionClosed(ProblemError):
    status, type_slug, title = 410, "action-closed", "Action closed"


class ActiveFilter(StrEnum):
    true = "true"
    false = "false"
    all = "all"


def active_at(now: datetime) -> ColumnElement[bool]:
    """SQL of `api.actions.models.action_is_active`."""
    return and_(
        or_(col(Action.starts_at).is_(None), col(Action.starts_at) <= now),
        ~closed_at(now),
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


@dataclass(frozen=True)
class Reader:
    """What tells one reader from another for a day; never stored (see `api.actions.readers`)."""

    address: str
    user_agent: str


def citing_article(session: Session, now: datetime, slug: str | None) -> tuple[str, str] | None:
    """The id and slug of the published article or page `slug` names, if it does."""
    if not slug:
        return None
    row = session.execute(
        select(col(Article.id), col(Article.slug)).where(
            col(Article.slug) == slug, visible(now, kind=None)
        )
    ).first()
    return (row[0], row[1]) if row else None


def follow(
    session: Session,
    action: Action,
    now: datetime,
    *,
    article_slug: str | None,
    placement: Placement | None,
    reader: Reader,
    site_url: str,
) -> str:
    """Count a click through the action's tracked link and say where it leads: the
    destination with its attribution parameter when the click came from a published
    article or page; the plain URL otherwise (the click is then counted under no
    article). A link that names no placement counts as `other`."""
    article = citing_article(session, now, article_slug)
    where = (placement or Placement.other).value
    record_click(session, action, article[0] if article else None, where, now, reader)
    return destination(session, action, article, where, lambda: site_host(session, site_url))


def site_host(session: Session, default_url: str) -> str:
    """The publication's host name, for `utm_source`: of the site's URL when one is set."""
    return urlsplit(load_site(session, default_url).url).hostname or "masthead"


def record_click(
    session: Session,
    action: Action,
    article_id: str | None,
    placement: str,
    now: datetime,
    reader: Reader,
) -> None:
    """Count one click for today, the citing article and placement, and one reader when
    this reader had not yet followed this link today: counters, no personal data."""
    today = now.date()
    key = (action.id, article_id or "", placement)
    new_reader = first_sighting(session, today, reader.address, reader.user_agent, key)
    values = {
        "action_id": action.id,
        "article_id": article_id or "",
        "placement": placement,
        "day": today,
        "clicks": 1,
        "readers": int(new_reader),
    }
    statement = insert_on_conflict(session, ActionClick).values(**values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["action_id", "article_id", "placement", "day"],
            set_={
                "clicks": col(ActionClick.clicks) + 1,
                "readers": col(ActionClick.readers) + int(new_reader),
            },
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

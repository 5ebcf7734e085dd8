"""The content version and the next moment visibility changes by the clock alone."""

from datetime import datetime

from sqlalchemy import func, select, union_all
from sqlalchemy.engine import Connection
from sqlmodel import col

from api.actions.models import Action
from api.articles.models import Article, ArticleStatus


def next_visibility_change(connection: Connection, now: datetime) -> datetime | None:
    """When a scheduled article appears or an action opens or closes: no write marks these,
    so caches keyed by the content version must also expire then."""
    moments = union_all(
        select(func.min(col(Article.published_at)).label("at")).where(
            col(Article.status) == ArticleStatus.published,
            col(Article.deleted_at).is_(None),
            col(Article.published_at) > now,
        ),
        select(func.min(col(Action.starts_at)).label("at")).where(col(Action.starts_at) > now),
        select(func.min(col(Action.ends_at)).label("at")).where(col(Action.ends_at) > now),
    ).subquery()
    return connection.execute(select(func.min(moments.c.at))).scalar()

"""Each tag's, source's and author's count of visible articles, read from what triggers keep
(migration 0015): never by counting articles.

`article_counts` holds every published article of a target, scheduled ones included;
`counted_links` holds the same links with their publication times. At a moment `now`, a
target's visible articles are its count less its links published after `now`: an index
range that is empty unless some of its articles are still to come out. Scheduled articles
coming out need no write and no job, and the answer is exact at every moment.
"""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Literal

from sqlalchemy import ScalarSelect, bindparam, func, select
from sqlalchemy.orm import Session

from api.changes.models import ArticleCount, CountedLink
from api.core.tables import table_of

ARTICLE_COUNTS = table_of(ArticleCount)
COUNTED_LINKS = table_of(CountedLink)
CountedEntity = Literal["tag", "source", "author"]
ArticleCounts = Callable[[Session, datetime, Sequence[str]], dict[str, int]]


def _to_come() -> ScalarSelect[int]:
    """A target's counted links published after `now` (bind parameter)."""
    return (
        select(func.count())
        .where(
            COUNTED_LINKS.c.entity == ARTICLE_COUNTS.c.entity,
            COUNTED_LINKS.c.target_id == ARTICLE_COUNTS.c.target_id,
            COUNTED_LINKS.c.published_at
            > bindparam("now", type_=COUNTED_LINKS.c.published_at.type),
        )
        .scalar_subquery()
    )


def stored_article_counts(entity: CountedEntity) -> ArticleCounts:
    """For one kind of target: visible articles per target of a page, in one statement
    built once (each call binds the ids and the time). Targets with none are absent."""
    statement = select(
        ARTICLE_COUNTS.c.target_id, ARTICLE_COUNTS.c.article_count - _to_come()
    ).where(
        ARTICLE_COUNTS.c.entity == entity,
        ARTICLE_COUNTS.c.target_id.in_(bindparam("ids", expanding=True)),
    )

    def counts(session: Session, now: datetime, ids: Sequence[str]) -> dict[str, int]:
        if not ids:
            return {}
        rows = session.connection().execute(statement, {"ids": list(ids), "now": now})
        return {ident: count for ident, count in rows if count}

    return counts

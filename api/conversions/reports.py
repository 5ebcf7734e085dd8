"""What an action's links did, and what an article's links did: clicks, distinct readers,
conversions and money, broken down by article (or action), placement and day. A fixed
number of grouped queries, whatever the number of rows."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.actions.models import Action, ActionClick
from api.articles.models import Article
from api.conversions.models import ActionConversion
from api.core.errors import NotFound

CLICKS = ActionClick.__table__.c  # type: ignore[attr-defined]
CONVERSIONS = ActionConversion.__table__.c  # type: ignore[attr-defined]


@dataclass
class Metrics:
    clicks: int = 0
    readers: int = 0
    conversions: int = 0
    refunds: int = 0
    amounts: dict[str, int] = field(default_factory=dict)

    def add(self, other: "Metrics") -> None:
        self.clicks += other.clicks
        self.readers += other.readers
        self.conversions += other.conversions
        self.refunds += other.refunds
        for currency, amount in other.amounts.items():
            self.amounts[currency] = self.amounts.get(currency, 0) + amount

    def public(self) -> dict[str, Any]:
        return {
            "clicks": self.clicks,
            "unique_readers": self.readers,
            "conversions": self.conversions,
            "refunds": self.refunds,
            "amounts": dict(sorted(self.amounts.items())),
            "conversion_rate": round(self.conversions / self.readers, 4) if self.readers else None,
        }


def _in_range(day: Any, since: date | None, until: date | None) -> list[ColumnElement[bool]]:
    conditions = []
    if since is not None:
        conditions.append(day >= since)
    if until is not None:
        conditions.append(day <= until)
    return conditions


def _breakdown(
    session: Session,
    scope: tuple[str, str],
    group: str,
    since: date | None,
    until: date | None,
) -> dict[Any, Metrics]:
    """Metrics per value of `group` among the rows whose `scope` column has the value."""
    column, value = scope
    out: dict[Any, Metrics] = defaultdict(Metrics)
    clicks = session.execute(
        select(CLICKS[group], func.sum(CLICKS.clicks), func.sum(CLICKS.readers))
        .where(CLICKS[column] == value, *_in_range(CLICKS.day, since, until))
        .group_by(CLICKS[group])
    )
    for key, total, readers in clicks:
        out[key].clicks += int(total or 0)
        out[key].readers += int(readers or 0)
    conversions = session.execute(
        select(
            CONVERSIONS[group],
            CONVERSIONS.currency,
            func.sum(CONVERSIONS.conversions),
            func.sum(CONVERSIONS.refunds),
            func.sum(CONVERSIONS.amount),
        )
        .where(CONVERSIONS[column] == value, *_in_range(CONVERSIONS.day, since, until))
        .group_by(CONVERSIONS[group], CONVERSIONS.currency)
    )
    for key, currency, count, refunds, amount in conversions:
        metrics = out[key]
        metrics.conversions += int(count or 0)
        metrics.refunds += int(refunds or 0)
        if currency:
            metrics.amounts[currency] = metrics.amounts.get(currency, 0) + int(amount or 0)
    return out


def _total(parts: dict[Any, Metrics]) -> Metrics:
    total = Metrics()
    for metrics in parts.values():
        total.add(metrics)
    return total


def _by_placement(parts: dict[str, Metrics]) -> list[dict[str, Any]]:
    return [{"placement": key or None, **parts[key].public()} for key in sorted(parts)]


def _by_day(parts: dict[date, Metrics]) -> list[dict[str, Any]]:
    return [{"day": key, **parts[key].public()} for key in sorted(parts)]


def _most_first(parts: dict[str, Metrics]) -> list[str]:
    return sorted(parts, key=lambda key: (-parts[key].clicks, -parts[key].conversions, key))


def action_report(
    session: Session, action_id: str, since: date | None, until: date | None
) -> dict[str, Any]:
    """One action: totals, then per citing article, per placement and per day."""
    if session.get(Action, action_id) is None:
        raise NotFound(f"No action with id `{action_id}`.")
    scope = ("action_id", action_id)
    articles = _breakdown(session, scope, "article_id", since, until)
    slugs = dict(
        session.execute(
            select(col(Article.id), col(Article.slug)).where(col(Article.id).in_(list(articles)))
        ).all()
    )
    return {
        "action_id": action_id,
        "from": since,
        "to": until,
        "totals": _total(articles).public(),
        "by_article": [
            {"article_id": key or None, "article_slug": slugs.get(key), **articles[key].public()}
            for key in _most_first(articles)
        ],
        "by_placement": _by_placement(_breakdown(session, scope, "placement", since, until)),
        "by_day": _by_day(_breakdown(session, scope, "day", since, until)),
    }


def article_impact(
    session: Session, article_id: str, since: date | None, until: date | None
) -> dict[str, Any]:
    """One article (or page): totals, then per action, per placement and per day."""
    if session.get(Article, article_id) is None:
        raise NotFound(f"No article with id `{article_id}`.")
    scope = ("article_id", article_id)
    actions = _breakdown(session, scope, "action_id", since, until)
    named = {
        row.id: row
        for row in session.execute(
            select(col(Action.id), col(Action.slug), col(Action.title)).where(
                col(Action.id).in_(list(actions))
            )
        )
    }
    return {
        "article_id": article_id,
        "from": since,
        "to": until,
        "totals": _total(actions).public(),
        "by_action": [
            {
                "action_id": key,
                "action_slug": named[key].slug if key in named else None,
                "action_title": named[key].title if key in named else None,
                **actions[key].public(),
            }
            for key in _most_first(actions)
        ],
        "by_placement": _by_placement(_breakdown(session, scope, "placement", since, until)),
        "by_day": _by_day(_breakdown(session, scope, "day", since, until)),
    }

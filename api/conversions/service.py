"""Counting the conversions the destinations report: each matched by its attribution code
(or UTM parameters) to the action, article and placement it came from, once per provider
event id."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.actions.attribution import code_owner
from api.actions.models import Action, Placement
from api.actions.progress import recount_progress
from api.articles.models import Article
from api.conversions.models import ActionConversion, ConversionEvent
from api.conversions.providers import Conversion, ConversionKind, Utm
from api.core.db import insert_on_conflict

PLACEMENTS = frozenset(p.value for p in Placement)


@dataclass
class Tally:
    """What became of a delivery's conversions."""

    counted: int = 0
    replayed: int = 0
    unmatched: int = 0
    ignored: int = 0


@dataclass(frozen=True)
class Target:
    action_id: str
    article_id: str
    placement: str


def _first_delivery(session: Session, provider: str, event_id: str, now: datetime) -> bool:
    inserted = session.execute(
        insert_on_conflict(session, ConversionEvent)
        .values(provider=provider, event_id=event_id, received_at=now)
        .on_conflict_do_nothing(index_elements=["provider", "event_id"])
        .returning(col(ConversionEvent.event_id))
    ).first()
    return inserted is not None


def _utm_target(session: Session, utm: Utm) -> Target | None:
    action_id = session.scalar(select(col(Action.id)).where(col(Action.slug) == utm.campaign))
    if action_id is None:
        return None
    article_id = (
        session.scalar(select(col(Article.id)).where(col(Article.slug) == utm.content))
        if utm.content
        else None
    )
    placement = utm.medium if utm.medium in PLACEMENTS else Placement.other.value
    return Target(action_id, article_id or "", str(placement))


def match(session: Session, conversion: Conversion) -> Target | None:
    """The action, article and placement a conversion is attributed to, if any."""
    if conversion.code:
        owner = code_owner(session, conversion.code)
        if owner is not None:
            return Target(*owner)
    if conversion.utm is not None:
        return _utm_target(session, conversion.utm)
    return None


def _add(session: Session, target: Target, conversion: Conversion, now: datetime) -> None:
    refund = conversion.kind is ConversionKind.refund
    values = {
        "action_id": target.action_id,
        "article_id": target.article_id,
        "placement": target.placement,
        "day": now.date(),
        "currency": conversion.currency,
        "conversions": 0 if refund else 1,
        "refunds": 1 if refund else 0,
        "amount": -conversion.amount if refund else conversion.amount,
    }
    statement = insert_on_conflict(session, ActionConversion).values(**values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["action_id", "article_id", "placement", "day", "currency"],
            set_={
                name: getattr(ActionConversion, name) + getattr(statement.excluded, name)
                for name in ("conversions", "refunds", "amount")
            },
        )
    )


def count_conversions(
    session: Session, provider: str, conversions: list[Conversion], now: datetime
) -> Tally:
    """Count each conversion not counted before (by its provider event id) where its code
    points, on the day it arrives; then bring the actions' progress up to date."""
    tally = Tally()
    touched: set[str] = set()
    for conversion in conversions:
        if not _first_delivery(session, provider, conversion.event_id, now):
            tally.replayed += 1
            continue
        target = match(session, conversion)
        if target is None:
            tally.unmatched += 1
            continue
        _add(session, target, conversion, now)
        touched.add(target.action_id)
        tally.counted += 1
    recount_progress(session, touched)
    return tally

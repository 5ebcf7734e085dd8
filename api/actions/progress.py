"""An action's goal and its progress: counted here from the conversions reported back, or
set by an editor (`progress_override`), which then wins."""

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import ColumnElement, and_, case, func, or_, select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from api.actions.models import Action, GoalKind
from api.conversions.models import ActionConversion
from api.conversions.money import MAX_MINOR_UNITS, Currency


class Goal(BaseModel):
    """What an action aims for: a number of signatures, or an amount in one currency."""

    model_config = ConfigDict(extra="forbid")

    kind: GoalKind = Field(
        description="`signatures` (conversions counted: signatures, form submissions) or "
        "`amount` (money raised, net of refunds, in `currency`)."
    )
    target: int = Field(
        ge=1,
        le=MAX_MINOR_UNITS,
        description="The number of signatures, or the amount in the currency's minor units "
        "(cents: 500000 is 5,000.00 EUR).",
    )
    currency: Currency | None = Field(
        None,
        description="ISO 4217 code of an `amount` goal (422 without one); null for signatures.",
    )

    @model_validator(mode="after")
    def currency_for_amounts_only(self) -> "Goal":
        if self.kind is GoalKind.amount and self.currency is None:
            raise ValueError("an amount goal needs a currency")
        if self.kind is GoalKind.signatures and self.currency is not None:
            raise ValueError("a signatures goal has no currency")
        return self


def goal_columns(values: dict[str, Any]) -> None:
    """Turn the `goal` of write values (a Goal, its dict, or None) into the three goal
    columns, in place; values without `goal` are left as they are."""
    if "goal" not in values:
        return
    goal = values.pop("goal")
    if isinstance(goal, BaseModel):
        goal = goal.model_dump()
    values["goal_kind"] = str(goal["kind"]) if goal else None
    values["goal_target"] = goal["target"] if goal else None
    values["goal_currency"] = goal.get("currency") if goal else None


def counted_progress() -> ColumnElement[int]:
    """Per action row: signatures counted, or the net amount raised in the goal's currency."""
    conversions = ActionConversion.__table__.c  # type: ignore[attr-defined]
    raised = (
        select(func.coalesce(func.sum(conversions.amount), 0))
        .where(conversions.action_id == Action.id, conversions.currency == Action.goal_currency)
        .scalar_subquery()
    )
    counted = (
        select(func.coalesce(func.sum(conversions.conversions), 0))
        .where(conversions.action_id == Action.id)
        .scalar_subquery()
    )
    return case((col(Action.goal_kind) == GoalKind.amount.value, raised), else_=counted)


def recount_progress(session: Session, action_ids: Iterable[str]) -> None:
    """Bring `progress_counted` up to date for these actions (after conversions were counted
    or a goal changed); rows already right are not written (a write is a content change)."""
    ids = sorted(set(action_ids))
    if not ids:
        return
    rows = session.execute(
        select(col(Action.id), col(Action.progress_counted), counted_progress()).where(
            col(Action.id).in_(ids)
        )
    ).all()
    for action_id, current, counted in rows:
        counted = max(int(counted or 0), 0)
        if counted != current:
            session.execute(
                update(Action).where(col(Action.id) == action_id).values(progress_counted=counted)
            )


def goal_reached_clause() -> ColumnElement[bool]:
    progress = func.coalesce(col(Action.progress_override), col(Action.progress_counted))
    return and_(col(Action.goal_target).is_not(None), progress >= col(Action.goal_target))


def closed_at(now: Any) -> ColumnElement[bool]:
    """SQL of `api.actions.models.action_is_closed`."""
    return or_(
        and_(col(Action.ends_at).is_not(None), col(Action.ends_at) <= now),
        and_(col(Action.close_on_goal).is_(True), goal_reached_clause()),
    )

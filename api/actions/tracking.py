"""The fields an action carries beside its content: how its destination attributes
traffic, and its goal. Shared by the admin write models and the content bundle."""

from pydantic import BaseModel, Field, model_validator

from api.actions.attribution import CODE_MAX, DEFAULT_TEMPLATE, AttributionTemplate
from api.actions.models import Attribution
from api.actions.progress import Goal
from api.conversions.money import MAX_MINOR_UNITS


class ActionTracking(BaseModel):
    attribution: Attribution = Field(
        Attribution.none,
        description="How the destination attributes traffic, i.e. what `go_url` appends to "
        "`url` when a click comes from a published article (`?from=`): `refcode` (ActBlue: "
        "`refcode=<code>`), `source` (Action Network and other OSDI tools: "
        "`source=<code>`), `utm` (`utm_source=<site host>&utm_medium=<placement>&"
        "utm_campaign=<action slug>&utm_content=<article slug>`) or `none`.",
    )
    attribution_template: AttributionTemplate | None = Field(
        None,
        description="How the code of `refcode` and `source` is made: letters, digits, `_`, "
        "`-` and the placeholders `{article}` (the article's slug), `{placement}` and "
        f"`{{action}}` (the action's slug), at most 100 characters; null = "
        f"`{DEFAULT_TEMPLATE}`. Codes longer than {CODE_MAX} characters, or already handed "
        "out for another action, article or placement, get a short suffix of their own.",
    )
    goal: Goal | None = Field(None, description="What the action aims for; null = no goal.")
    close_on_goal: bool = Field(
        False,
        description="Close the action once `progress` reaches the goal's target: it leaves "
        "the lists of open actions and `go_url` answers 410 (needs a `goal`).",
    )
    progress_override: int | None = Field(
        None,
        ge=0,
        le=MAX_MINOR_UNITS,
        description="The progress to show instead of what is counted here (in the goal's "
        "unit: signatures, or minor units of the goal's currency), e.g. signatures gathered "
        "on paper; null = the conversions counted here.",
    )

    @model_validator(mode="after")
    def closes_only_with_a_goal(self) -> "ActionTracking":
        if self.close_on_goal and self.goal is None:
            raise ValueError("close_on_goal needs a goal")
        return self

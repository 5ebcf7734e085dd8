from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Row

from api.actions.models import (
    Action,
    ActionKind,
    Attribution,
    action_is_active,
    goal_of,
    progress_of,
)
from api.actions.progress import Goal
from api.bundle.schemas import ActionItem
from api.core.timestamps import RANGE as TIME_RANGE
from api.editorial.schemas import SLUG, ServerStamped, Stamped, describe, update_model


class ActionPublic(BaseModel):
    """A call to action: a petition to sign, an organisation to donate to, an event."""

    id: str = Field(description="Stable opaque identifier.")
    slug: str = Field(description="URL-safe unique name.")
    kind: ActionKind | None = Field(None, description="What the reader is asked to do.")
    title: str | None = Field(None, description="The call to action, e.g. `Sign the petition`.")
    description: str | None = Field(None, description="Longer explanation (plain text).")
    url: str | None = Field(None, description="Where the action happens (absolute http(s)).")
    organisation: str | None = Field(None, description="Who runs the petition or fund.")
    starts_at: datetime | None = Field(None, description="Start of the window (RFC 3339, UTC).")
    ends_at: datetime | None = Field(None, description="End of the window; null = open-ended.")
    active: bool | None = Field(
        None,
        description="Whether the action is open: now is within the window, and its goal is "
        "not reached if reaching it closes the action. Lists show open actions by default.",
    )
    go_url: str | None = Field(
        None,
        description="Tracked redirect to `url`; link to this to count clicks. Add "
        "`from=<article slug>` and `placement=` (see the redirect) so the destination learns "
        "which article and placement sent the reader; inside an article `from` is already "
        "there.",
    )
    goal: Goal | None = Field(None, description="What the action aims for; null = no goal.")
    progress: int | None = Field(
        None,
        description="Progress towards the goal, in its unit (signatures, or minor units of "
        "the goal's currency): counted from the conversions the destination reported, or an "
        "editor's figure. Null when the action has neither goal nor editor's figure.",
    )


ACTION_FIELDS = frozenset(ActionPublic.model_fields)


def action_public(
    action: Action | Row[Any], now: datetime, base: str, from_article: str | None = None
) -> dict[str, Any]:
    """The public shape; `from_article`: the slug of the article it is shown in, which its
    `go_url` then names."""
    go_url = f"{base}/v1/actions/{action.slug}/go"
    goal = goal_of(action)
    has_progress = goal is not None or action.progress_override is not None
    return {
        "id": action.id,
        "slug": action.slug,
        "kind": action.kind,
        "title": action.title,
        "description": action.description,
        "url": action.url,
        "organisation": action.organisation,
        "starts_at": action.starts_at,
        "ends_at": action.ends_at,
        "active": action_is_active(action, now),
        "go_url": f"{go_url}?from={from_article}" if from_article else go_url,
        "goal": goal,
        "progress": progress_of(action) if has_progress else None,
    }


class ActionCreate(ServerStamped, ActionItem):
    """A new call to action."""


describe(ActionCreate, {
    "slug": SLUG, "kind": "What the reader is asked to do.", "title": "The call to action.",
    "description": "Longer explanation (plain text).",
    "url": "Where the action happens (absolute http(s) URL).",
    "organisation": "Who runs it.",
    "starts_at": f"Start of the window (RFC 3339 with an offset, {TIME_RANGE} in UTC).",
    "ends_at": "End of the window (likewise), after `starts_at` (422 otherwise); null = "
    "open-ended.",
})  # fmt: skip


ActionUpdate = update_model(ActionCreate, "an action")


class ActionAdmin(ActionPublic, Stamped):
    """An action, as editors see it."""

    attribution: Attribution = Field(description="How the destination attributes traffic.")
    attribution_template: str | None = Field(
        description="How `refcode` and `source` codes are made; null = the default."
    )
    close_on_goal: bool = Field(description="Whether reaching the goal closes the action.")
    progress_override: int | None = Field(description="The editor's figure, if any.")
    progress_counted: int = Field(
        description="Progress counted from the conversions reported back, in the goal's unit "
        "(conversions when there is no goal)."
    )


def action_tracking(action: Action) -> dict[str, Any]:
    """The fields editors see beside the public ones."""
    return {
        "attribution": action.attribution,
        "attribution_template": action.attribution_template,
        "close_on_goal": action.close_on_goal,
        "progress_override": action.progress_override,
        "progress_counted": action.progress_counted,
    }

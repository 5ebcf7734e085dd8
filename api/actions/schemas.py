from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Row

from api.actions.models import Action, ActionKind, action_is_active
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
    active: bool | None = Field(None, description="Whether now is within the window.")
    go_url: str | None = Field(
        None, description="Tracked redirect to `url`; link to this to count clicks."
    )


ACTION_FIELDS = frozenset(ActionPublic.model_fields)


def action_public(action: Action | Row[Any], now: datetime, base: str) -> dict[str, Any]:
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
        "go_url": f"{base}/v1/actions/{action.slug}/go",
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

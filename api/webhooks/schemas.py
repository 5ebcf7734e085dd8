"""What the webhook admin API accepts and returns (the secret only once, at creation)."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.core.urls import HttpUrlStr
from api.webhooks.models import DeliveryStatus, Webhook, WebhookDelivery

EventName = Literal[
    "article.published",
    "article.updated",
    "article.unpublished",
    "article.deleted",
    "tag.changed",
    "tag.deleted",
    "source.changed",
    "source.deleted",
    "action.changed",
    "action.deleted",
    "subscriber.confirmed",
]
EVENTS_DESCRIPTION = """\
Events to receive: `article.published` (it became visible, including a scheduled article whose
time came), `article.updated` (a visible article's public JSON changed), `article.unpublished`,
`article.deleted`, `tag.changed`/`tag.deleted`, `source.changed`/`source.deleted`,
`action.changed`/`action.deleted`, `subscriber.confirmed`. Unknown names are a 422."""


class WebhookCreate(BaseModel):
    """A new webhook."""

    model_config = ConfigDict(extra="forbid")

    url: HttpUrlStr = Field(
        description="Absolute http(s) URL receiving the POSTs. It must resolve to public "
        "addresses (private, loopback and link-local targets are refused with a 422)."
    )
    events: Annotated[list[EventName], Field(min_length=1, max_length=20)] = Field(
        description=EVENTS_DESCRIPTION
    )
    description: str | None = Field(None, max_length=500, description="A note for admins.")

    @field_validator("events")
    @classmethod
    def distinct(cls, events: list[str]) -> list[str]:
        return list(dict.fromkeys(events))


class WebhookPublic(BaseModel):
    """A webhook; its secret is never shown again after creation."""

    id: str = Field(description="Stable opaque identifier.")
    url: str = Field(description="Where deliveries are POSTed.")
    events: list[str] = Field(description="The events it receives.")
    description: str | None = Field(description="A note for admins.")
    active: bool = Field(description="False once disabled after repeated failed deliveries.")
    disabled_reason: str | None = Field(description="Why it was disabled, or null.")
    consecutive_failures: int = Field(description="Failed deliveries since the last success.")
    created_at: datetime = Field(description="When it was created.")


class WebhookCreated(WebhookPublic):
    """A new webhook, with its signing secret shown this once."""

    secret: str = Field(
        description="Signs every delivery: `X-Masthead-Signature: sha256=<hex HMAC-SHA256 of "
        "`<X-Masthead-Timestamp>.<raw body>` with this secret>`. Store it now: it is not "
        "shown again."
    )


class DeliveryPublic(BaseModel):
    """One event sent (or being sent) to a webhook."""

    id: str = Field(description="Also sent as `X-Masthead-Delivery`; retries keep it.")
    event: str = Field(description="The event name.")
    status: DeliveryStatus = Field(
        description="`pending` (waiting or retrying), `succeeded`, `failed`."
    )
    attempts: int = Field(description="Requests made so far.")
    next_attempt_at: datetime | None = Field(description="When it is tried next (pending only).")
    last_status_code: int | None = Field(description="HTTP status of the last attempt, or null.")
    last_error: str | None = Field(description="Why the last attempt failed, or null.")
    created_at: datetime = Field(description="When the event was queued.")
    last_attempt_at: datetime | None = Field(description="When it was last tried.")
    delivered_at: datetime | None = Field(description="When it succeeded, or null.")
    payload: dict[str, Any] = Field(description="The JSON body sent.")


def webhook_public(hook: Webhook) -> dict[str, Any]:
    return {
        "id": hook.id,
        "url": hook.url,
        "events": hook.events,
        "description": hook.description,
        "active": hook.active,
        "disabled_reason": hook.disabled_reason,
        "consecutive_failures": hook.consecutive_failures,
        "created_at": hook.created_at,
    }


def delivery_public(delivery: WebhookDelivery) -> dict[str, Any]:
    pending = delivery.status == DeliveryStatus.pending
    return {
        "id": delivery.id,
        "event": delivery.event,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "next_attempt_at": delivery.next_attempt_at if pending else None,
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
        "created_at": delivery.created_at,
        "last_attempt_at": delivery.last_attempt_at,
        "delivered_at": delivery.delivered_at,
        "payload": delivery.payload,
    }

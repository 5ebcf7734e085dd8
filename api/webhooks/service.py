"""Creating, reading and deleting webhooks, and reading their delivery logs."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.core.errors import NotFound, Unprocessable
from api.core.fetch import RefusedTarget, check_target
from api.core.pagination import Page, fetch_page, sort_keys
from api.webhooks.models import DeliveryStatus, Webhook, WebhookDelivery
from api.webhooks.schemas import WebhookCreate
from api.webhooks.signing import new_secret

WEBHOOK_SORT = sort_keys(Webhook.id, created_at=Webhook.created_at)["created_at"]
DELIVERY_SORT = sort_keys(WebhookDelivery.id, created_at=WebhookDelivery.created_at)["-created_at"]


def create_webhook(
    session: Session, data: WebhookCreate, now: datetime, *, allow_private: bool
) -> Webhook:
    """A new active hook with a fresh Standard Webhooks secret (`whsec_` + base64); 422 when
    its URL reaches a private address."""
    try:
        check_target(data.url, allow_private=allow_private)
    except RefusedTarget as exc:
        raise Unprocessable(
            f"The webhook URL is refused: {exc}.",
            errors=[{"loc": ["body", "url"], "msg": str(exc)}],
        ) from None
    hook = Webhook(
        url=data.url,
        events=list(data.events),
        description=data.description,
        secret=new_secret(),
        created_at=now,
    )
    session.add(hook)
    session.flush()
    return hook


def get_webhook(session: Session, webhook_id: str) -> Webhook:
    hook = session.get(Webhook, webhook_id)
    if hook is None:
        raise NotFound(f"No webhook with id `{webhook_id}`.")
    return hook


def list_webhooks(
    session: Session, *, cursor: str | None, limit: int, count: bool
) -> Page[Webhook]:
    return fetch_page(
        session, select(Webhook), sort=WEBHOOK_SORT, cursor=cursor, limit=limit, count=count
    )


def delete_webhook(session: Session, hook: Webhook) -> None:
    """The hook and its delivery log go; nothing more is sent to it."""
    session.delete(hook)
    session.flush()


def list_deliveries(
    session: Session,
    hook: Webhook,
    *,
    status: DeliveryStatus | None,
    cursor: str | None,
    limit: int,
    count: bool,
) -> Page[WebhookDelivery]:
    """A hook's deliveries, newest first."""
    query = select(WebhookDelivery).where(col(WebhookDelivery.webhook_id) == hook.id)
    if status is not None:
        query = query.where(col(WebhookDelivery.status) == status)
    return fetch_page(session, query, sort=DELIVERY_SORT, cursor=cursor, limit=limit, count=count)

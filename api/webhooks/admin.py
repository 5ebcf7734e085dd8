"""`/v1/admin/webhooks`: admins register webhooks and read each one's delivery log."""

from typing import Annotated

from fastapi import Body, Depends, Path, Query, Request
from starlette.responses import Response

from api.auth.dependencies import AdminDep, AdminRouter
from api.core.db import NowDep, SessionDep
from api.core.envelopes import ItemEnvelope, ListEnvelope
from api.core.errors import problem_responses
from api.core.http import reject_unknown_query
from api.core.listing import Count, CursorParam, Limit
from api.editorial.audit import record
from api.editorial.http import item_response, list_response, no_content
from api.webhooks import service
from api.webhooks.models import DeliveryStatus
from api.webhooks.schemas import (
    DeliveryPublic,
    WebhookCreate,
    WebhookCreated,
    WebhookPublic,
    delivery_public,
    webhook_public,
)

router = AdminRouter(
    prefix="/v1/admin/webhooks",
    tags=["admin: webhooks"],
    dependencies=[Depends(reject_unknown_query)],
)
WebhookId = Annotated[str, Path(max_length=32, description="The webhook's id.")]
DESCRIPTION = """\
Each event is POSTed as JSON `{"event", "occurred_at", "data"}` (`data` is the entity's public
JSON, or `{"id", ...}` once it is gone) with headers `X-Masthead-Event`, `X-Masthead-Delivery`
(the delivery id; retries keep it, so use it to drop duplicates), `X-Masthead-Timestamp` (unix
seconds) and `X-Masthead-Signature: sha256=<hex>`, the HMAC-SHA256 of
`<timestamp>.<raw body>` keyed with the webhook's secret. Verify it over the raw bytes you
received, compare in constant time, and reject timestamps older than a few minutes. Any 2xx
is success; anything else (redirects included: they are never followed) is retried with
exponential backoff, and a webhook whose deliveries keep failing is disabled with the reason
recorded."""


@router.post(
    "",
    status_code=201,
    response_model=ItemEnvelope[WebhookCreated],
    responses=problem_responses(413, 422),
    summary="Create a webhook",
    description=DESCRIPTION,
)
def create_admin_webhook(
    request: Request,
    session: SessionDep,
    now: NowDep,
    principal: AdminDep,
    data: Annotated[WebhookCreate, Body(description="URL, events and an optional note.")],
) -> Response:
    allow_private = request.app.state.settings.webhook_allow_private
    hook = service.create_webhook(session, data, now, allow_private=allow_private)
    record(session, principal, "webhook.create", "webhook", hook.id, now)
    return item_response({**webhook_public(hook), "secret": hook.secret}, status_code=201)


@router.get(
    "",
    response_model=ListEnvelope[WebhookPublic],
    responses=problem_responses(400, 422),
    summary="List webhooks",
)
def list_admin_webhooks(
    request: Request,
    session: SessionDep,
    _principal: AdminDep,
    limit: Limit = 15,
    cursor: CursorParam = None,
    count: Count = False,
) -> Response:
    """Oldest first; secrets are never shown."""
    page = service.list_webhooks(session, cursor=cursor, limit=limit, count=count)
    return list_response(request, [webhook_public(h) for h in page.items], page, limit)


@router.get(
    "/{webhook_id}",
    response_model=ItemEnvelope[WebhookPublic],
    responses=problem_responses(404, 422),
    summary="Get one webhook",
)
def get_admin_webhook(session: SessionDep, _principal: AdminDep, webhook_id: WebhookId) -> Response:
    return item_response(webhook_public(service.get_webhook(session, webhook_id)))


@router.delete(
    "/{webhook_id}",
    status_code=204,
    responses=problem_responses(404, 422),
    summary="Delete a webhook",
)
def delete_admin_webhook(
    session: SessionDep, now: NowDep, principal: AdminDep, webhook_id: WebhookId
) -> Response:
    """Nothing more is sent to it; its delivery log goes with it."""
    hook = service.get_webhook(session, webhook_id)
    service.delete_webhook(session, hook)
    record(session, principal, "webhook.delete", "webhook", webhook_id, now)
    return no_content()


@router.get(
    "/{webhook_id}/deliveries",
    response_model=ListEnvelope[DeliveryPublic],
    responses=problem_responses(400, 404, 422),
    summary="A webhook's delivery log",
)
def list_admin_webhook_deliveries(
    request: Request,
    session: SessionDep,
    _principal: AdminDep,
    webhook_id: WebhookId,
    status: Annotated[
        DeliveryStatus | None, Query(description="Only deliveries in this state.")
    ] = None,
    limit: Limit = 15,
    cursor: CursorParam = None,
    count: Count = False,
) -> Response:
    """Newest first: each event, its state, attempts, last response code or error, times."""
    hook = service.get_webhook(session, webhook_id)
    page = service.list_deliveries(
        session, hook, status=status, cursor=cursor, limit=limit, count=count
    )
    return list_response(request, [delivery_public(d) for d in page.items], page, limit)

"""`/v1/hooks`: conversions reported back by the destinations, each verified the way its
provider documents, each counted once (see `api.conversions.service`).

Verification:
- Action Network signs nothing; its webhooks are checked by a secret only they know, in
  the URL they post to (`?secret=`) or as the password of Basic auth in it.
- ActBlue sends the Basic auth user name and password configured with the webhook.
- The generic endpoint verifies Standard Webhooks signatures (`webhook-id`,
  `webhook-timestamp`, `webhook-signature`) with the spec's own library, which also
  refuses timestamps more than five minutes away.
Each endpoint is off (404) until its secret is set. A failed check counts as a failed
authentication (429 after too many from one address), and answers 401 before the body is
looked at. Bodies are parsed into models that hold no personal field: names, emails,
addresses and phone numbers are dropped at the door, never stored nor logged.
"""

import base64
import binascii
import hmac
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.responses import JSONResponse, Response

from api.conversions.providers import (
    ActBlueNotification,
    ActionNetworkEvent,
    StandardConversion,
    actblue_conversions,
    action_network_conversions,
    standard_conversions,
)
from api.conversions.service import Tally, count_conversions
from api.core.db import NowDep, SessionDep
from api.core.errors import NotFound, Unauthorized, problem_responses
from api.core.http import reject_unknown_query

router = APIRouter(
    prefix="/v1/hooks", tags=["conversions"], dependencies=[Depends(reject_unknown_query)]
)
BASIC_CHALLENGE = {"WWW-Authenticate": 'Basic realm="masthead-hooks"'}
NO_STORE = {"Cache-Control": "no-store"}
HOOK_ERRORS = problem_responses(401, 404, 413, 422, 429)
MAX_EVENTS = 500


class TallyPublic(BaseModel):
    """What became of the delivery's conversions."""

    counted: int = Field(description="Conversions counted now.")
    replayed: int = Field(description="Conversions counted before (same provider event id).")
    unmatched: int = Field(
        description="Conversions whose code names no link handed out here (not counted)."
    )
    ignored: int = Field(description="Events that are no conversion (other types).")


class TallyEnvelope(BaseModel):
    data: TallyPublic = Field(description="The outcome.")


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def _verified(request: Request, now: datetime, ok: bool, challenge: dict[str, str]) -> None:
    """401 unless `ok`; failures are counted per client address like failed logins."""
    limiter = request.app.state.auth_failures
    limiter.check(request, now)
    if not ok:
        limiter.failed(request, now)
        raise Unauthorized("The hook's credentials are missing or wrong.", headers=challenge)


def action_network_secret(
    request: Request,
    now: NowDep,
    secret: Annotated[
        str | None,
        Query(
            max_length=200,
            description="The configured secret (`MASTHEAD_HOOK_ACTIONNETWORK_SECRET`), or send "
            "it as the Basic auth password.",
        ),
    ] = None,
) -> None:
    expected = request.app.state.settings.hook_actionnetwork_secret
    if expected is None:
        raise NotFound("The Action Network hook is not configured.")
    credentials = _basic_credentials(request)
    ok = _same(secret, expected) or (credentials is not None and _same(credentials[1], expected))
    _verified(request, now, ok, BASIC_CHALLENGE)


def actblue_credentials(request: Request, now: NowDep) -> None:
    settings = request.app.state.settings
    if settings.hook_actblue_password is None:
        raise NotFound("The ActBlue hook is not configured.")
    credentials = _basic_credentials(request)
    ok = (
        credentials is not None
        and _same(credentials[0], settings.hook_actblue_username or "")
        and _same(credentials[1], settings.hook_actblue_password)
    )
    _verified(request, now, ok, BASIC_CHALLENGE)


async def standard_message_id(request: Request, now: NowDep) -> str:
    """The verified message's `webhook-id` (its event id), or 401."""
    secret = request.app.state.settings.hook_standard_secret
    if secret is None:
        raise NotFound("The generic conversions hook is not configured.")
    body = await request.body()
    headers = {name: request.headers.get(name, "") for name in STANDARD_HEADERS}
    try:
        Webhook(secret).verify(body, headers)
        ok = bool(headers["webhook-id"])
    except WebhookVerificationError:
        ok = False
    _verified(request, now, ok, {})
    return headers["webhook-id"][:200]


STANDARD_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


def tally_response(tally: Tally) -> Response:
    return JSONResponse(
        {
            "data": {
                "counted": tally.counted,
                "replayed": tally.replayed,
                "unmatched": tally.unmatched,
                "ignored": tally.ignored,
            }
        },
        headers=NO_STORE,
    )


@router.post(
    "/actionnetwork",
    response_model=TallyEnvelope,
    responses=HOOK_ERRORS,
    summary="Conversions from Action Network",
    dependencies=[Depends(action_network_secret)],
)
def action_network_hook(
    session: SessionDep,
    now: NowDep,
    events: Annotated[
        list[ActionNetworkEvent],
        Body(
            max_length=MAX_EVENTS,
            description="Action Network's webhook post: an array of events, each keyed by "
            "its type. Only signatures, submissions, attendances and donations are counted, "
            "by the `source` of their `action_network:referrer_data`.",
        ),
    ],
) -> Response:
    """Point a webhook of the Action Network group here (with `?secret=`). Each signature,
    form submission, RSVP and donation whose `source` is a code `go_url` handed out counts
    as a conversion of that action, article and placement (donations with their amount),
    once per `idempotency_key`."""
    conversions, ignored = action_network_conversions(events)
    tally = count_conversions(session, "actionnetwork", conversions, now)
    tally.ignored = ignored
    return tally_response(tally)


def _actblue(
    session: Session, now: datetime, notification: ActBlueNotification, refund: bool
) -> Response:
    conversions = actblue_conversions(notification, refund=refund)
    return tally_response(count_conversions(session, "actblue", conversions, now))


ACTBLUE_BODY = Body(
    description="ActBlue's notification: the contribution's `refcode` and its line items "
    "(`lineitemId`, `amount` in US dollars)."
)


@router.post(
    "/actblue",
    response_model=TallyEnvelope,
    responses=HOOK_ERRORS,
    summary="Contributions from ActBlue",
    dependencies=[Depends(actblue_credentials)],
)
def actblue_contribution_hook(
    session: SessionDep,
    now: NowDep,
    notification: Annotated[ActBlueNotification, ACTBLUE_BODY],
) -> Response:
    """Point ActBlue's contributions webhook here, with the configured Basic auth user name
    and password. Each line item of a contribution whose `refcode` is a code `go_url` handed
    out counts as a donation (its amount in USD cents), once per line item."""
    return _actblue(session, now, notification, refund=False)


@router.post(
    "/actblue/refunds",
    response_model=TallyEnvelope,
    responses=HOOK_ERRORS,
    summary="Refunds from ActBlue",
    dependencies=[Depends(actblue_credentials)],
)
def actblue_refund_hook(
    session: SessionDep,
    now: NowDep,
    notification: Annotated[ActBlueNotification, ACTBLUE_BODY],
) -> Response:
    """Point ActBlue's refunds webhook here: each refunded line item subtracts its amount
    from the donations counted for its code (and counts as a refund), once per line item."""
    return _actblue(session, now, notification, refund=True)


@router.post(
    "/standard",
    response_model=TallyEnvelope,
    responses=HOOK_ERRORS,
    summary="Conversions from any other tool (Standard Webhooks)",
)
def standard_hook(
    session: SessionDep,
    now: NowDep,
    message_id: Annotated[str, Depends(standard_message_id)],
    message: Annotated[
        StandardConversion,
        Body(
            description='`{"type": "conversion.donation", "data": {"code": '
            '"<refcode or source>", "amount": 2500, "currency": "EUR"}}`; types '
            "`conversion.signature`, `.submission`, `.attendance`, `.donation`, `.refund`."
        ),
    ],
) -> Response:
    """For any tool that sends Standard Webhooks (standardwebhooks.com), signed with the
    configured `whsec_` secret: one conversion per message, matched by the `code` the
    redirect appended (`refcode`/`source`) or by its `utm` parameters (`campaign`,
    `content`, `medium`), once per `webhook-id`."""
    conversions = standard_conversions(message, message_id)
    tally = count_conversions(session, "standard", conversions, now)
    tally.ignored = 0 if conversions else 1
    return tally_response(tally)

"""`/v1/subscriptions`: newsletter sign-up with double opt-in, confirmation, unsubscribe."""

from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, BackgroundTasks, Body, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.responses import JSONResponse, RedirectResponse, Response

from api.core.db import NowDep, SessionDep
from api.core.errors import BadRequest, NotFound, problem_responses
from api.core.http import reject_unknown_query
from api.core.ratelimits import client_address, client_network
from api.core.settings import Settings
from api.core.text import Line, Word
from api.subscriptions.models import SubscriberStatus
from api.subscriptions.service import (
    confirm_subscription,
    normalise_email,
    record_signup,
    subscriber_for_token,
    unsubscribe,
)
from api.subscriptions.tokens import CONFIRM_SALT, UNSUBSCRIBE_MAX_AGE, UNSUBSCRIBE_SALT, unsign

router = APIRouter(
    prefix="/v1/subscriptions",
    tags=["subscriptions"],
    dependencies=[Depends(reject_unknown_query)],
)

ListName = Annotated[str, Word(64)]
THANKS = "Thanks for signing up! Check your inbox and open the link we sent to confirm."
ACCEPTED = {"data": {"status": "pending"}, "message": THANKS}
MAX_WORDING_LENGTH = 2000


def shown_wording(text: str) -> str:
    """The consent text as the reader saw it: runs of blanks are one space, none around."""
    return " ".join(text.split())


NO_STORE = {"Cache-Control": "no-store"}


class SubscriptionCreate(BaseModel):
    """A sign-up from a form that showed the privacy-policy consent box."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(
        max_length=320,
        description="The address to subscribe; validated and normalised to lower case (no DNS "
        "lookups), so addresses differing only in case are one subscriber.",
    )
    consent: Literal[True] = Field(
        description="Must be `true`: the visitor ticked the consent box.",
    )
    policy_version: Annotated[str, Line(64)] = Field(
        description="Version of the privacy policy the visitor agreed to."
    )
    source: Annotated[str, Line(500)] = Field(
        description="Page or article the form was on, e.g. `/articles/slug`."
    )
    lists: list[ListName] = Field(
        default_factory=list,
        max_length=20,
        description="Newsletter list names to join; empty means the default newsletter.",
    )
    consent_wording: Annotated[str, Line(MAX_WORDING_LENGTH)] | None = Field(
        default=None,
        description="The exact text shown beside the consent box, as plain text (e.g. the "
        "label's `textContent`); runs of blanks count as one space. Its SHA-256 goes into "
        "the consent record and the consent ledger, and the text is kept once under that "
        "hash, as proof of what was agreed to. Leave it out when the form shows the "
        "server's configured wording (`MASTHEAD_SUBSCRIPTION_CONSENT_WORDING`).",
    )

    @field_validator("consent", mode="before")
    @classmethod
    def consent_given(cls, value: object) -> object:
        if value is not True:
            raise ValueError("consent must be the JSON value true")
        return value

    @field_validator("email")
    @classmethod
    def valid_email(cls, value: str) -> str:
        return normalise_email(value)

    @field_validator("consent_wording")
    @classmethod
    def plain_wording(cls, value: str | None) -> str | None:
        if value is not None and any(ord(c) < 32 and c not in "\t\n\r" for c in value):
            raise ValueError("the consent wording is plain text, without control characters")
        return None if value is None else shown_wording(value)


class SignupStatus(BaseModel):
    status: Literal["pending"] = Field(
        description="Always `pending`: whether the address was known is never revealed."
    )


class SignupAccepted(BaseModel):
    """The same answer for every address, new or known."""

    data: SignupStatus = Field(description="The sign-up's state as far as the caller may know.")
    message: str = Field(description="A message to show the visitor.")


class SubscriptionState(BaseModel):
    status: SubscriberStatus = Field(description="The subscription's status after the action.")
    action: Literal["confirm", "unsubscribe"] = Field(description="What the link does.")


class SubscriptionOutcome(BaseModel):
    """The subscription's state after following a link."""

    data: SubscriptionState = Field(description="The subscription's state.")
    message: str = Field(description="A message to show the visitor.")


Token = Annotated[
    str,
    Query(min_length=1, max_length=1000, description="The signed token from the email's link."),
]


@router.post(
    "",
    status_code=202,
    response_model=SignupAccepted,
    responses=problem_responses(404, 413, 422, 429, 503),
    summary="Sign up for the newsletter",
)
def create_subscription(
    request: Request,
    session: SessionDep,
    background: BackgroundTasks,
    now: NowDep,
    data: Annotated[SubscriptionCreate, Body(description="The sign-up form's fields.")],
) -> Response:
    """Starts double opt-in: a confirmation email is sent, and the subscription starts when
    its link is opened. The answer is the same for new, pending, confirmed and unsubscribed
    addresses. A 202 means the sign-up and its consent record are stored; when the database
    is unavailable or busy the answer is a 503 with `Retry-After` and nothing is stored.
    Rate-limited per client address and per email (429 with `Retry-After`). A 404 when
    this server does not take sign-ups (`MASTHEAD_SIGNUPS_ENABLED=false`)."""
    settings: Settings = request.app.state.settings
    if not settings.signups_enabled:
        raise NotFound("This server does not take newsletter sign-ups.")
    address = client_address(request, settings.trusted_proxies)
    request.app.state.signup_limiter.check(address, data.email, now)
    # The same statements for every address (see `record_signup`); the session commits
    # before the answer is sent, and a failed commit is a 503, not a 202.
    queued = record_signup(
        session,
        email=data.email,
        policy_version=data.policy_version,
        policy_page_slug=settings.privacy_page_slug,
        consent_wording=data.consent_wording
        or shown_wording(settings.subscription_consent_wording),
        source=data.source,
        lists=sorted(set(data.lists)),
        client_network=client_network(address),
        now=now,
        resend_after=settings.subscription_resend_after,
    )
    sender = getattr(request.app.state, "outbox_sender", None)
    if queued and sender is not None:
        # Background tasks run once the answer is sent, so after the commit (none run when
        # the commit fails): the sender's pass finds the message.
        background.add_task(sender.nudge)
    return JSONResponse(ACCEPTED, status_code=202, headers=NO_STORE)


def _landing(
    settings_url: Any, status: str, extra: dict[str, str] | None = None
) -> RedirectResponse:
    url = str(settings_url)
    query = urlencode({"status": status, **(extra or {})})
    return RedirectResponse(
        f"{url}{'&' if '?' in url else '?'}{query}", status_code=303, headers=NO_STORE
    )


def _outcome(status: str, action: str, message: str) -> Response:
    return JSONResponse(
        {"data": {"status": status, "action": action}, "message": message}, headers=NO_STORE
    )


@router.get(
    "/confirm",
    response_model=SubscriptionOutcome,
    responses={
        303: {"description": "Redirect to the configured confirmation landing page."},
        **problem_responses(400, 422),
    },
    summary="Confirm a subscription",
)
def confirm_subscription_link(
    request: Request, session: SessionDep, now: NowDep, token: Token
) -> Response:
    """The link in the confirmation email. A tampered, expired or already used link is a
    400. With `MASTHEAD_SUBSCRIPTION_CONFIRM_REDIRECT` set, answers 303 to that page with
    `?status=confirmed` or `?status=invalid`."""
    settings: Settings = request.app.state.settings
    redirect = settings.subscription_confirm_redirect
    try:
        payload = unsign(
            settings.secret_key,
            CONFIRM_SALT,
            request.app.state.clock,
            token,
            settings.subscription_confirm_max_age,
        )
        subscriber = confirm_subscription(
            session,
            payload,
            now,
            client_network=client_network(client_address(request, settings.trusted_proxies)),
        )
    except BadRequest:
        if redirect:
            return _landing(redirect, "invalid")
        raise
    if redirect:
        return _landing(redirect, "confirmed")
    return _outcome(subscriber.status, "confirm", "Your subscription is confirmed. Welcome!")


def _unsubscribe_payload(request: Request, token: str) -> dict[str, Any]:
    settings: Settings = request.app.state.settings
    return unsign(
        settings.secret_key, UNSUBSCRIBE_SALT, request.app.state.clock, token, UNSUBSCRIBE_MAX_AGE
    )


@router.get(
    "/unsubscribe",
    response_model=SubscriptionOutcome,
    responses={
        303: {"description": "Redirect to the configured unsubscribe landing page."},
        **problem_responses(400, 422),
    },
    summary="Describe an unsubscribe link",
)
def describe_unsubscribe(request: Request, session: SessionDep, token: Token) -> Response:
    """Changes nothing (mail scanners open links): it says what `POST` with the same token
    will do. With `MASTHEAD_SUBSCRIPTION_UNSUBSCRIBE_REDIRECT` set, answers 303 to that page
    with `?status=confirm&token=…` so it can show its own button."""
    subscriber = subscriber_for_token(session, _unsubscribe_payload(request, token))
    redirect = request.app.state.settings.subscription_unsubscribe_redirect
    if redirect:
        return _landing(redirect, "confirm", {"token": token})
    return _outcome(
        subscriber.status,
        "unsubscribe",
        "POST to this same URL to unsubscribe from every list.",
    )


@router.post(
    "/unsubscribe",
    response_model=SubscriptionOutcome,
    responses=problem_responses(400, 413, 422),
    summary="Unsubscribe",
)
def unsubscribe_link(request: Request, session: SessionDep, now: NowDep, token: Token) -> Response:
    """Unsubscribes from every list and withdraws consent; repeating it is harmless. Mail
    clients call it directly (RFC 8058 one-click, body `List-Unsubscribe=One-Click`)."""
    subscriber = subscriber_for_token(session, _unsubscribe_payload(request, token))
    address = client_address(request, request.app.state.settings.trusted_proxies)
    unsubscribe(session, subscriber, now, client_network=client_network(address))
    return _outcome(subscriber.status, "unsubscribe", "You are unsubscribed. Sorry to see you go.")

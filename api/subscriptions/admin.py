"""`/v1/admin/subscribers`: list, read, export and erase subscribers (role `admin` only).

Each answer carries the subscriber's consent records, newest first: they are the proof of
consent (GDPR art. 7), so an admin must be able to produce them."""

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from api.auth.dependencies import AdminDep, AdminRouter
from api.consent.export import subject_export
from api.consent.ledger import events_of
from api.consent.schemas import ConsentEventPublic, consent_event
from api.core.db import NowDep, SessionDep
from api.core.envelopes import ItemEnvelope, ListEnvelope
from api.core.errors import problem_responses
from api.core.http import reject_unknown_query
from api.core.listing import CursorParam, Limit
from api.editorial.audit import record
from api.editorial.http import admin_response, item_response, list_response, no_content
from api.subscriptions.models import Subscriber, SubscriberStatus, SubscriptionConsent
from api.subscriptions.service import (
    CONSENT_FIELDS,
    consents_of,
    erase_subscriber,
    export_rows,
    get_subscriber,
    list_subscribers,
)

router = AdminRouter(
    prefix="/v1/admin",
    tags=["admin: subscribers"],
    dependencies=[Depends(reject_unknown_query)],
)
SUBSCRIBER_COLUMNS = (
    "id",
    "email",
    "status",
    "lists",
    "created_at",
    "confirmed_at",
    "unsubscribed_at",
    "ledger_head",
)
CSV_COLUMNS = SUBSCRIBER_COLUMNS + tuple(f"consent_{name}" for name in CONSENT_FIELDS)
# A spreadsheet runs cells starting with these as formulas.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class ConsentRecord(BaseModel):
    """One sign-up's consent: what was agreed to, where and when, and what became of it."""

    policy_version: str = Field(description="Version of the privacy policy agreed to.")
    policy_page_id: str | None = Field(
        description="Id of the privacy-policy page (`MASTHEAD_PRIVACY_PAGE_SLUG`) published "
        "at sign-up; null when none was (or the page was deleted for good since)."
    )
    policy_page_revision: int | None = Field(
        description="That page's revision number at sign-up (see its revisions in the admin "
        "API); 0 when it had none (imported and not edited since); null without a page."
    )
    wording_hash: str = Field(
        description="SHA-256 (hex) of the consent wording the form showed (UTF-8): proof "
        "of the exact text agreed to (records made before the consent ledger hashed the "
        "policy version, a line break and the wording)."
    )
    source: str = Field(description="Page or article the sign-up form was on.")
    lists: list[str] = Field(
        description="Lists this sign-up asked for; empty means the default newsletter."
    )
    client_network: str | None = Field(
        description="The client's network (/24 for IPv4, /48 for IPv6), never its full "
        "address; null once erased or when unknown."
    )
    consented_at: datetime = Field(description="When the form with the ticked box was sent.")
    confirmed_at: datetime | None = Field(
        description="When this sign-up's confirmation link was opened; null if it never was."
    )
    withdrawn_at: datetime | None = Field(
        description="When this consent was withdrawn (unsubscribe); null while it stands."
    )


class SubscriberAdmin(BaseModel):
    """A subscriber as the admin sees it, with its consent records; erased subscribers have
    no email (their consent records stay, without client networks)."""

    id: str = Field(description="Stable opaque identifier.")
    email: str | None = Field(description="The normalised (lower-case) address; null once erased.")
    status: SubscriberStatus = Field(
        description="`pending`, `confirmed`, `unsubscribed` or `erased`."
    )
    lists: list[str] = Field(description="Lists joined; empty means the default newsletter.")
    created_at: datetime = Field(description="First sign-up.")
    confirmed_at: datetime | None = Field(description="When the address was confirmed.")
    unsubscribed_at: datetime | None = Field(description="When the subscriber unsubscribed.")
    erased_at: datetime | None = Field(description="When personal data was erased.")
    consents: list[ConsentRecord] = Field(
        description="Its consent records, one per sign-up, newest first: the proof of consent."
    )


class SubscriberDetail(SubscriberAdmin):
    """One subscriber with its consent records and its whole consent ledger."""

    ledger_head: str | None = Field(
        description="Hash of the ledger's last event (null before the first): what "
        "`masthead consent verify` checks the chain against."
    )
    ledger: list[ConsentEventPublic] = Field(
        description="Its consent ledger, oldest event first: append-only and hash-chained."
    )


class SubjectSubscriber(BaseModel):
    """The subscriber's own row."""

    id: str = Field(description="Stable opaque identifier.")
    email: str | None = Field(description="The normalised address; null once erased.")
    status: SubscriberStatus = Field(description="Where the subscription stands.")
    lists: list[str] = Field(description="Lists joined; empty means the default newsletter.")
    created_at: datetime = Field(description="First sign-up.")
    confirmed_at: datetime | None = Field(description="When the address was confirmed.")
    unsubscribed_at: datetime | None = Field(description="When the subscriber unsubscribed.")
    erased_at: datetime | None = Field(description="When personal data was erased.")
    ledger_head: str | None = Field(description="Hash of the consent ledger's last event.")


class SubjectWording(BaseModel):
    hash: str = Field(description="SHA-256 (hex) of the text, as in `wording_hash`.")
    text: str = Field(description="The consent text a sign-up form showed.")


class SubjectEmail(BaseModel):
    kind: str = Field(description="What the email was: `confirmation`.")
    status: str = Field(description="`pending`, `sent`, `failed` or `cancelled`.")
    recipient: str | None = Field(description="The address it went to; null once erased.")
    created_at: datetime = Field(description="When it was queued.")
    sent_at: datetime | None = Field(description="When it was sent; null if it was not.")
    attempts: int = Field(description="Delivery attempts made.")


class SubjectExport(BaseModel):
    """Everything Masthead keeps about one subscriber (GDPR art. 15 and 20)."""

    format: Literal["masthead-subject-export"] = Field(description="What this document is.")
    version: Literal[1] = Field(description="Version of this document's format.")
    exported_at: datetime = Field(description="When it was made.")
    subscriber: SubjectSubscriber = Field(description="The subscriber.")
    consents: list[ConsentRecord] = Field(description="Its consent records, newest first.")
    ledger: list[ConsentEventPublic] = Field(description="Its consent ledger, oldest first.")
    wordings: list[SubjectWording] = Field(
        description="The consent texts its records' and events' `wording_hash` stand for."
    )
    email: list[SubjectEmail] = Field(description="Email sent or queued to it, oldest first.")


def consent_record(consent: SubscriptionConsent) -> dict[str, Any]:
    return {name: getattr(consent, name) for name in CONSENT_FIELDS}


def subscriber_admin(
    subscriber: Subscriber, consents: Sequence[SubscriptionConsent]
) -> dict[str, Any]:
    return {
        "id": subscriber.id,
        "email": subscriber.email,
        "status": subscriber.status,
        "lists": subscriber.lists,
        "created_at": subscriber.created_at,
        "confirmed_at": subscriber.confirmed_at,
        "unsubscribed_at": subscriber.unsubscribed_at,
        "erased_at": subscriber.erased_at,
        "consents": [consent_record(consent) for consent in consents],
    }


StatusFilter = Annotated[
    SubscriberStatus | None, Query(description="Only subscribers with this status.")
]
SubscriberId = Annotated[str, Path(max_length=32, description="The subscriber's id.")]


@router.get(
    "/subscribers",
    response_model=ListEnvelope[SubscriberAdmin],
    responses=problem_responses(400, 422),
    summary="List subscribers",
)
def list_admin_subscribers(
    request: Request,
    session: SessionDep,
    _principal: AdminDep,
    status: StatusFilter = None,
    limit: Limit = 50,
    cursor: CursorParam = None,
) -> Response:
    """Newest first, keyset-paginated, each with its consent records (newest first)."""
    page = list_subscribers(session, status=status, cursor=cursor, limit=limit)
    consents = consents_of(session, (s.id for s in page.items))  # one query for the page
    items = [subscriber_admin(s, consents[s.id]) for s in page.items]
    return list_response(request, items, page, limit)


@router.get(
    "/subscribers/{subscriber_id}",
    response_model=ItemEnvelope[SubscriberDetail],
    responses=problem_responses(404, 422),
    summary="Get a subscriber",
)
def get_admin_subscriber(
    session: SessionDep, _principal: AdminDep, subscriber_id: SubscriberId
) -> Response:
    """One subscriber with its consent records (newest first) and its consent ledger
    (oldest first), erased ones included."""
    subscriber = get_subscriber(session, subscriber_id)
    item = subscriber_admin(subscriber, consents_of(session, [subscriber.id])[subscriber.id])
    item["ledger_head"] = subscriber.ledger_head
    item["ledger"] = [consent_event(event) for event in events_of(session, subscriber.id)]
    return item_response(item)


@router.get(
    "/subscribers/{subscriber_id}/export",
    response_model=SubjectExport,
    responses=problem_responses(404, 422),
    summary="Export one subscriber's data",
)
def export_admin_subscriber(
    session: SessionDep, now: NowDep, principal: AdminDep, subscriber_id: SubscriberId
) -> Response:
    """Everything Masthead keeps about one subscriber, as one JSON document for a data
    subject's request (GDPR art. 15 access, art. 20 portability): the subscriber, its
    consent records, its consent ledger, the consent wordings its hashes stand for and the
    email sent or queued to it. Sent as a file to save; the export is recorded in the
    audit log."""
    subscriber = get_subscriber(session, subscriber_id)
    document = subject_export(session, subscriber, now)
    record(session, principal, "subscriber.export", "subscriber", subscriber.id, now)
    response = admin_response(document)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="subscriber-{subscriber.id}.json"'
    )
    return response


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        value = " ".join(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


@router.get(
    "/subscribers.csv",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {}}, "description": "The CSV file."},
        **problem_responses(422),
    },
    summary="Export subscribers as CSV",
)
def export_admin_subscribers(session: SessionDep, _principal: AdminDep) -> Response:
    """Every subscriber not erased, oldest first, with a header row: one row per consent
    record (newest first; the subscriber's columns repeat, `ledger_head` the hash of its
    consent ledger's last event), its fields in the `consent_` columns; a subscriber without
    one has a single row with those columns empty. Lists are space-separated.
    Cells that a spreadsheet would run as formulas are prefixed with `'`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in export_rows(session):
        cells = row._mapping
        writer.writerow([_csv_cell(cells[column]) for column in CSV_COLUMNS])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="subscribers.csv"'},
    )


@router.delete(
    "/subscribers/{subscriber_id}",
    status_code=204,
    response_class=Response,
    responses=problem_responses(404, 422),
    summary="Erase a subscriber",
)
def erase_admin_subscriber(
    session: SessionDep, now: NowDep, principal: AdminDep, subscriber_id: SubscriberId
) -> Response:
    """GDPR erasure: the email address and client networks are overwritten for good and
    queued mail is dropped. An anonymous row stays so counts remain right; repeating it
    is harmless."""
    subscriber = erase_subscriber(session, get_subscriber(session, subscriber_id), now)
    record(session, principal, "subscriber.erase", "subscriber", subscriber.id, now)
    return no_content()

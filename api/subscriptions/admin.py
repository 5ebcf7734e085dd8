"""`/v1/admin/subscribers`: list, export and erase subscribers (role `admin` only)."""

import csv
import io
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from api.auth.dependencies import AdminDep, AdminRouter
from api.core.db import NowDep, SessionDep
from api.core.envelopes import ListEnvelope
from api.core.errors import problem_responses
from api.core.http import reject_unknown_query
from api.core.listing import CursorParam, Limit
from api.editorial.audit import record
from api.editorial.http import list_response, no_content
from api.subscriptions.models import Subscriber, SubscriberStatus
from api.subscriptions.service import (
    all_subscribers,
    erase_subscriber,
    get_subscriber,
    list_subscribers,
)

router = AdminRouter(
    prefix="/v1/admin",
    tags=["admin: subscribers"],
    dependencies=[Depends(reject_unknown_query)],
)
CSV_COLUMNS = ("id", "email", "status", "lists", "created_at", "confirmed_at", "unsubscribed_at")
# A spreadsheet runs cells starting with these as formulas.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class SubscriberAdmin(BaseModel):
    """A subscriber as the admin sees it; erased subscribers have no email."""

    id: str = Field(description="Stable opaque identifier.")
    email: str | None = Field(description="The normalised address; null once erased.")
    status: SubscriberStatus = Field(
        description="`pending`, `confirmed`, `unsubscribed` or `erased`."
    )
    lists: list[str] = Field(description="Lists joined; empty means the default newsletter.")
    created_at: datetime = Field(description="First sign-up.")
    confirmed_at: datetime | None = Field(description="When the address was confirmed.")
    unsubscribed_at: datetime | None = Field(description="When the subscriber unsubscribed.")
    erased_at: datetime | None = Field(description="When personal data was erased.")


def subscriber_admin(subscriber: Subscriber) -> dict[str, Any]:
    return {
        "id": subscriber.id,
        "email": subscriber.email,
        "status": subscriber.status,
        "lists": subscriber.lists,
        "created_at": subscriber.created_at,
        "confirmed_at": subscriber.confirmed_at,
        "unsubscribed_at": subscriber.unsubscribed_at,
        "erased_at": subscriber.erased_at,
    }


StatusFilter = Annotated[
    SubscriberStatus | None, Query(description="Only subscribers with this status.")
]


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
    """Newest first, keyset-paginated."""
    page = list_subscribers(session, status=status, cursor=cursor, limit=limit)
    return list_response(request, [subscriber_admin(s) for s in page.items], page, limit)


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
    """Every subscriber not erased, oldest first, with a header row. Cells that a
    spreadsheet would run as formulas are prefixed with `'`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for subscriber in all_subscribers(session):
        row = subscriber_admin(subscriber)
        writer.writerow([_csv_cell(row[column]) for column in CSV_COLUMNS])
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
    session: SessionDep,
    now: NowDep,
    principal: AdminDep,
    subscriber_id: Annotated[str, Path(max_length=32, description="The subscriber's id.")],
) -> Response:
    """GDPR erasure: the email address and client networks are overwritten for good and
    queued mail is dropped. An anonymous row stays so counts remain right; repeating it
    is harmless."""
    subscriber = erase_subscriber(session, get_subscriber(session, subscriber_id), now)
    record(session, principal, "subscriber.erase", "subscriber", subscriber.id, now)
    return no_content()

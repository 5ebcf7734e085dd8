"""`GET /v1/admin/actions/{id}/report` and `GET /v1/admin/articles/{id}/impact`: what the
tracked links did, for editors. Counters only: nothing in them names a reader."""

from datetime import date
from typing import Annotated

from fastapi import Depends, Path, Query
from pydantic import BaseModel, Field
from starlette.responses import Response

from api.auth.dependencies import AdminRouter, EditorDep
from api.conversions.reports import action_report, article_impact
from api.core.db import SessionDep
from api.core.errors import Unprocessable, problem_responses
from api.core.http import reject_unknown_query
from api.core.timestamps import Day
from api.editorial.http import admin_response

router = AdminRouter(
    prefix="/v1/admin", tags=["admin: conversions"], dependencies=[Depends(reject_unknown_query)]
)


class Metrics(BaseModel):
    clicks: int = Field(description="Clicks through `go_url`.")
    unique_readers: int = Field(
        description="Distinct readers per action, article, placement and day, added up (a "
        "reader who clicks again the same day counts once; on another day, again)."
    )
    conversions: int = Field(
        description="Signatures, submissions, RSVPs and donations the destination reported."
    )
    refunds: int = Field(description="Refunds the destination reported.")
    amounts: dict[str, int] = Field(
        description="Money raised per ISO 4217 currency, in minor units (cents), net of "
        'refunds, e.g. `{"USD": 125000}`.'
    )
    conversion_rate: float | None = Field(
        description="`conversions` / `unique_readers` (null without readers)."
    )


class ArticleMetrics(Metrics):
    article_id: str | None = Field(description="The citing article; null: no known article.")
    article_slug: str | None = Field(description="Its slug, while it exists.")


class ActionMetrics(Metrics):
    action_id: str = Field(description="The action.")
    action_slug: str | None = Field(description="Its slug.")
    action_title: str | None = Field(description="Its call to action.")


class PlacementMetrics(Metrics):
    placement: str | None = Field(description="Where the link was; null: not recorded.")


class DayMetrics(Metrics):
    day: date = Field(description="The day (UTC) of the clicks and of the conversions' arrival.")


class ActionReport(BaseModel):
    """One action's clicks and conversions."""

    action_id: str = Field(description="The action.")
    from_: date | None = Field(alias="from", description="First day counted (or null).")
    to: date | None = Field(description="Last day counted (or null).")
    totals: Metrics = Field(description="Everything in the range.")
    by_article: list[ArticleMetrics] = Field(description="Per citing article, most clicks first.")
    by_placement: list[PlacementMetrics] = Field(description="Per placement.")
    by_day: list[DayMetrics] = Field(description="Per day, oldest first.")


class ArticleImpact(BaseModel):
    """What one article's links to actions did."""

    article_id: str = Field(description="The article (or page).")
    from_: date | None = Field(alias="from", description="First day counted (or null).")
    to: date | None = Field(description="Last day counted (or null).")
    totals: Metrics = Field(description="Everything in the range.")
    by_action: list[ActionMetrics] = Field(description="Per action, most clicks first.")
    by_placement: list[PlacementMetrics] = Field(description="Per placement.")
    by_day: list[DayMetrics] = Field(description="Per day, oldest first.")


From = Annotated[
    Day | None,
    Query(alias="from", description="First day (UTC, `YYYY-MM-DD`) to count; default: all."),
]
To = Annotated[
    Day | None,
    Query(
        alias="to", description="Last day (UTC, `YYYY-MM-DD`) to count, inclusive; default: all."
    ),
]
REPORT_ERRORS = problem_responses(404, 422)


def _range(since: date | None, until: date | None) -> None:
    if since is not None and until is not None and until < since:
        raise Unprocessable(
            "`to` is before `from`.", errors=[{"loc": ["query", "to"], "msg": "before `from`"}]
        )


@router.get(
    "/actions/{action_id}/report",
    response_model=ActionReport,
    responses=REPORT_ERRORS,
    summary="What an action's links did",
)
def get_action_report(
    session: SessionDep,
    _principal: EditorDep,
    action_id: Annotated[str, Path(max_length=32, description="The action's id.")],
    since: From = None,
    until: To = None,
) -> Response:
    """Clicks, distinct readers, conversions, refunds, money per currency and the conversion
    rate, in total and per citing article, placement and day."""
    _range(since, until)
    return admin_response(action_report(session, action_id, since, until))


@router.get(
    "/articles/{article_id}/impact",
    response_model=ArticleImpact,
    responses=REPORT_ERRORS,
    summary="What an article's links to actions did",
)
def get_article_impact(
    session: SessionDep,
    _principal: EditorDep,
    article_id: Annotated[str, Path(max_length=32, description="The article's id.")],
    since: From = None,
    until: To = None,
) -> Response:
    """The same figures as an action's report, for one article: per action it links to,
    per placement and per day."""
    _range(since, until)
    return admin_response(article_impact(session, article_id, since, until))

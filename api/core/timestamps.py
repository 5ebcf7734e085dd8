"""Times a client sends: RFC 3339 date-times with an explicit offset, nothing looser.

Pydantic alone would also take `0` (a Unix time), `2026-12-01` (a date), a space for the `T`
and a time without offset (read as UTC by some code and as local by other); the document
says `format: date-time`, so those are a 422 here, like any other value outside the schema.
"""

import re
from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator

# RFC 3339 §5.6 `date-time` (`T` and `Z` either case); the parser checks the ranges.
FULL_DATE = re.compile(r"\d{4}-\d\d-\d\d")  # RFC 3339 `full-date`
RFC3339 = re.compile(r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(?:\.\d+)?(?:[Zz]|[+-]\d\d:\d\d)")
EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)
RANGE = "0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z"


def _rfc3339(value: object) -> object:
    if isinstance(value, datetime):  # built by our own code, not parsed
        if value.tzinfo is None:
            raise ValueError("a time needs an explicit offset")
        return value
    if not isinstance(value, str) or RFC3339.fullmatch(value) is None:
        raise ValueError("must be an RFC 3339 date-time with an offset, e.g. 2026-12-01T09:30:00Z")
    return value


def _full_date(value: object) -> object:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or FULL_DATE.fullmatch(value) is None:
        raise ValueError("must be a date as YYYY-MM-DD, e.g. 2026-12-01")
    return value


def _in_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValueError(f"must be from {RANGE} once in UTC") from None


def _bound_in_utc(value: datetime) -> datetime:
    """A filter's bound past either end of the representable range means that end."""
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        return EARLIEST if value.year == 1 else LATEST


# A time that is stored: converted to UTC; one that UTC cannot hold is a 422.
Timestamp = Annotated[datetime, BeforeValidator(_rfc3339), AfterValidator(_in_utc)]
# A time a filter compares with: converted to UTC; beyond the range, the range's end.
TimeBound = Annotated[datetime, BeforeValidator(_rfc3339), AfterValidator(_bound_in_utc)]
# A day (`format: date`): `YYYY-MM-DD` only, not `0` or a date-time.
Day = Annotated[date, BeforeValidator(_full_date)]

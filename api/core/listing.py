"""Query parameters shared by every list endpoint, declared once for OpenAPI."""

import re
from typing import Annotated, Any

from fastapi import Query

from api.core.errors import Unprocessable

MAX_LIST_ITEMS = 50
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,199}$")

Limit = Annotated[
    int,
    Query(ge=1, le=100, description="Page size, 1 to 100. Out-of-range values are a 422."),
]
CursorParam = Annotated[
    str | None,
    Query(
        max_length=512,
        description="Opaque `meta.next_cursor` of the previous page. Malformed cursors are a 400.",
    ),
]
Count = Annotated[bool, Query(description="Add `meta.total`, the number of matching items.")]
FieldsParam = Annotated[
    str | None,
    Query(
        max_length=500,
        description="Comma-separated fields to return (sparse fieldset); `id` is always "
        "returned. Unknown names are a 422.",
    ),
]


def parse_fields(raw: str | None, allowed: frozenset[str]) -> frozenset[str] | None:
    """The requested sparse fieldset, or None for the default shape."""
    if raw is None:
        return None
    names = {name.strip() for name in raw.split(",") if name.strip()}
    unknown = sorted(names - allowed)
    if unknown or not names:
        raise Unprocessable(
            f"Unknown field(s): {', '.join(unknown) or '(none given)'}. "
            f"Known: {', '.join(sorted(allowed))}.",
            errors=[{"loc": ["query", "fields"], "msg": f"unknown field {n!r}"} for n in unknown]
            or [{"loc": ["query", "fields"], "msg": "no field named"}],
        )
    return frozenset(names | {"id"})


def parse_slugs(raw: str | None, param: str) -> list[str]:
    """A comma-separated list of slugs ('any of these'), validated."""
    if not raw:
        return []
    slugs = list(dict.fromkeys(s.strip() for s in raw.split(",") if s.strip()))
    if len(slugs) > MAX_LIST_ITEMS:
        raise Unprocessable(
            f"`{param}` takes at most {MAX_LIST_ITEMS} slugs.",
            errors=[{"loc": ["query", param], "msg": "too many slugs"}],
        )
    bad = [s for s in slugs if not _SLUG.match(s)]
    if bad:
        raise Unprocessable(
            f"`{param}` has invalid slug(s): {', '.join(bad[:5])}.",
            errors=[{"loc": ["query", param], "msg": f"invalid slug {s!r}"} for s in bad[:5]],
        )
    return slugs


def slug_list_param(what: str) -> object:
    return Query(
        max_length=2000,
        description=f"Comma-separated {what} slugs; matches articles with any of them.",
    )


def sparse(item: dict[str, Any], fields: frozenset[str] | None) -> dict[str, Any]:
    """Keep only the requested fields (`fields=`), or everything when none were asked for."""
    return item if fields is None else {k: v for k, v in item.items() if k in fields}

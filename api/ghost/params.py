"""Ghost's query parameters, parsed and validated as Ghost does: `limit` (a number or `all`),
`page` (1-based), `order` (`field [asc|desc]`, several), `include`, `fields`, `formats`,
`filter`. Unknown parameters, unknown includes and unknown order fields are ignored, as
Ghost ignores them; malformed values are Ghost's 422 `ValidationError`.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import QueryParams

from api.ghost.errors import GhostProblem

DEFAULT_LIMIT = 15
MAX_PAGE = 1_000_000
LIMIT = re.compile(r"^(\d{1,9}|all)$")
PAGE = re.compile(r"^\d{1,9}$")
ORDER = re.compile(r"^[a-z0-9_,. ]{1,300}$", re.IGNORECASE)
ORDER_TERM = re.compile(r"^([a-z0-9_.]+)(?:\s+(asc|desc))?$", re.IGNORECASE)
FORMATS = frozenset({"html", "plaintext", "mobiledoc", "lexical"})


def invalid(name: str, how: str = "matches") -> GhostProblem:
    return GhostProblem(422, f"Validation ({how}) failed for {name}")


@dataclass(frozen=True)
class BrowseParams:
    limit: int | None  # None: `all`
    page: int
    order: tuple[tuple[str, bool], ...]  # (field, descending), known fields only
    include: frozenset[str]
    fields: frozenset[str] | None
    formats: frozenset[str] | None  # None: not given (the resource's default)
    filter: str | None


def _names(raw: str | None) -> list[str]:
    return [n.strip().lower() for n in (raw or "").split(",") if n.strip()]


def parse_browse(
    query: QueryParams, *, orders: Mapping[str, Any], includes: frozenset[str]
) -> BrowseParams:
    raw_limit = query.get("limit")
    limit: int | None = DEFAULT_LIMIT
    if raw_limit is not None and raw_limit != "":
        if not LIMIT.match(raw_limit):
            raise invalid("limit")
        limit = None if raw_limit == "all" else (int(raw_limit) or DEFAULT_LIMIT)
    raw_page = query.get("page")
    page = 1
    if raw_page is not None and raw_page != "":
        if not PAGE.match(raw_page):
            raise invalid("page")
        page = min(int(raw_page), MAX_PAGE) or 1
    order: list[tuple[str, bool]] = []
    raw_order = query.get("order")
    if raw_order:
        if not ORDER.match(raw_order):
            raise invalid("order")
        for term in raw_order.split(","):
            match = ORDER_TERM.match(term.strip())
            if match is None:
                continue
            name = match.group(1).lower()
            if name in orders and name not in {n for n, _ in order}:
                order.append((name, (match.group(2) or "asc").lower() == "desc"))
    return BrowseParams(
        limit=limit,
        page=page,
        order=tuple(order),
        include=frozenset(_names(query.get("include"))) & includes,
        fields=parse_fields(query),
        formats=parse_formats(query),
        filter=query.get("filter") or None,
    )


def parse_fields(query: QueryParams) -> frozenset[str] | None:
    names = _names(query.get("fields"))
    return frozenset(names) if names else None


def parse_formats(query: QueryParams) -> frozenset[str] | None:
    raw = query.get("formats")
    if raw is None or raw.strip() == "":
        return None
    names = frozenset(_names(raw))
    if names - FORMATS:
        raise invalid("formats", "AllowedValues")
    return names


def parse_read(query: QueryParams, includes: frozenset[str]) -> BrowseParams:
    """A read takes `include`, `fields` and `formats`; the rest is ignored."""
    return BrowseParams(
        limit=1,
        page=1,
        order=(),
        include=frozenset(_names(query.get("include"))) & includes,
        fields=parse_fields(query),
        formats=parse_formats(query),
        filter=None,
    )

"""Attribution that survives the hop: the parameter the tracked redirect appends to an
action's destination, so the destination's own reports say which article and placement
sent each supporter, and conversions reported back can be matched to them.

- `refcode` (ActBlue) and `source` (Action Network, OSDI tools) carry a code made from the
  action's template (`{article}-{placement}` by default). Each code handed out is kept in
  `attribution_codes` with the action, article and placement it stands for: a code is
  matched back by lookup, never parsed, so any template works. Codes are unique across
  actions: one another action already holds gets a short suffix (a hash of what it stands
  for), and so does one longer than `CODE_MAX` (cut, then suffixed).
- `utm` appends `utm_source` (the site's host), `utm_medium` (the placement),
  `utm_campaign` (the action's slug) and `utm_content` (the article's slug).
"""

import hashlib
import re
from collections.abc import Callable
from typing import Annotated
from urllib.parse import quote, unquote_plus, urlsplit, urlunsplit

from pydantic import AfterValidator
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.actions.models import Action, Attribution, AttributionCode
from api.core.db import insert_on_conflict

DEFAULT_TEMPLATE = "{article}-{placement}"
PLACEHOLDERS = ("article", "placement", "action")
TEMPLATE_MAX = 100
CODE_MAX = 64
SUFFIX = 9  # "-" and 8 hex digits
# Literal characters a template may hold: safe in a query value without escaping, and
# within what ActBlue accepts in a refcode. Slugs and placements are `[a-z0-9-]`.
_TEMPLATE = re.compile(r"(?:\{(?:article|placement|action)\}|[A-Za-z0-9_-])+")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def attribution_template(template: str) -> str:
    """A template of literal `[A-Za-z0-9_-]` and the placeholders `{article}`,
    `{placement}` and `{action}`; ValueError naming what is wrong otherwise."""
    if not template or len(template) > TEMPLATE_MAX:
        raise ValueError(f"must be 1 to {TEMPLATE_MAX} characters")
    for name in _PLACEHOLDER.findall(template):
        if name not in PLACEHOLDERS:
            raise ValueError(
                f"unknown placeholder {{{name}}}: use {{article}}, {{placement}}, {{action}}"
            )
    if not _TEMPLATE.fullmatch(template):
        raise ValueError(
            "only letters, digits, `_`, `-` and the placeholders {article}, {placement}, "
            "{action} are allowed"
        )
    return template


AttributionTemplate = Annotated[str, AfterValidator(attribution_template)]


def _suffixed(base: str, seed: str) -> str:
    digest = hashlib.sha256(seed.encode()).hexdigest()[:8]
    return f"{base[: CODE_MAX - SUFFIX]}-{digest}"


def render_code(template: str | None, action_slug: str, article_slug: str, placement: str) -> str:
    """The code for one action, article and placement, at most `CODE_MAX` characters."""
    values = {"article": article_slug, "placement": placement, "action": action_slug}
    code = _PLACEHOLDER.sub(lambda m: values[m.group(1)], template or DEFAULT_TEMPLATE)
    return code if len(code) <= CODE_MAX else _suffixed(code, code)


def _owner(session: Session, code: str) -> tuple[str, str, str] | None:
    row = session.execute(
        select(
            col(AttributionCode.action_id),
            col(AttributionCode.article_id),
            col(AttributionCode.placement),
        ).where(col(AttributionCode.code) == code)
    ).first()
    return (row[0], row[1], row[2]) if row else None


def _claim(session: Session, code: str, owner: tuple[str, str, str]) -> tuple[str, str, str]:
    """The owner of `code`, registering `owner` when nobody holds it yet (ON CONFLICT: two
    requests handing out a new code at once agree on one owner)."""
    found = _owner(session, code)
    if found is not None:
        return found
    action_id, article_id, placement = owner
    session.execute(
        insert_on_conflict(session, AttributionCode)
        .values(code=code, action_id=action_id, article_id=article_id, placement=placement)
        .on_conflict_do_nothing(index_elements=["code"])
    )
    return _owner(session, code) or owner


def attribution_code(
    session: Session, action: Action, article_id: str, article_slug: str, placement: str
) -> str:
    """The code this action hands its destination for clicks from this article and
    placement: rendered from the template, registered on first use."""
    owner = (action.id, article_id, placement)
    code = render_code(action.attribution_template, action.slug, article_slug, placement)
    if _claim(session, code, owner) == owner:
        return code
    # Held by another action (or another article, with a template that does not tell
    # them apart): this one gets a suffix that is its own.
    code = _suffixed(code, "|".join(owner))
    _claim(session, code, owner)
    return code


def code_owner(session: Session, code: str) -> tuple[str, str, str] | None:
    """The action id, article id and placement a code was handed out for, if it was."""
    return _owner(session, code)


def with_parameters(url: str, parameters: dict[str, str]) -> str:
    """`url` with `parameters` set in its query: its other parameters are kept as they
    were written (order and escaping), one of the same name is replaced."""
    parts = urlsplit(url)
    kept = [
        pair
        for pair in parts.query.split("&")
        if pair and unquote_plus(pair.split("=", 1)[0]) not in parameters
    ]
    added = [
        f"{quote(name, safe='')}={quote(value, safe='')}" for name, value in parameters.items()
    ]
    return urlunsplit(parts._replace(query="&".join(kept + added)))


def utm_parameters(
    site: str, action_slug: str, article_slug: str, placement: str
) -> dict[str, str]:
    return {
        "utm_source": site,
        "utm_medium": placement,
        "utm_campaign": action_slug,
        "utm_content": article_slug,
    }


def destination(
    session: Session,
    action: Action,
    article: tuple[str, str] | None,
    placement: str,
    site: Callable[[], str],
) -> str:
    """Where the tracked redirect sends the reader: the action's URL, with the attribution
    its destination understands when the click came from a known article (`article`: its
    id and slug); the plain URL otherwise. `site` names the publication (`utm_source`)."""
    if article is None or action.attribution == Attribution.none:
        return action.url
    article_id, article_slug = article
    if action.attribution == Attribution.utm:
        return with_parameters(
            action.url, utm_parameters(site(), action.slug, article_slug, placement)
        )
    code = attribution_code(session, action, article_id, article_slug, placement)
    return with_parameters(action.url, {str(action.attribution): code})

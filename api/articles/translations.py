"""Translation groups: an article's (or page's) versions in other languages.

Members share `translation_group`, an opaque id (null: no translations); a group holds one
live member per language, of one kind. A list shows each story once, in the reader's best
language: a row is shown unless a visible sibling ranks better (`preferred_versions`), a
NOT EXISTS over the group's index, so keyset pagination works on a fixed set of rows and
no per-request rank is computed. Ranking: the position of the member's language in the
preference chain; members in no language of the chain rank after, by publication (the
version published first, the story's original, leads).
"""

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, case, exists, or_, select, update
from sqlalchemy.orm import Session

from api.articles.models import ArticleKind, ArticleStatus
from api.articles.reads import ARTICLES
from api.core.db import new_id
from api.core.errors import Conflict, Unprocessable
from api.core.languages import LanguagePreference

SIBLING = ARTICLES.alias("sibling")
# How a preference's shape starts (`LanguagePreference.shape`).
LANGUAGES = "languages:"
MEMBER = ARTICLES.alias("member")


def _visible(table: Any, now: Any, kind: ArticleKind) -> ColumnElement[bool]:
    return and_(
        table.c.kind == kind.value,
        table.c.status == ArticleStatus.published.value,
        table.c.deleted_at.is_(None),
        table.c.published_at <= now,
    )


def _position(column: Any, languages: Sequence[Any]) -> Any:
    """Where a language stands in the chain: 0, 1… and len(chain) for none of them."""
    return case(*((column == tag, n) for n, tag in enumerate(languages)), else_=len(languages))


def preferred_versions(
    shape: str,
    kind: ArticleKind,
    values: Sequence[str] | None = None,
) -> ColumnElement[bool]:
    """Rows that are the best visible version of their story for a preference of this
    `shape` (`LanguagePreference.shape`): bind parameters `now` and `language_N`, or the
    `values` themselves when given (statements built per request)."""
    count, anything = int(shape.removeprefix(LANGUAGES).rstrip("*")), shape.endswith("*")
    languages = [
        bindparam(f"language_{n}", values[n] if values is not None else None, ARTICLES.c.lang.type)
        for n in range(count)
    ]
    now = bindparam("now", type_=ARTICLES.c.published_at.type)
    earlier = or_(
        SIBLING.c.published_at < ARTICLES.c.published_at,
        and_(SIBLING.c.published_at == ARTICLES.c.published_at, SIBLING.c.id < ARTICLES.c.id),
    )
    # Neither in the chain: the one published first (the original) is the story's.
    better: ColumnElement[bool] = earlier
    if languages:
        mine, theirs = _position(ARTICLES.c.lang, languages), _position(SIBLING.c.lang, languages)
        better = theirs < mine
        if anything:
            last = len(languages)
            better = or_(better, and_(mine == last, theirs == last, earlier))
    shadowed = exists().where(
        SIBLING.c.translation_group == ARTICLES.c.translation_group,
        SIBLING.c.id != ARTICLES.c.id,
        _visible(SIBLING, now, kind),
        better,
    )
    if anything:
        return ~shadowed
    return and_(ARTICLES.c.lang.in_(languages), ~shadowed)


def preference_condition(preference: LanguagePreference, kind: ArticleKind) -> ColumnElement[bool]:
    """`preferred_versions` with the preference's values in the statement (Ghost's reads)."""
    return preferred_versions(preference.shape, kind, preference.chain)


@dataclass(frozen=True)
class Translation:
    """A visible version of a story: what `translations[]` and the alternates show."""

    id: str
    kind: str
    lang: str
    slug: str
    published_at: datetime


MEMBERS_OF_GROUPS = (
    select(
        MEMBER.c.translation_group,
        MEMBER.c.id,
        MEMBER.c.kind,
        MEMBER.c.lang,
        MEMBER.c.slug,
        MEMBER.c.published_at,
    )
    .where(
        MEMBER.c.translation_group.in_(bindparam("groups", expanding=True)),
        MEMBER.c.status == ArticleStatus.published.value,
        MEMBER.c.deleted_at.is_(None),
        MEMBER.c.published_at <= bindparam("now", type_=MEMBER.c.published_at.type),
    )
    .order_by(MEMBER.c.translation_group, MEMBER.c.lang)
)


def visible_members(
    session: Session, now: datetime, groups: Sequence[str | None]
) -> dict[str, list[Translation]]:
    """The visible members of these groups, by group (one statement; none without groups)."""
    wanted = sorted({group for group in groups if group})
    found: dict[str, list[Translation]] = defaultdict(list)
    if wanted:
        rows = session.connection().execute(MEMBERS_OF_GROUPS, {"groups": wanted, "now": now})
        for row in rows:
            found[row.translation_group].append(
                Translation(row.id, row.kind, row.lang, row.slug, row.published_at)
            )
    return dict(found)


def translations_of(
    session: Session, now: datetime, articles: Sequence[Any]
) -> dict[str, list[Translation]]:
    """Each article's (or view's) other visible versions, by language, keyed by its id."""
    members = visible_members(session, now, [article.translation_group for article in articles])
    return {
        article.id: [
            m for m in members.get(article.translation_group or "", []) if m.id != article.id
        ]
        for article in articles
    }


def attach_translations(session: Session, now: datetime, views: Sequence[Any]) -> None:
    """Set each view's `translations` (its story's other visible versions, by language) and
    `original` (the version published first, or None when the view is it)."""
    found = translations_of(session, now, views)
    for view in views:
        view.translations = found[view.id]
        first = min(view.translations, key=lambda m: (m.published_at, m.id), default=None)
        earlier = first is not None and (first.published_at, first.id) < (
            view.published_at,
            view.id,
        )
        view.original = first if earlier else None


# --- Writing ------------------------------------------------------------------------------


def _target(session: Session, reference: str, kind: ArticleKind, own_id: str) -> Any:
    """The live article (or page) `translation_of` names, by id or else by slug."""
    columns = (ARTICLES.c.id, ARTICLES.c.kind, ARTICLES.c.slug, ARTICLES.c.translation_group)
    live = ARTICLES.c.deleted_at.is_(None)
    connection = session.connection()
    row = connection.execute(select(*columns).where(ARTICLES.c.id == reference, live)).first()
    if row is None:
        row = connection.execute(select(*columns).where(ARTICLES.c.slug == reference, live)).first()
    loc = {"loc": ["body", "translation_of"]}
    if row is None:
        raise Unprocessable(
            f"`translation_of`: no {kind.value} with id or slug `{reference}`.",
            errors=[{**loc, "msg": "unknown article or page"}],
        )
    if row.kind != kind.value:
        raise Unprocessable(
            f"`translation_of` must name another {kind.value}; `{reference}` is "
            f"{'a page' if row.kind == ArticleKind.page else 'an article'}.",
            errors=[{**loc, "msg": f"not a {kind.value}"}],
        )
    if row.id == own_id:
        raise Unprocessable(
            "`translation_of` names the item itself.", errors=[{**loc, "msg": "itself"}]
        )
    return row


def join_group(session: Session, article: Any, reference: str | None, kind: ArticleKind) -> None:
    """`translation_of` as written: null leaves the group (the others stay grouped); a
    reference joins that item's group, making one when it has none."""
    if reference is None:
        article.translation_group = None
        return
    target = _target(session, reference, kind, article.id)
    group = target.translation_group
    if group is None:
        group = new_id()
        session.execute(
            update(ARTICLES).where(ARTICLES.c.id == target.id).values(translation_group=group)
        )
    article.translation_group = group


def check_language_free(session: Session, article: Any) -> None:
    """409 when another live member of the article's group has its language."""
    if article.translation_group is None:
        return
    taken = (
        session.connection()
        .execute(
            select(ARTICLES.c.slug).where(
                ARTICLES.c.translation_group == article.translation_group,
                ARTICLES.c.lang == article.lang,
                ARTICLES.c.id != article.id,
                ARTICLES.c.deleted_at.is_(None),
            )
        )
        .first()
    )
    if taken is not None:
        raise Conflict(
            f"The translation group already has a `{article.lang}` version "
            f"(`{taken.slug}`): one version per language."
        )


def language_conflict(error: Exception) -> bool:
    """Whether an integrity error is the group's one-per-language index (a race)."""
    return "translation_group" in str(getattr(error, "orig", error)) or (
        "ix_articles_translation_lang" in str(getattr(error, "orig", error))
    )


# --- Bundles ------------------------------------------------------------------------------


def exported_translation_of(articles: Sequence[Any]) -> dict[str, str]:
    """Export: the `translation_of` of each grouped article (by id), the slug of its group's
    original (published first; else created first), which has none."""
    originals: dict[str, Any] = {}
    for article in articles:
        group = article.translation_group
        if group is not None:
            known = originals.get(group)
            if known is None or _first_key(article) < _first_key(known):
                originals[group] = article
    return {
        article.id: originals[article.translation_group].slug
        for article in articles
        if article.translation_group is not None
        and originals[article.translation_group].id != article.id
    }


def _first_key(article: Any) -> tuple[Any, ...]:
    published = article.published_at
    return (published is None, published or article.created_at, article.created_at, article.id)


def import_translation_of(
    session: Session, in_order: Sequence[tuple[str, Any]], error: Callable[..., Exception]
) -> None:
    """Import: group the bundle's articles as their `translation_of` says (a slug or id of
    the bundle, else of a stored article of the same kind). A fixed number of statements;
    `error(detail, loc=..., msg=...)` is raised for an unknown, self or other-kind reference
    or a second live version of one language in a group."""
    wanted = [
        (index, article_id, item)
        for index, (article_id, item) in enumerate(in_order)
        if item.translation_of is not None
    ]
    if not wanted:
        return
    named = {item.slug: article_id for article_id, item in in_order} | {
        article_id: article_id for article_id, _item in in_order
    }
    columns = (
        ARTICLES.c.id,
        ARTICLES.c.slug,
        ARTICLES.c.kind,
        ARTICLES.c.lang,
        ARTICLES.c.deleted_at,
        ARTICLES.c.translation_group,
    )
    connection = session.connection()
    outside = sorted({item.translation_of for _i, _a, item in wanted} - named.keys())
    if outside:
        for row in connection.execute(
            select(ARTICLES.c.id, ARTICLES.c.slug).where(
                or_(ARTICLES.c.id.in_(outside), ARTICLES.c.slug.in_(outside))
            )
        ):
            named.setdefault(row.id, row.id)
            named.setdefault(row.slug, row.id)
    involved = {article_id for _i, article_id, _item in wanted} | {
        named[item.translation_of] for _i, _a, item in wanted if item.translation_of in named
    }
    rows = {
        row.id: row
        for row in connection.execute(select(*columns).where(ARTICLES.c.id.in_(sorted(involved))))
    }
    groups = sorted({row.translation_group for row in rows.values() if row.translation_group})
    if groups:
        members = select(*columns).where(ARTICLES.c.translation_group.in_(groups))
        rows |= {row.id: row for row in connection.execute(members)}
    group_of = {row_id: row.translation_group for row_id, row in rows.items()}
    for index, article_id, item in wanted:
        loc = ["articles", index, "translation_of"]
        label = f"articles[{index}] (slug {item.slug!r}): translation_of"
        target = rows.get(named.get(item.translation_of, ""))
        if target is None:
            raise error(
                f"Bundle refused, nothing was imported: {label} names no article "
                f"{item.translation_of!r}.",
                loc=loc,
                msg="unknown article",
            )
        if target.id == article_id or target.kind != item.kind:
            raise error(
                f"Bundle refused, nothing was imported: {label} must name another {item.kind}.",
                loc=loc,
                msg=f"not another {item.kind}",
            )
        group = group_of[target.id] or new_id()
        group_of[target.id] = group_of[article_id] = group
    taken: dict[tuple[str, str], str] = {}
    for row_id, member in rows.items():
        key = (group_of[row_id] or "", member.lang)
        if not key[0] or member.deleted_at is not None:
            continue
        if key in taken:
            index = next((i for i, a, _item in wanted if a in (row_id, taken[key])), 0)
            raise error(
                f"Bundle refused, nothing was imported: articles[{index}]: its translation "
                f"group would have two `{member.lang}` versions.",
                loc=["articles", index, "translation_of"],
                msg="one version per language",
            )
        taken[key] = row_id
    changed = [
        {"member_id": row_id, "group": group}
        for row_id, group in group_of.items()
        if group != rows[row_id].translation_group
    ]
    if changed:
        session.execute(
            update(ARTICLES)
            .where(ARTICLES.c.id == bindparam("member_id"))
            .values(translation_group=bindparam("group")),
            changed,
        )

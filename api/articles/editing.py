"""Writing articles: saves with derived body fields, workflow, revisions, soft delete.

Pages are articles of kind `page`: every function here serves both. An article's kind is
set when it is created and never changes; loading by id names the kind wanted, so a page's
id is a 404 among articles and the reverse. Versions and revisions are keyed by the row's
id (entity `article` for both); the audit log says `page.publish` for a page."""

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import and_, delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col

from api.actions.models import Action
from api.articles.body import Body, derive_body
from api.articles.models import (
    Article,
    ArticleAction,
    ArticleAuthor,
    ArticleKind,
    ArticleStatus,
    ArticleTag,
    Citation,
)
from api.articles.schemas import FULL_RELATIONS, ArticleCreate, ArticleUpdate, article_public
from api.articles.service import ARTICLE_SORTS, relation_options
from api.articles.translations import check_language_free, join_group, language_conflict
from api.auth.models import Role
from api.auth.service import Principal
from api.authors.models import Author
from api.citations.links import link_citations
from api.core.db import insert_on_conflict, new_id
from api.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from api.core.http import dump_json
from api.core.pagination import Page, fetch_page
from api.core.slugs import make_slug
from api.corrections.schemas import correction_public
from api.editorial.audit import record
from api.editorial.models import ArticleRevision, EntityVersion
from api.editorial.schemas import merged, writable_fields
from api.editorial.versions import bump_version, current_version, start_versioning
from api.previews.service import end_previews
from api.search.index import index_articles, remove_from_index
from api.sources.models import Source
from api.tags.models import Tag
from api.tags.naming import hashtag_for

ENTITY = "article"
LIST_SORT = ARTICLE_SORTS["-updated_at"]


def article_status(article: Article, now: datetime) -> str:
    if article.status == ArticleStatus.draft:
        return "draft"
    if article.published_at is not None and article.published_at > now:
        return "scheduled"
    return "published"


def admin_article(article: Article, version: int, now: datetime, base: str) -> dict[str, Any]:
    """The article as editors see it (every relation embedded)."""
    out = article_public(
        article, include=FULL_RELATIONS, fields=None, with_body=True, now=now, base=base
    )
    out.update(
        status=article_status(article, now),
        body_markdown=article.body_markdown,
        created_at=article.created_at,
        deleted_at=article.deleted_at,
        version=version,
        translation_group=article.translation_group,
    )
    return out


def _owner(session: Session, article_id: str) -> str | None:
    return current_version(session, ENTITY, article_id).created_by


def may_read(session: Session, principal: Principal, article: Article) -> None:
    if principal.role == Role.contributor and _owner(session, article.id) != principal.token_id:
        raise Forbidden("Contributors work on their own articles only.")


def may_edit(session: Session, principal: Principal, article: Article) -> None:
    """Contributors edit their own drafts only; editors and admins edit anything."""
    may_read(session, principal, article)
    if principal.role == Role.contributor and article.status != ArticleStatus.draft:
        raise Forbidden("Contributors edit drafts only; this article is published.")


def load_article(
    session: Session,
    article_id: str,
    *,
    deleted_too: bool = False,
    kind: ArticleKind = ArticleKind.article,
) -> Article:
    """The article (or page, by `kind`) with every relation; 404 when it is of the other
    kind, or deleted (unless `deleted_too`)."""
    article = session.scalars(
        select(Article)
        .where(col(Article.id) == article_id, col(Article.kind) == kind.value)
        .options(*relation_options(FULL_RELATIONS))
    ).first()
    if article is None or (article.deleted_at is not None and not deleted_too):
        raise NotFound(f"No {kind.value} with id `{article_id}`.")
    return article


def list_admin_articles(
    session: Session,
    principal: Principal,
    now: datetime,
    *,
    status: str | None,
    deleted: bool,
    cursor: str | None,
    limit: int,
    count: bool,
    kind: ArticleKind = ArticleKind.article,
) -> Page[Article]:
    query = select(Article).where(
        col(Article.kind) == kind.value,
        col(Article.deleted_at).is_not(None) if deleted else col(Article.deleted_at).is_(None),
    )
    published = col(Article.status) == ArticleStatus.published
    if status == "draft":
        query = query.where(col(Article.status) == ArticleStatus.draft)
    elif status == "scheduled":
        query = query.where(published, col(Article.published_at) > now)
    elif status == "published":
        query = query.where(published, col(Article.published_at) <= now)
    if principal.role == Role.contributor:
        query = query.where(
            col(Article.id).in_(
                select(col(EntityVersion.entity_id)).where(
                    col(EntityVersion.entity_type) == ENTITY,
                    col(EntityVersion.created_by) == principal.token_id,
                )
            )
        )
    return fetch_page(
        session,
        query,
        sort=LIST_SORT,
        cursor=cursor,
        limit=limit,
        count=count,
        options=relation_options(FULL_RELATIONS),
    )


def writable_state(article: Article) -> dict[str, Any]:
    """The article as a Create body (what a PATCH is merged into; what a revision keeps)."""
    derived = Body(article.body_html, article.body_text, 0, 0).excerpt()
    state: dict[str, Any] = {
        "slug": article.slug,
        "title": article.title,
        "subtitle": article.subtitle,
        # An excerpt that was derived from the body follows the body when it changes.
        "excerpt": None if article.excerpt == derived else article.excerpt,
        "lang": article.lang,
        "canonical_url": article.canonical_url,
        "feature_image": (
            {
                "url": article.feature_image_url,
                "alt": article.feature_image_alt,
                "caption": article.feature_image_caption,
            }
            if article.feature_image_url
            else None
        ),
        "authors": [a.slug for a in article.authors],
        "tags": [t.slug for t in article.tags],
        "sources": [
            {"source": c.source.slug, "cited_url": c.cited_url, "context": c.context}
            for c in article.citations
        ],
        "actions": [a.slug for a in article.actions],
    }
    if article.body_markdown is not None:
        state["body_markdown"] = article.body_markdown
    else:
        state["body_html"] = article.body_html
    return state


def _ids_by_slug(session: Session, model: type[Any], slugs: list[str], field: str) -> list[str]:
    found: dict[str, str] = dict(
        session.execute(select(model.slug, model.id).where(model.slug.in_(slugs))).all()
    )
    missing = [s for s in slugs if s not in found]
    if missing:
        raise Unprocessable(
            f"Unknown {field} slug(s): {', '.join(missing[:5])}.",
            errors=[{"loc": ["body", field], "msg": f"unknown slug {s!r}"} for s in missing[:5]],
        )
    return [found[s] for s in slugs]


def _tag_ids(session: Session, names: list[str], now: datetime) -> list[str]:
    """Tags by name or slug; unknown ones are created on the fly."""
    slugs = list(dict.fromkeys(make_slug(n) for n in names))
    named = {make_slug(n): n for n in reversed(names)}

    def existing(wanted: list[str]) -> dict[str, str]:
        rows = session.execute(select(col(Tag.slug), col(Tag.id)).where(col(Tag.slug).in_(wanted)))
        return {slug: tag_id for slug, tag_id in rows}

    found = existing(slugs)
    missing = [s for s in slugs if s not in found]
    for slug in missing:
        name = named[slug] if named[slug] != slug else slug.replace("-", " ").title()
        # Two saves naming the same new tag at once: the second insert waits for the
        # first and then does nothing, and both link the one row.
        session.execute(
            insert_on_conflict(session, Tag)
            .values(
                id=new_id(), slug=slug, name=name, hashtag=hashtag_for(name),
                created_at=now, updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["slug"])
        )  # fmt: skip
    if missing:
        found.update(existing(missing))
    return [found[s] for s in slugs]


def _write_article(
    session: Session, article: Article, data: ArticleCreate, now: datetime, *, is_new: bool
) -> None:
    """Write the validated fields, the derived body fields and the relations."""
    author_ids = _ids_by_slug(session, Author, data.authors, "authors")
    action_ids = _ids_by_slug(session, Action, data.actions, "actions")
    source_ids = _ids_by_slug(
        session, Source, list(dict.fromkeys(c.source for c in data.sources)), "sources"
    )
    source_of = dict(zip(dict.fromkeys(c.source for c in data.sources), source_ids, strict=True))
    tag_ids = _tag_ids(session, data.tags, now)
    slug = data.slug or make_slug(data.title)
    taken = session.scalar(select(col(Article.id)).where(col(Article.slug) == slug))
    if taken is not None and taken != article.id:
        # One namespace for articles and pages, so a frontend's `/{slug}/` finds one.
        raise Conflict(f"The slug `{slug}` is taken (by an article or a page).")
    body = derive_body(body_html=data.body_html, body_markdown=data.body_markdown)
    image = data.feature_image
    values = {
        "slug": slug,
        "title": data.title,
        "subtitle": data.subtitle,
        "excerpt": data.excerpt if data.excerpt is not None else body.excerpt(),
        "body_html": body.html,
        "body_markdown": data.body_markdown,
        "body_text": body.text,
        "word_count": body.word_count,
        "reading_time": body.reading_time,
        "lang": data.lang,
        "canonical_url": data.canonical_url,
        "feature_image_url": image.url if image else None,
        "feature_image_alt": image.alt if image else None,
        "feature_image_caption": image.caption if image else None,
        "updated_at": now,
    }
    for name, value in values.items():
        setattr(article, name, value)
    if "translation_of" in data.model_fields_set:  # left out: the group stays as it is
        join_group(session, article, data.translation_of, ArticleKind(article.kind))
    check_language_free(session, article)
    if is_new:
        session.add(article)
    try:
        session.flush()
    except IntegrityError as error:
        if language_conflict(error):  # another save took the language in between
            raise Conflict("The translation group already has this language.") from None
        raise Conflict(f"The slug `{slug}` is taken (by an article or a page).") from None
    for model in (ArticleAuthor, ArticleTag, ArticleAction, Citation):
        session.execute(delete(model).where(col(model.article_id) == article.id))
    links: list[tuple[type[Any], list[dict[str, Any]]]] = [
        (ArticleAuthor, [{"article_id": article.id, "author_id": i, "position": p}
                         for p, i in enumerate(author_ids)]),
        (ArticleTag, [{"article_id": article.id, "tag_id": i, "position": p}
                      for p, i in enumerate(tag_ids)]),
        (ArticleAction, [{"article_id": article.id, "action_id": i, "position": p}
                         for p, i in enumerate(action_ids)]),
        (Citation, [{"id": new_id(), "article_id": article.id,
                     "source_id": source_of[c.source], "cited_url": c.cited_url,
                     "context": c.context, "position": p} for p, c in enumerate(data.sources)]),
    ]  # fmt: skip
    for model, rows in links:
        if model is Citation:
            link_citations(session, rows, now)  # each cited URL's checks (api.citations)
        if rows:
            session.execute(insert(model), rows)
    session.flush()
    session.expire(article, ["tags", "authors", "actions", "citations"])
    index_articles(session, [article])


def _snapshot(article: Article) -> dict[str, Any]:
    state = writable_state(article)
    state["status"] = article.status
    state["published_at"] = article.published_at
    state["deleted_at"] = article.deleted_at
    # Kept for the record; a restore leaves the corrections as they are (see restore_revision).
    state["corrections"] = [correction_public(c) for c in article.corrections]
    snapshot: dict[str, Any] = orjson.loads(dump_json(state))
    return snapshot


def save_revision(session: Session, article: Article, principal: Principal, now: datetime) -> None:
    number = (
        session.scalar(
            select(func.max(col(ArticleRevision.number))).where(
                col(ArticleRevision.article_id) == article.id
            )
        )
        or 0
    ) + 1
    session.add(
        ArticleRevision(
            article_id=article.id,
            number=number,
            snapshot=_snapshot(article),
            token_name=principal.name,
            created_at=now,
        )
    )
    session.flush()


def _record_revision_and_audit(
    session: Session, article: Article, principal: Principal, now: datetime, action: str
) -> Article:
    """Keep the saved state as a revision and `action` in the audit log."""
    save_revision(session, article, principal, now)
    kind = article.kind
    record(session, principal, f"{kind}.{action}", kind, article.id, now)
    return article


def create_article(
    session: Session,
    data: ArticleCreate,
    principal: Principal,
    now: datetime,
    kind: ArticleKind = ArticleKind.article,
) -> Article:
    """A new draft article (or page, by `kind`)."""
    article = Article(
        id=new_id(),
        kind=kind.value,
        slug="",
        title="",
        status=ArticleStatus.draft,
        created_at=now,
    )
    _write_article(session, article, data, now, is_new=True)
    start_versioning(session, ENTITY, article.id, principal)
    return _record_revision_and_audit(session, article, principal, now, "create")


def update_article(
    session: Session,
    article: Article,
    patch: Any,
    expected_version: int,
    principal: Principal,
    now: datetime,
) -> Article:
    data = merged(ArticleCreate, writable_state(article), patch)
    bump_version(session, ENTITY, article.id, expected_version)
    _write_article(session, article, data, now, is_new=False)
    return _record_revision_and_audit(session, article, principal, now, "update")


def publish_article(
    session: Session,
    article: Article,
    published_at: datetime | None,
    principal: Principal,
    now: datetime,
) -> Article:
    """Publish now, or at `published_at` (a future time schedules it: no cron needed)."""
    bump_version(session, ENTITY, article.id)
    article.status = ArticleStatus.published
    article.published_at = published_at or now
    article.updated_at = now
    session.flush()
    action = "schedule" if article.published_at > now else "publish"
    return _record_revision_and_audit(session, article, principal, now, action)


def unpublish_article(
    session: Session, article: Article, principal: Principal, now: datetime
) -> Article:
    bump_version(session, ENTITY, article.id)
    article.status = ArticleStatus.draft
    article.updated_at = now
    session.flush()
    return _record_revision_and_audit(session, article, principal, now, "unpublish")


def delete_article(
    session: Session, article: Article, principal: Principal, now: datetime
) -> Article:
    """Soft delete: gone publicly at once, kept for sync and restore."""
    bump_version(session, ENTITY, article.id)
    article.deleted_at = now
    article.updated_at = now
    session.flush()
    remove_from_index(session, [article.id])
    end_previews(session, article.id, now)  # a restore must not revive old preview links
    return _record_revision_and_audit(session, article, principal, now, "delete")


def list_revisions(session: Session, article: Article) -> list[ArticleRevision]:
    return list(
        session.scalars(
            select(ArticleRevision)
            .where(col(ArticleRevision.article_id) == article.id)
            .order_by(col(ArticleRevision.number).desc())
        )
    )


def restore_revision(
    session: Session, article: Article, number: int, principal: Principal, now: datetime
) -> Article:
    """Bring back a revision's content (and undelete the article); a new revision records it."""
    revision = session.scalars(
        select(ArticleRevision).where(
            and_(
                col(ArticleRevision.article_id) == article.id,
                col(ArticleRevision.number) == number,
            )
        )
    ).first()
    if revision is None:
        raise NotFound(f"{article.kind.capitalize()} `{article.id}` has no revision {number}.")
    # The content comes back; the corrections do not change: a correction, once public, is
    # part of the record, and restoring older wording does not make it untrue (those made
    # after the revision stay, those deleted since stay deleted: each deletion is audited).
    fields = set(writable_fields(ArticleCreate)) - {"corrections"}
    data = merged(
        ArticleCreate,
        {k: v for k, v in revision.snapshot.items() if k in fields},
        ArticleUpdate(),  # no changes: the revision's state is validated as it is
    )
    bump_version(session, ENTITY, article.id)
    if article.deleted_at is not None:
        article.deleted_at = None
    try:
        _write_article(session, article, data, now, is_new=False)
    except Unprocessable as exc:  # it names an author, action or source deleted since
        raise Conflict(
            f"Revision {number} cannot be restored as it was: {exc.detail} They were deleted "
            "after it was saved; re-create them, or edit the article instead."
        ) from None
    return _record_revision_and_audit(session, article, principal, now, "restore")

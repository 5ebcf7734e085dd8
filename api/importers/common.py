"""What every importer shares: the post it reads, slugs, and the batched write.

An importer yields `SourcePost`s. They are written a batch at a time as content bundles
through the bundle importer (so they are validated and sanitised exactly like a bundle or
an admin write), all in the caller's one transaction: an invalid post anywhere refuses the
whole import. Nothing but the current batch is held in memory.

Articles get an id derived from their identity in the source system (its site and its own
id), so a second import of the same export finds them again, whatever their slug has become:
it keeps the slug an article got the first time, and changes nothing when nothing changed.
Tags and authors are matched by slug, so an import joins tags that already exist.
"""

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from typing import Any
from urllib.parse import unquote

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.articles.body import derive_body
from api.articles.models import Article
from api.bundle.importing import import_bundle
from api.bundle.schemas import ArticleItem, Bundle
from api.bundle.validation import KINDS, BundleError
from api.core.slugs import MAX_SLUG_LENGTH, make_slug

BATCH = 500
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Pages are imported once the bundle carries an article's kind; until then they are skipped.
PAGES_IMPORTED = "kind" in ArticleItem.model_fields
UNTITLED = "(untitled)"


class ImportRefused(BundleError):
    """The export is refused whole; `detail` is one line naming the offending item."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"Import refused, nothing was imported: {reason}")


@dataclass(frozen=True)
class SourceAuthor:
    slug: str
    name: str
    bio: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class SourceTag:
    slug: str
    name: str
    description: str | None = None


@dataclass
class SourcePost:
    """One post or page of an export, in Masthead's terms but not yet validated."""

    id: str  # derived from the source's identity: see `source_id`
    label: str  # how a message names it: "post 'hello' (Ghost id 5f3…)"
    kind: str  # "article" or "page"
    slug: str
    title: str
    body_html: str
    status: str  # "draft", "published" or "scheduled"
    published_at: datetime | None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    excerpt: str | None = None
    canonical_url: str | None = None
    feature_image: dict[str, str | None] | None = None
    lang: str = "en"
    authors: list[SourceAuthor] = field(default_factory=list)
    tags: list[SourceTag] = field(default_factory=list)


@dataclass
class Notes:
    """What an import left out or changed on the way, counted, with one example each."""

    skipped: Counter[str] = field(default_factory=Counter)
    warnings: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)

    def skip(self, reason: str, example: str) -> None:
        self.skipped[reason] += 1
        self.examples.setdefault(reason, example)

    def warn(self, message: str, example: str) -> None:
        self.warnings[message] += 1
        self.examples.setdefault(message, example)

    def lines(self) -> list[str]:
        """One line per kind of note: `3 × pages skipped: … (e.g. page 'about')`."""
        return [
            f"{count} × {message} (e.g. {self.examples[message]})"
            for counter in (self.skipped, self.warnings)
            for message, count in sorted(counter.items())
        ]


def source_id(system: str, site: str, key: str) -> str:
    """A 32-character id for an item of `system` at `site`: the same every import."""
    digest = hashlib.blake2b(f"{site.rstrip('/').lower()}\n{key}".encode(), digest_size=15)
    return system[:2] + digest.hexdigest()


def clean_slug(raw: str | None, fallback: str) -> str:
    """A Masthead slug from a source slug (percent-encoded or not), else from `fallback`."""
    text = unquote(raw or "").strip()
    if SLUG.match(text) and len(text) <= MAX_SLUG_LENGTH:
        return text
    return make_slug(text) if text else make_slug(fallback)


def plain_text(html: str | None) -> str | None:
    """Text of an HTML fragment (excerpts and captions are plain text here), or None."""
    if not html or not html.strip():
        return None
    return derive_body(body_html=html).text or None


def as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def title_or_untitled(title: str | None, label: str, notes: Notes) -> str:
    text = (title or "").strip()
    if not text:
        notes.warn(f"posts without a title imported as {UNTITLED!r}", label)
        return UNTITLED
    return text


def _batches(posts: Iterable[SourcePost]) -> Iterator[list[SourcePost]]:
    iterator = iter(posts)
    while batch := list(islice(iterator, BATCH)):
        yield batch


@dataclass
class _Totals:
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)
    tags: dict[str, dict[str, Any]] = field(default_factory=dict)
    authors: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_dict(self, notes: Notes) -> dict[str, dict[str, int]]:
        # A tag or an author is written by the first batch that names it; later batches
        # find it unchanged, so only distinct slugs count.
        unchanged = dict(self.unchanged)
        for kind, seen in (("tags", self.tags), ("authors", self.authors)):
            unchanged[kind] = len(seen) - self.created[kind] - self.updated[kind]
        report = {
            heading: {kind: counts.get(kind, 0) for kind in KINDS}
            for heading, counts in (
                ("created", self.created),
                ("updated", self.updated),
                ("unchanged", unchanged),
            )
        }
        return report | {"skipped": dict(sorted(notes.skipped.items()))}


def import_posts(
    session: Session,
    posts: Iterable[SourcePost],
    now: datetime,
    notes: Notes,
) -> dict[str, dict[str, int]]:
    """Write every post in batches within the caller's transaction; the report of counts."""
    totals = _Totals()
    for batch in _batches(posts):
        existing = _stored(session, [post.id for post in batch])
        kept: list[SourcePost] = []
        for post in batch:
            if post.id in existing and existing[post.id][1] is not None:
                notes.skip("items deleted in Masthead since an earlier import", post.label)
            else:
                kept.append(post)
        slugs = _assign_slugs(session, kept, {k: v[0] for k, v in existing.items()}, notes)
        bundle = _bundle(kept, slugs, totals)
        report = import_bundle(session, bundle, now)
        for heading in ("created", "updated", "unchanged"):
            getattr(totals, heading).update(getattr(report, heading))
    return totals.as_dict(notes)


def _stored(session: Session, ids: list[str]) -> dict[str, tuple[str, datetime | None]]:
    """id -> (slug, deleted_at) of the articles of a batch imported before."""
    rows = session.execute(
        select(col(Article.id), col(Article.slug), col(Article.deleted_at)).where(
            col(Article.id).in_(ids)
        )
    )
    return {row[0]: (row[1], row[2]) for row in rows}


def _assign_slugs(
    session: Session, batch: list[SourcePost], existing: dict[str, str], notes: Notes
) -> list[str]:
    """Each post's slug: the one it was given by an earlier import, else its own, numbered
    (`-2`, `-3`, as WordPress does) while another article or page holds it."""
    wanted = {post.slug for post in batch}
    holders: dict[str, str | None] = dict.fromkeys(wanted)
    holders.update(
        session.execute(
            select(col(Article.slug), col(Article.id)).where(col(Article.slug).in_(wanted))
        ).all()
    )

    def holder(slug: str) -> str | None:
        if slug not in holders:  # a numbered slug: rare enough for a query each
            holders[slug] = session.scalar(select(col(Article.id)).where(col(Article.slug) == slug))
        return holders[slug]

    taken: set[str] = set()
    slugs: list[str] = []
    for post in batch:
        slug = existing.get(post.id)
        if slug is None:
            slug, number = post.slug, 1
            while slug in taken or holder(slug) not in (None, post.id):
                number += 1
                suffix = f"-{number}"
                slug = post.slug[: MAX_SLUG_LENGTH - len(suffix)].rstrip("-") + suffix
            if slug != post.slug:
                notes.warn("slugs already taken were numbered", f"{post.label} as {slug!r}")
        taken.add(slug)
        slugs.append(slug)
    return slugs


def _bundle(batch: list[SourcePost], slugs: list[str], totals: _Totals) -> Bundle:
    """The batch as a validated bundle: its posts and the tags and authors they name."""
    tags: dict[str, dict[str, Any]] = {}
    authors: dict[str, dict[str, Any]] = {}
    articles: list[dict[str, Any]] = []
    for post, slug in zip(batch, slugs, strict=True):
        for tag in post.tags:
            tags[tag.slug] = totals.tags.setdefault(
                tag.slug, _optional(slug=tag.slug, name=tag.name, description=tag.description)
            )
        for author in post.authors:
            authors[author.slug] = totals.authors.setdefault(
                author.slug,
                _optional(slug=author.slug, name=author.name, bio=author.bio, url=author.url),
            )
        article: dict[str, Any] = {
            "id": post.id,
            "slug": slug,
            "title": post.title,
            "body_html": post.body_html,
            "excerpt": post.excerpt,
            "lang": post.lang,
            "status": post.status,
            "published_at": post.published_at,
            "created_at": post.created_at,
            "updated_at": post.updated_at,
            "canonical_url": post.canonical_url,
            "feature_image": post.feature_image,
            # A source may name a tag twice (a WordPress category and a tag alike).
            "authors": list(dict.fromkeys(a.slug for a in post.authors)),
            "tags": list(dict.fromkeys(t.slug for t in post.tags)),
        }
        if PAGES_IMPORTED:
            article["kind"] = post.kind
        articles.append(article)
    raw = {
        "format": "masthead-bundle",
        "version": 1,
        "authors": list(authors.values()),
        "tags": list(tags.values()),
        "articles": articles,
    }
    try:
        return Bundle.model_validate(raw)
    except ValidationError as exc:
        raise ImportRefused(_where(exc, raw, batch)) from None


def _optional(**values: Any) -> dict[str, Any]:
    """Only the fields the source has: absent ones leave what a stored item holds alone."""
    return {key: value for key, value in values.items() if value is not None}


def _where(exc: ValidationError, raw: dict[str, Any], batch: list[SourcePost]) -> str:
    error = exc.errors()[0]
    loc = tuple(error["loc"])
    kind, index, rest = (loc[0] if loc else None), (loc[1] if len(loc) > 1 else None), loc[2:]
    if kind == "articles" and isinstance(index, int):
        label = batch[index].label
    elif kind in ("tags", "authors") and isinstance(index, int):
        label = f"{kind[:-1]} {raw[kind][index]['slug']!r}"
    else:
        label = "the export"
    place = ".".join(str(part) for part in rest)
    return f"{label}: {place + ': ' if place else ''}{error['msg']}."

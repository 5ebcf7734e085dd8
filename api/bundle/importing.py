"""Import of a validated content bundle: idempotent by slug, all-or-nothing, batched."""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session
from sqlmodel import SQLModel, col

from api.actions.models import Action
from api.actions.progress import goal_columns, recount_progress
from api.articles.body import derive_body
from api.articles.models import (
    Article,
    ArticleAction,
    ArticleAuthor,
    ArticleStatus,
    ArticleTag,
    Citation,
)
from api.articles.translations import import_translation_of
from api.authors.models import Author
from api.bundle.schemas import (
    ArticleItem,
    Bundle,
    BundleItem,
)
from api.bundle.validation import KINDS, BundleError
from api.citations.links import link_citations
from api.core.db import new_id
from api.core.tables import table_of
from api.corrections.bundle import import_corrections
from api.search.index import index_documents, reindex_article_ids, tag_search_text
from api.sources.models import Source
from api.tags.models import Tag
from api.tags.naming import hashtag_for

Progress = Callable[[str, int, int], None]
BATCH = 1000


@dataclass
class ImportReport:
    created: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    updated: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    unchanged: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def as_dict(self) -> dict[str, dict[str, int]]:
        """Every kind under every heading, zeros included, so the shape never varies."""
        return {
            heading: {kind: counts.get(kind, 0) for kind in KINDS}
            for heading, counts in (
                ("created", self.created),
                ("updated", self.updated),
                ("unchanged", self.unchanged),
            )
        }


def _upsert(
    session: Session,
    model: type[SQLModel],
    kind: str,
    rows: list[dict[str, Any]],
    now: datetime,
    report: ImportReport,
    progress: Progress | None,
) -> tuple[dict[str, str], set[str]]:
    """Insert new rows, update changed ones, leave equal ones.

    Returns slug -> id for every row, and the slugs that were inserted or updated.
    """
    table = table_of(model)
    columns = [c.key for c in table.columns]
    existing: dict[str, Any] = {}
    slugs = [r["slug"] for r in rows]
    for start in range(0, len(slugs), BATCH):
        chunk = slugs[start : start + BATCH]
        for found in session.execute(
            select(*table.columns).where(table.c.slug.in_(chunk))
        ).mappings():
            existing[found["slug"]] = found
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    ids: dict[str, str] = {}
    labels: dict[str, str] = {}
    for index, row in enumerate(rows):
        labels[row["slug"]] = f"{kind}[{index}] (slug {row['slug']!r})"
        current = existing.get(row["slug"])
        if current is None:
            new = {**row}
            new["id"] = new.get("id") or new_id()
            new["created_at"] = new.get("created_at") or now
            new["updated_at"] = new.get("updated_at") or now
            inserts.append(new)
            ids[row["slug"]] = new["id"]
            continue
        ids[row["slug"]] = current["id"]
        if row.get("id") and row["id"] != current["id"]:
            raise BundleError(
                f"Bundle refused, nothing was imported: {labels[row['slug']]}: the slug exists "
                f"with another id ({current['id']}, bundle says {row['id']}).",
                loc=[kind, index, "id"],
                msg="the slug exists with another id",
            )
        compare = [c for c in columns if c not in ("id", "created_at", "updated_at") and c in row]
        if any(current[c] != row[c] for c in compare):
            change = {c: row[c] for c in compare}
            change["id"] = current["id"]
            change["updated_at"] = row.get("updated_at") or now
            updates.append(change)
        else:
            report.unchanged[kind] += 1
    # An id the bundle gives a new slug may belong to a stored item the bundle leaves out.
    taken_ids = {r["id"]: r["slug"] for r in existing.values()}
    claimed = [r["id"] for r in inserts]
    for start in range(0, len(claimed), BATCH):
        chunk = claimed[start : start + BATCH]
        for taken_id, taken_slug in session.execute(
            select(table.c.id, table.c.slug).where(table.c.id.in_(chunk))
        ):
            taken_ids[taken_id] = taken_slug
    clashing = [r for r in inserts if r["id"] in taken_ids]
    if clashing:
        raise BundleError(
            f"Bundle refused, nothing was imported: {labels[clashing[0]['slug']]}: its id is "
            f"already used by {kind[:-1]} {taken_ids[clashing[0]['id']]!r}.",
            loc=[kind, [r["slug"] for r in rows].index(clashing[0]["slug"]), "id"],
            msg="the id belongs to another item",
        )
    for start in range(0, len(inserts), BATCH):
        session.execute(insert(model), inserts[start : start + BATCH])
        if progress:
            progress(kind, start + len(inserts[start : start + BATCH]), len(rows))
    for start in range(0, len(updates), BATCH):
        session.execute(update(model), updates[start : start + BATCH])
    report.created[kind] += len(inserts)
    report.updated[kind] += len(updates)
    return ids, {r["slug"] for r in inserts} | {r["slug"] for r in updates}


def _article_row(item: ArticleItem, now: datetime) -> tuple[dict[str, Any], str]:
    body = derive_body(body_html=item.body_html, body_markdown=item.body_markdown)
    status = ArticleStatus.draft if item.status == "draft" else ArticleStatus.published
    published_at = item.published_at
    if status is ArticleStatus.published and published_at is None:
        published_at = now
    image = item.feature_image
    row: dict[str, Any] = {
        "slug": item.slug,
        "kind": item.kind,
        "title": item.title,
        "subtitle": item.subtitle,
        "excerpt": item.excerpt if item.excerpt is not None else body.excerpt(),
        "body_html": body.html,
        "body_markdown": item.body_markdown,
        "body_text": body.text,
        "lang": item.lang,
        "status": status.value,
        "published_at": published_at,
        "deleted_at": item.deleted_at,
        "word_count": body.word_count,
        "reading_time": body.reading_time,
        "canonical_url": item.canonical_url,
        "feature_image_url": image.url if image else None,
        "feature_image_alt": image.alt if image else None,
        "feature_image_caption": image.caption if image else None,
    }
    for key in ("id", "created_at", "updated_at"):
        if getattr(item, key) is not None:
            row[key] = getattr(item, key)
    return row, body.text


def _current_links(session: Session, article_ids: list[str]) -> dict[str, tuple[Any, ...]]:
    """Each article's relations as comparable tuples, in a fixed number of queries."""
    links: dict[str, list[list[Any]]] = defaultdict(lambda: [[], [], [], []])
    if not article_ids:
        return {}
    for slot, model, key in (
        (0, ArticleAuthor, "author_id"),
        (1, ArticleTag, "tag_id"),
        (2, ArticleAction, "action_id"),
    ):
        link = table_of(model)
        for start in range(0, len(article_ids), BATCH):
            chunk = article_ids[start : start + BATCH]
            for article_id, ref, position in session.execute(
                select(link.c.article_id, link.c[key], link.c.position).where(
                    link.c.article_id.in_(chunk)
                )
            ):
                links[article_id][slot].append((position, ref))
    for start in range(0, len(article_ids), BATCH):
        chunk = article_ids[start : start + BATCH]
        for row in session.execute(
            select(
                col(Citation.article_id),
                col(Citation.position),
                col(Citation.source_id),
                col(Citation.cited_url),
                col(Citation.context),
            ).where(col(Citation.article_id).in_(chunk))
        ):
            links[row[0]][3].append((row[1], row[2], row[3], row[4]))
    return {
        article_id: tuple(tuple(ref for _pos, ref in sorted(slot)) for slot in slots[:3])
        + (tuple(tuple(c[1:]) for c in sorted(slots[3])),)
        for article_id, slots in links.items()
    }


def _rewire_links(
    session: Session,
    articles: list[tuple[str, ArticleItem]],
    refs: dict[str, dict[str, str]],
    published: dict[str, datetime | None],
    now: datetime,
) -> None:
    """Replace the relations of these articles with the bundle's, in batched statements.
    Tag links get their article's publication time here: the trigger that would copy it
    (migration 0008) then has nothing to do."""
    ids = [article_id for article_id, _ in articles]
    for model in (ArticleAuthor, ArticleTag, ArticleAction, Citation):
        for start in range(0, len(ids), BATCH):
            session.execute(
                delete(model).where(col(model.article_id).in_(ids[start : start + BATCH]))
            )
    rows: dict[type[SQLModel], list[dict[str, Any]]] = defaultdict(list)
    for article_id, item in articles:
        for position, slug in enumerate(item.authors):
            rows[ArticleAuthor].append(
                {"article_id": article_id, "author_id": refs["authors"][slug], "position": position}
            )
        for position, slug in enumerate(item.tags):
            rows[ArticleTag].append(
                {
                    "article_id": article_id,
                    "tag_id": refs["tags"][slug],
                    "position": position,
                    "published_at": published[article_id],
                }
            )
        for position, slug in enumerate(item.actions):
            rows[ArticleAction].append(
                {"article_id": article_id, "action_id": refs["actions"][slug], "position": position}
            )
        for position, citation in enumerate(item.sources):
            rows[Citation].append(
                {
                    "id": new_id(),
                    "article_id": article_id,
                    "source_id": refs["sources"][citation.source],
                    "cited_url": citation.cited_url,
                    "context": citation.context,
                    "position": position,
                }
            )
    link_citations(session, rows[Citation], now)  # each cited URL's checks (api.citations)
    for link_model, batch in rows.items():
        # Every column is given, so the table's insert does: the ORM's bulk path would only
        # add per-row bookkeeping, which grows with the number of link rows.
        for start in range(0, len(batch), BATCH):
            session.execute(insert(table_of(link_model)), batch[start : start + BATCH])


def slug_of(item: BundleItem) -> str:
    """A validated item's slug: validation gives every item one."""
    assert item.slug is not None, "the bundle was not validated"
    return item.slug


def _plain_rows(items: Iterable[BundleItem]) -> list[dict[str, Any]]:
    return [item.model_dump(exclude_unset=True) | {"slug": item.slug} for item in items]


def import_bundle(
    session: Session, bundle: Bundle, now: datetime, progress: Progress | None = None
) -> ImportReport:
    """Upsert the bundle's items by slug within the caller's transaction (which owns commit)."""
    report = ImportReport()
    refs: dict[str, dict[str, str]] = {}
    refs["authors"], _ = _upsert(
        session, Author, "authors", _plain_rows(bundle.authors), now, report, progress
    )
    tag_rows = _plain_rows(bundle.tags)
    for row, tag in zip(tag_rows, bundle.tags, strict=True):
        row["hashtag"] = tag.hashtag or hashtag_for(tag.name)
    refs["tags"], changed_tags = _upsert(session, Tag, "tags", tag_rows, now, report, progress)
    # A renamed tag changes the indexed text of every article carrying it, in the bundle or not.
    retagged = _articles_tagged(session, [refs["tags"][slug] for slug in changed_tags])
    refs["sources"], _ = _upsert(
        session, Source, "sources", _plain_rows(bundle.sources), now, report, progress
    )
    action_rows = _plain_rows(bundle.actions)
    for row in action_rows:
        goal_columns(row)
    refs["actions"], changed_actions = _upsert(
        session, Action, "actions", action_rows, now, report, progress
    )
    # A changed goal changes what counts as progress (conversions are not in bundles).
    recount_progress(session, [refs["actions"][slug] for slug in changed_actions])

    rows_and_texts = [_article_row(item, now) for item in bundle.articles]
    article_rows = [row for row, _text in rows_and_texts]
    article_ids, touched = _upsert(
        session, Article, "articles", article_rows, now, report, progress
    )
    current = _current_links(session, list(article_ids.values()))
    rewire: list[tuple[str, ArticleItem]] = []
    for item in bundle.articles:
        article_id = article_ids[slug_of(item)]
        wanted = (
            tuple(refs["authors"][s] for s in item.authors),
            tuple(refs["tags"][s] for s in item.tags),
            tuple(refs["actions"][s] for s in item.actions),
            tuple((refs["sources"][c.source], c.cited_url, c.context) for c in item.sources),
        )
        if current.get(article_id, ((), (), (), ())) != wanted:
            rewire.append((article_id, item))
    published = {article_ids[row["slug"]]: row["published_at"] for row in article_rows}
    _rewire_links(session, rewire, refs, published, now)
    in_order = [(article_ids[slug_of(item)], item) for item in bundle.articles]
    import_translation_of(session, in_order, BundleError)  # their translation groups
    recorrected = import_corrections(session, in_order, now)
    rewired = {article_id for article_id, _item in rewire}
    rewire += [entry for entry in in_order if entry[0] in recorrected - rewired]

    # An article whose only change is its relations (or corrections) is still updated.
    relinked_only = [(article_id, item) for article_id, item in rewire if item.slug not in touched]
    relinked_only_existing = [
        {"id": article_id, "updated_at": item.updated_at or now}
        for article_id, item in relinked_only
    ]
    if relinked_only_existing:
        session.execute(update(Article), relinked_only_existing)
        report.unchanged["articles"] -= len(relinked_only_existing)
        report.updated["articles"] += len(relinked_only_existing)
        touched |= {slug_of(item) for _id, item in relinked_only}

    tag_text = {
        row["slug"]: tag_search_text(row["name"], row["hashtag"], row["slug"]) for row in tag_rows
    }
    documents = [
        {
            "article_id": article_ids[slug_of(item)],
            "title": row["title"],
            "subtitle": row["subtitle"] or "",
            "tags": " ".join(tag_text[s] for s in item.tags),
            "body": text,
        }
        for item, (row, text) in zip(bundle.articles, rows_and_texts, strict=True)
        if item.slug in touched
    ]
    for start in range(0, len(documents), BATCH):
        index_documents(session, documents[start : start + BATCH])
        if progress:
            progress("search index", start + len(documents[start : start + BATCH]), len(documents))
    reindex_article_ids(session, sorted(retagged - {article_ids[slug] for slug in touched}))
    return report


def _articles_tagged(session: Session, tag_ids: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(tag_ids), BATCH):
        chunk = tag_ids[start : start + BATCH]
        found.update(
            session.scalars(
                select(col(ArticleTag.article_id)).where(col(ArticleTag.tag_id).in_(chunk))
            )
        )
    return found

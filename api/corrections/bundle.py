"""Corrections in the content bundle: exported with each article, imported as its notes."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.bundle.schemas import ArticleItem
from api.bundle.validation import BundleError
from api.core.db import new_id
from api.core.tables import table_of
from api.corrections.models import Correction
from api.corrections.service import corrections_of

BATCH = 1000
IMPORTED_BY = "bundle import"


def exported_corrections(notes: Sequence[Correction]) -> list[dict[str, Any]]:
    """An article's notes as the bundle carries them."""
    return [
        {
            "id": note.id,
            "kind": note.kind,
            "text": note.text,
            "at": note.published_at,
            "amended_at": note.amended_at,
        }
        for note in notes
    ]


def _same(current: Sequence[Any], wanted: ArticleItem) -> bool:
    """Whether the stored notes are the item's (the same content; the same ids where the
    item gives them), in whatever order notes of one time were listed."""
    stored = sorted((r.published_at, r.kind, r.text, r.amended_at or r.published_at, r.id)
                    for r in current)  # fmt: skip
    given = sorted((n.at, n.kind, n.text, n.amended_at or n.at, n.id or "")
                   for n in wanted.corrections or [])  # fmt: skip
    return len(stored) == len(given) and all(
        row[:4] == note[:4] and note[4] in ("", row[4])
        for row, note in zip(stored, given, strict=True)
    )


def _refuse(index: int, place: list[str | int], detail: str, msg: str) -> BundleError:
    return BundleError(
        f"Bundle refused, nothing was imported: articles[{index}]: {detail}",
        loc=["articles", index, "corrections", *place],
        msg=msg,
    )


def import_corrections(
    session: Session, articles: Sequence[tuple[str, ArticleItem]], now: datetime
) -> set[str]:
    """Make each article's notes those its item carries (in the bundle's order); an item
    without `corrections` keeps the stored ones. Returns the ids of articles whose notes
    changed. `articles` are (id, item) in the bundle's order."""
    given = [(i, article_id, item) for i, (article_id, item) in enumerate(articles)]
    given = [entry for entry in given if entry[2].corrections is not None]
    seen: set[str] = set()
    for index, _article_id, item in given:
        for position, note in enumerate(item.corrections or []):
            if note.at > now:
                raise _refuse(index, [position, "at"], "a correction is dated in the future.",
                              "must not be in the future")  # fmt: skip
            if note.id is not None and note.id in seen:
                raise _refuse(index, [position, "id"], f"correction id {note.id!r} is used "
                              "twice.", "id used twice in the bundle")  # fmt: skip
            if note.id is not None:
                seen.add(note.id)
    current: dict[str, list[Any]] = {}
    for start in range(0, len(given), BATCH):
        current |= corrections_of(session, [entry[1] for entry in given[start : start + BATCH]])
    changed = [e for e in given if not _same(current.get(e[1], []), e[2])]
    ids = [article_id for _index, article_id, _item in changed]
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        session.execute(delete(Correction).where(col(Correction.article_id).in_(chunk)))
    wanted_ids = [n.id for _i, _a, item in changed for n in item.corrections or [] if n.id]
    for start in range(0, len(wanted_ids), BATCH):
        chunk = wanted_ids[start : start + BATCH]
        taken = session.scalars(select(col(Correction.id)).where(col(Correction.id).in_(chunk)))
        for taken_id in taken:
            index, position = next(
                (i, p)
                for i, _a, item in changed
                for p, n in enumerate(item.corrections or [])
                if n.id == taken_id
            )
            raise _refuse(index, [position, "id"], f"correction id {taken_id!r} belongs to "
                          "another article.", "the id is another article's")  # fmt: skip
    rows = [
        {
            "id": note.id or new_id(),
            "article_id": article_id,
            "kind": note.kind,
            "text": note.text,
            "published_at": note.at,
            "amended_at": note.amended_at,
            "created_at": now,
            "token_name": IMPORTED_BY,
        }
        for _index, article_id, item in changed
        for note in item.corrections or []
    ]
    for start in range(0, len(rows), BATCH):
        session.execute(insert(table_of(Correction)), rows[start : start + BATCH])
    return set(ids)

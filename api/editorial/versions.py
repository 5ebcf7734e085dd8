"""Versions of editable items: the counter behind every ETag and `If-Match` check."""

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from api.auth.service import Principal
from api.core.db import insert_on_conflict, rows_matched
from api.core.errors import PreconditionFailed
from api.editorial.models import EntityVersion


def current_version(session: Session, entity_type: str, entity_id: str) -> EntityVersion:
    row = session.get(EntityVersion, (entity_type, entity_id))
    return row or EntityVersion(entity_type=entity_type, entity_id=entity_id, version=0)


def versions_of(session: Session, entity_type: str, ids: list[str]) -> dict[str, EntityVersion]:
    if not ids:
        return {}
    rows = session.scalars(
        select(EntityVersion).where(
            col(EntityVersion.entity_type) == entity_type, col(EntityVersion.entity_id).in_(ids)
        )
    )
    found = {row.entity_id: row for row in rows}
    return {
        i: found.get(i) or EntityVersion(entity_type=entity_type, entity_id=i, version=0)
        for i in ids
    }


def start_versioning(
    session: Session, entity_type: str, entity_id: str, principal: Principal
) -> None:
    session.execute(
        insert(EntityVersion).values(
            entity_type=entity_type, entity_id=entity_id, version=1, created_by=principal.token_id
        )
    )


def _insert_if_absent(session: Session, entity_type: str, entity_id: str) -> int:
    """1 when this call created the version row, 0 when it existed. RETURNING says which:
    an INSERT's row count is not reported by every driver (psycopg gives -1)."""
    inserted = session.execute(
        insert_on_conflict(session, EntityVersion)
        .values(entity_type=entity_type, entity_id=entity_id, version=1)
        .on_conflict_do_nothing()
        .returning(col(EntityVersion.version))
    ).first()
    return 0 if inserted is None else 1


def bump_version(
    session: Session, entity_type: str, entity_id: str, expected: int | None = None
) -> None:
    """Advance the item's version; with `expected`, only from that version (else 412).

    The check is in the UPDATE's WHERE (or the insert's conflict), so of two concurrent
    saves from the same version exactly one wins, on SQLite and PostgreSQL alike."""
    if expected == 0:
        won = _insert_if_absent(session, entity_type, entity_id)
    else:
        query = (
            update(EntityVersion)
            .where(
                col(EntityVersion.entity_type) == entity_type,
                col(EntityVersion.entity_id) == entity_id,
            )
            .values(version=col(EntityVersion.version) + 1)
        )
        if expected is not None:
            query = query.where(col(EntityVersion.version) == expected)
        won = rows_matched(session.execute(query))
        if not won and expected is None:
            won = _insert_if_absent(session, entity_type, entity_id) or rows_matched(
                session.execute(query)
            )
    if not won:
        raise PreconditionFailed(
            "Someone else saved this item first (stale `If-Match`); read it again and re-apply."
        )

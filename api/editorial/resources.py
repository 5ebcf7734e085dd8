"""Editing tags, sources, actions and authors: one set of rules for the four of them.

Each domain describes itself as a `Resource` in its own `admin.py`."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col

from api.articles.models import Article
from api.auth.service import Principal
from api.core.errors import Conflict, NotFound
from api.core.pagination import Page, fetch_page, sort_keys
from api.core.slugs import make_slug
from api.editorial import schemas
from api.editorial.audit import record
from api.editorial.models import EntityVersion
from api.editorial.versions import bump_version, start_versioning
from api.search.index import reindex_article_ids

# A row, the current time and the base URL in; the item as editors see it out.
RenderAdmin = Callable[[Any, datetime, str], dict[str, Any]]


@dataclass(frozen=True)
class Resource:
    """One editable resource: its table, write models, admin rendering and article links."""

    name: str
    plural: str
    model: type[Any]
    create: type[BaseModel]
    update: type[BaseModel]
    admin: type[BaseModel]
    name_field: str
    render_admin: RenderAdmin
    link_model: type[Any]
    link_column: Any
    derive: Callable[[dict[str, Any]], None] | None = None
    """Fills derived columns (a tag's hashtag) into the values about to be written."""
    in_search_text: bool = False
    """Whether articles' search text includes this item (so a rename reindexes them)."""
    after_write: Callable[[Session, Any], None] | None = None
    """Brings columns kept from other tables up to date once a created or changed item is
    flushed (an action's progress, counted in the unit of its goal)."""

    def slug_from(self, data: BaseModel) -> str:
        given = getattr(data, "slug", None)
        return given or make_slug(getattr(data, self.name_field))


def stamps(row: Any) -> dict[str, Any]:
    """The timestamps every item carries as editors see it."""
    return {"created_at": row.created_at, "updated_at": row.updated_at}


def render_admin_item(
    resource: Resource, row: Any, version: EntityVersion, now: datetime, base: str
) -> dict[str, Any]:
    """The item as editors see it, with its version."""
    return {**resource.render_admin(row, now, base), "version": version.version}


def writable_state(resource: Resource, row: Any) -> dict[str, Any]:
    """The row as a Create body: what a PATCH is merged into."""
    return {name: getattr(row, name) for name in schemas.writable_fields(resource.create)}


def get_item(session: Session, resource: Resource, item_id: str) -> Any:
    row = session.get(resource.model, item_id)
    if row is None:
        raise NotFound(f"No {resource.name} with id `{item_id}`.")
    return row


def list_items(
    session: Session, resource: Resource, *, cursor: str | None, limit: int, count: bool
) -> Page[Any]:
    sort = sort_keys(resource.model.id, slug=resource.model.slug)["slug"]
    return fetch_page(
        session, select(resource.model), sort=sort, cursor=cursor, limit=limit, count=count
    )


def _ensure_slug_free(session: Session, resource: Resource, slug: str, own_id: str | None) -> None:
    taken = session.scalar(select(resource.model.id).where(resource.model.slug == slug))
    if taken is not None and taken != own_id:
        raise Conflict(f"The {resource.name} slug `{slug}` is taken.")


def _column_values(resource: Resource, data: BaseModel) -> dict[str, Any]:
    values = {name: getattr(data, name) for name in schemas.writable_fields(resource.create)}
    values["slug"] = resource.slug_from(data)
    if resource.derive is not None:
        resource.derive(values)
    return values


def _flush_or_conflict(session: Session, resource: Resource, slug: str) -> None:
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(f"The {resource.name} slug `{slug}` is taken.") from None


def create_item(
    session: Session, resource: Resource, data: BaseModel, principal: Principal, now: datetime
) -> Any:
    values = _column_values(resource, data)
    _ensure_slug_free(session, resource, values["slug"], None)
    row = resource.model(**values, created_at=now, updated_at=now)
    session.add(row)
    _flush_or_conflict(session, resource, values["slug"])
    if resource.after_write is not None:
        resource.after_write(session, row)
    start_versioning(session, resource.name, row.id, principal)
    record(session, principal, f"{resource.name}.create", resource.name, row.id, now)
    return row


def update_item(
    session: Session,
    resource: Resource,
    row: Any,
    patch: BaseModel,
    expected_version: int,
    principal: Principal,
    now: datetime,
) -> Any:
    data = schemas.merged(resource.create, writable_state(resource, row), patch)
    bump_version(session, resource.name, row.id, expected_version)
    values = _column_values(resource, data)
    _ensure_slug_free(session, resource, values["slug"], row.id)
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_at = now
    _flush_or_conflict(session, resource, values["slug"])
    if resource.after_write is not None:
        resource.after_write(session, row)
    if resource.in_search_text:
        _reindex_articles_linked(session, resource, row.id, now)
    record(session, principal, f"{resource.name}.update", resource.name, row.id, now)
    return row


def _linked_article_ids(session: Session, resource: Resource, item_id: str) -> list[str]:
    return list(
        session.scalars(
            select(resource.link_model.article_id).where(resource.link_column == item_id).distinct()
        )
    )


def _reindex_articles_linked(
    session: Session, resource: Resource, item_id: str, now: datetime
) -> None:
    ids = _linked_article_ids(session, resource, item_id)
    if ids:
        session.execute(update(Article).where(col(Article.id).in_(ids)).values(updated_at=now))
        session.flush()
        reindex_article_ids(session, ids)


def delete_item(
    session: Session,
    resource: Resource,
    row: Any,
    *,
    force: bool,
    principal: Principal,
    now: datetime,
) -> None:
    """Delete an item; one still used by articles needs `force` (which detaches it)."""
    ids = _linked_article_ids(session, resource, row.id)
    if ids and not force:
        slugs = session.scalars(
            select(col(Article.slug)).where(col(Article.id).in_(ids)).order_by(col(Article.slug))
        ).all()
        shown = ", ".join(slugs[:10]) + (f" and {len(slugs) - 10} more" if len(slugs) > 10 else "")
        raise Conflict(
            f"The {resource.name} `{row.slug}` is used by {len(slugs)} article(s): {shown}. "
            "Pass `?force=true` to detach it from them and delete it."
        )
    session.execute(delete(resource.link_model).where(resource.link_column == row.id))
    if ids:
        session.execute(update(Article).where(col(Article.id).in_(ids)).values(updated_at=now))
        session.flush()
        if resource.in_search_text:
            reindex_article_ids(session, ids)
    session.execute(
        delete(EntityVersion).where(
            col(EntityVersion.entity_type) == resource.name,
            col(EntityVersion.entity_id) == row.id,
        )
    )
    session.delete(row)
    session.flush()
    record(session, principal, f"{resource.name}.delete", resource.name, row.id, now)

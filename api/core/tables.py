"""Typed handles on what SQLModel's classes do not declare for a type checker: the table a
model maps, and a relationship as the ORM attribute it is at run time."""

from typing import Any, cast

from sqlalchemy import Table, inspect
from sqlalchemy.orm import QueryableAttribute
from sqlmodel import SQLModel


def table_of(model: type[SQLModel]) -> Table:
    """The table a model maps, for Core statements (SQLModel declares no `__table__`)."""
    return cast(Table, inspect(model).local_table)


def relationship_attribute(attribute: object) -> QueryableAttribute[Any]:
    """A relationship such as `Article.tags`, which SQLModel types as its value (a list), as
    the attribute a loader option (`selectinload`) takes."""
    if not isinstance(attribute, QueryableAttribute):
        raise TypeError(f"Not a mapped relationship: {attribute!r}")
    return attribute

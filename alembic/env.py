"""Alembic environment: the URL comes from Masthead's settings unless the caller sets one."""

from typing import Any

from alembic import context
from sqlalchemy import Connection

import api.models  # noqa: F401  (registers every table)
from api.core.db import make_engine, metadata
from api.core.settings import load_settings

config = context.config

# Tables made by raw SQL in migrations (full-text search) that the models do not describe.
UNMODELLED_TABLE_PREFIXES = ("article_search",)


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    if type_ == "table" and name and name.startswith(UNMODELLED_TABLE_PREFIXES):
        return False
    table = getattr(obj, "table", None)
    return not (table is not None and table.name.startswith(UNMODELLED_TABLE_PREFIXES))


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_with(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or load_settings().database_url
    engine = make_engine(load_settings(database_url=url))
    try:
        with engine.connect() as connection:
            run_with(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Masthead migrations run online only (masthead db upgrade).")
run_migrations_online()

"""tag publication order: article_tags carries its article's published_at, kept by triggers

`?tag=` walked every article of the tag, then sorted them: its cost grew with the tag's
size. With the publication time on the link rows, an index on (tag_id, published_at,
article_id) yields one tag's articles newest first and a page stops after `limit` visible
ones. Triggers copy the time on every link insert and every change of an article's
published_at, so no write path can leave it stale.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_TRIGGERS = (
    # A link row gets its article's time (the WHEN spares the update when the writer gave it).
    "CREATE TRIGGER trg_article_tags_published AFTER INSERT ON article_tags "
    "WHEN NEW.published_at IS NOT (SELECT published_at FROM articles WHERE id = NEW.article_id) "
    "BEGIN UPDATE article_tags SET published_at = "
    "(SELECT published_at FROM articles WHERE id = NEW.article_id) "
    "WHERE article_id = NEW.article_id AND tag_id = NEW.tag_id; END",
    "CREATE TRIGGER trg_articles_published_tags AFTER UPDATE OF published_at ON articles "
    "WHEN NEW.published_at IS NOT OLD.published_at "
    "BEGIN UPDATE article_tags SET published_at = NEW.published_at "
    "WHERE article_id = NEW.id; END",
)
PG_STATEMENTS = (
    "CREATE FUNCTION masthead_article_tags_published() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN NEW.published_at := (SELECT published_at FROM articles WHERE id = NEW.article_id); "
    "RETURN NEW; END $$",
    "CREATE TRIGGER trg_article_tags_published BEFORE INSERT OR UPDATE ON article_tags "
    "FOR EACH ROW EXECUTE FUNCTION masthead_article_tags_published()",
    "CREATE FUNCTION masthead_articles_published_tags() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN UPDATE article_tags SET published_at = NEW.published_at WHERE article_id = NEW.id; "
    "RETURN NULL; END $$",
    "CREATE TRIGGER trg_articles_published_tags AFTER UPDATE OF published_at ON articles "
    "FOR EACH ROW WHEN (OLD.published_at IS DISTINCT FROM NEW.published_at) "
    "EXECUTE FUNCTION masthead_articles_published_tags()",
)


def upgrade() -> None:
    # Plain ALTER TABLE, not a batch: rebuilding the table would drop its change-log triggers.
    op.add_column("article_tags", sa.Column("published_at", sa.DateTime(timezone=True)))
    op.create_index(
        "ix_article_tags_tag_published", "article_tags", ["tag_id", "published_at", "article_id"]
    )
    op.execute(
        "UPDATE article_tags SET published_at = "
        "(SELECT published_at FROM articles WHERE articles.id = article_tags.article_id)"
    )
    for statement in SQLITE_TRIGGERS if op.get_bind().dialect.name == "sqlite" else PG_STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS trg_articles_published_tags" + _on("articles"))
    op.execute("DROP TRIGGER IF EXISTS trg_article_tags_published" + _on("article_tags"))
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP FUNCTION IF EXISTS masthead_articles_published_tags()")
        op.execute("DROP FUNCTION IF EXISTS masthead_article_tags_published()")
    op.drop_index("ix_article_tags_tag_published", table_name="article_tags")
    op.drop_column("article_tags", "published_at")


def _on(table: str) -> str:
    return "" if op.get_bind().dialect.name == "sqlite" else f" ON {table}"

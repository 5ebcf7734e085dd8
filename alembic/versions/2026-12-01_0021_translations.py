"""translations: articles (and pages) in different languages form a translation group

`articles.translation_group` is an opaque id the members of a group share (null: the
article has no translations). The partial unique index allows one live (not deleted)
member per language in a group; the other index is how a list finds a story's visible
versions (led by the group, so the planner never prefers walking every visible article).
A plain ALTER TABLE: rebuilding `articles` on SQLite would drop its triggers.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE_TRANSLATION = sa.text("translation_group IS NOT NULL AND deleted_at IS NULL")
TRANSLATED = sa.text("translation_group IS NOT NULL")


def upgrade() -> None:
    op.add_column("articles", sa.Column("translation_group", sa.String(length=32), nullable=True))
    op.create_index(
        "ix_articles_translation_lang",
        "articles",
        ["translation_group", "lang"],
        unique=True,
        sqlite_where=LIVE_TRANSLATION,
        postgresql_where=LIVE_TRANSLATION,
    )
    op.create_index(
        "ix_articles_translation_visible",
        "articles",
        ["translation_group", "kind", "status", "deleted_at", "published_at"],
        sqlite_where=TRANSLATED,
        postgresql_where=TRANSLATED,
    )


def downgrade() -> None:
    op.drop_index("ix_articles_translation_visible", table_name="articles")
    op.drop_index("ix_articles_translation_lang", table_name="articles")
    op.drop_column("articles", "translation_group")

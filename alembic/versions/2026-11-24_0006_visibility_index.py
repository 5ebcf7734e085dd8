"""visibility index: counts and filters check an article's visibility without its row

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_articles_visible_id", "articles", ["id", "status", "published_at", "deleted_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_articles_visible_id", table_name="articles")

"""cited links: each cited URL checked once, whatever cites it; citations name their link

`cited_links` holds one row per normalised cited URL (its id a hash of that URL): what the
link checker last found and the archived copy an editor attached. `citations.link_id`
names a citation's row. It is not a foreign key: SQLite cannot add one to an existing table
without rebuilding it, and rebuilding `citations` would drop its change-log triggers (plain
ALTER TABLE here). Citations already stored are linked by the checker's first passes
(`ix_citations_unlinked` finds them), since the URLs are normalised in Python.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNLINKED = sa.text("link_id IS NULL AND cited_url IS NOT NULL")


def upgrade() -> None:
    op.create_table(
        "cited_links",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("last_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("archived_url", sa.String(length=2048), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cited_links")),
    )
    op.create_index("ix_cited_links_due", "cited_links", ["next_check_at", "id"])
    op.create_index("ix_cited_links_status", "cited_links", ["status", "id"])
    op.add_column("citations", sa.Column("link_id", sa.String(length=32), nullable=True))
    op.create_index("ix_citations_link_id", "citations", ["link_id", "article_id"])
    op.create_index(
        "ix_citations_unlinked",
        "citations",
        ["id"],
        sqlite_where=UNLINKED,
        postgresql_where=UNLINKED,
    )


def downgrade() -> None:
    op.drop_index("ix_citations_unlinked", table_name="citations")
    op.drop_index("ix_citations_link_id", table_name="citations")
    op.drop_column("citations", "link_id")
    op.drop_index("ix_cited_links_status", table_name="cited_links")
    op.drop_index("ix_cited_links_due", table_name="cited_links")
    op.drop_table("cited_links")

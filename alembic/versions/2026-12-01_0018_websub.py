"""websub: the pings a WebSub hub is owed, and what it was last told

- `websub_pings`: the durable outbox, one row per feed URL, made pending again by each
  change to the feed (`requested` counts the asks, so a change during a send is not lost);
- `websub_article_topics`: the feeds (topics) each published article was in at the last
  pass, so a change pings the feeds it left as well as those it is in;
- `websub_cursor`: the change-log version the passes have reached (one row, locked).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "websub_cursor",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_version", sa.BigInteger(), nullable=False),
        sa.Column("last_scan_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_websub_cursor")),
    )
    op.create_table(
        "websub_article_topics",
        sa.Column("article_id", sa.String(length=32), nullable=False),
        sa.Column("topic", sa.String(length=250), nullable=False),
        sa.PrimaryKeyConstraint("article_id", "topic", name=op.f("pk_websub_article_topics")),
    )
    op.create_table(
        "websub_pings",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("topic", sa.String(length=2048), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_websub_pings")),
        sa.UniqueConstraint("topic", name=op.f("uq_websub_pings_topic")),
    )
    op.create_index("ix_websub_pings_due", "websub_pings", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_websub_pings_due", table_name="websub_pings")
    op.drop_table("websub_pings")
    op.drop_table("websub_article_topics")
    op.drop_table("websub_cursor")

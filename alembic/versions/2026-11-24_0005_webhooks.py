"""webhooks: hooks, the delivery outbox, and the event dispatcher's cursor and article state

Events are derived from the change log: `webhook_cursor` (one row) holds the last version
turned into events and when the clock was last scanned for scheduled publications;
`webhook_article_state` holds what subscribers were last told about each article. Both start
from the current content, so installing webhooks does not replay history as events.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webhooks",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.String(length=500), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("webhook_id", sa.String(length=32), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["webhook_id"],
            ["webhooks.id"],
            name=op.f("fk_webhook_deliveries_webhook_id_webhooks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
    )
    op.create_index(
        "ix_webhook_deliveries_due", "webhook_deliveries", ["status", "next_attempt_at"]
    )
    op.create_index(
        "ix_webhook_deliveries_webhook", "webhook_deliveries", ["webhook_id", "created_at", "id"]
    )
    cursor = op.create_table(
        "webhook_cursor",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_version", sa.BigInteger(), nullable=False),
        sa.Column("last_scan_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_cursor")),
    )
    state = op.create_table(
        "webhook_article_state",
        sa.Column("article_id", sa.String(length=32), nullable=False),
        sa.Column("was_visible", sa.Boolean(), nullable=False),
        sa.Column("slug", sa.String(length=200), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_webhook_article_state")),
    )
    bind = op.get_bind()
    now = datetime.now(UTC)
    if bind.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # SQLite keeps naive UTC, as the models do
    version = bind.execute(sa.text("SELECT version FROM content_version WHERE id = 1")).scalar()
    bind.execute(cursor.insert().values(id=1, last_version=version or 0, last_scan_at=now))
    # Existing articles as subscribers would know them; an unknown fingerprint (NULL) makes
    # the next change to a visible article an `article.updated`.
    articles = sa.table(
        "articles",
        sa.column("id", sa.String),
        sa.column("slug", sa.String),
        sa.column("status", sa.String),
        sa.column("deleted_at", sa.DateTime),
        sa.column("published_at", sa.DateTime),
    )
    is_visible = sa.and_(
        articles.c.status == "published",
        articles.c.deleted_at.is_(None),
        articles.c.published_at <= sa.bindparam("now", now, type_=sa.DateTime),
    )
    bind.execute(
        state.insert().from_select(
            ["article_id", "was_visible", "slug", "fingerprint"],
            sa.select(
                articles.c.id,
                sa.case((is_visible, sa.true()), else_=sa.false()),
                articles.c.slug,
                sa.null(),
            ),
        )
    )


def downgrade() -> None:
    op.drop_table("webhook_article_state")
    op.drop_table("webhook_cursor")
    op.drop_index("ix_webhook_deliveries_webhook", table_name="webhook_deliveries")
    op.drop_index("ix_webhook_deliveries_due", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhooks")

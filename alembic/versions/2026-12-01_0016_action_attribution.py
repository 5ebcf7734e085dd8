"""action attribution, conversions and goals

Actions say how their destination attributes traffic (`attribution`, with a template for
the code) and may have a goal (`goal_kind`, `goal_target`, `goal_currency`, whether reaching
it closes them, an editor's figure) and the progress counted here. Clicks are counted per
placement too, with the distinct readers of each day, told apart by a keyed hash with a
daily salt (`reader_salts`, `reader_sightings`: one day's worth, deleted the next day).
Attribution codes handed out are kept to match conversions back; conversions are counted
per action, article, placement, day and currency, and provider event ids are kept so a
replayed delivery counts nothing. Nothing personal is stored.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTION_COLUMNS = (
    "progress_counted",
    "progress_override",
    "close_on_goal",
    "goal_currency",
    "goal_target",
    "goal_kind",
    "attribution_template",
    "attribution",
)


def upgrade() -> None:
    op.add_column(
        "actions",
        sa.Column("attribution", sa.String(length=16), server_default="none", nullable=False),
    )
    op.add_column("actions", sa.Column("attribution_template", sa.String(length=100)))
    op.add_column("actions", sa.Column("goal_kind", sa.String(length=16)))
    op.add_column("actions", sa.Column("goal_target", sa.BigInteger()))
    op.add_column("actions", sa.Column("goal_currency", sa.String(length=3)))
    op.add_column(
        "actions",
        sa.Column("close_on_goal", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column("actions", sa.Column("progress_override", sa.BigInteger()))
    op.add_column(
        "actions",
        sa.Column("progress_counted", sa.BigInteger(), server_default="0", nullable=False),
    )

    # Existing counts keep their rows, under no placement ('').
    with op.batch_alter_table("action_clicks", recreate="auto") as batch:
        batch.add_column(
            sa.Column("placement", sa.String(length=16), server_default="", nullable=False)
        )
        batch.add_column(sa.Column("readers", sa.BigInteger(), server_default="0", nullable=False))
        batch.drop_constraint("pk_action_clicks", type_="primary")
        batch.create_primary_key(
            "pk_action_clicks", ["action_id", "article_id", "placement", "day"]
        )
    op.create_index("ix_action_clicks_action_day", "action_clicks", ["action_id", "day"])
    op.create_index("ix_action_clicks_article_day", "action_clicks", ["article_id", "day"])

    op.create_table(
        "reader_salts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("salt", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_reader_salts")),
    )
    op.create_table(
        "reader_sightings",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("digest", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("day", "digest", name=op.f("pk_reader_sightings")),
    )
    op.create_table(
        "attribution_codes",
        sa.Column("code", sa.String(length=100), nullable=False),
        sa.Column("action_id", sa.String(length=32), nullable=False),
        sa.Column("article_id", sa.String(length=32), nullable=False),
        sa.Column("placement", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["actions.id"],
            name=op.f("fk_attribution_codes_action_id_actions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_attribution_codes")),
    )
    op.create_index("ix_attribution_codes_action_id", "attribution_codes", ["action_id"])
    op.create_table(
        "action_conversions",
        sa.Column("action_id", sa.String(length=32), nullable=False),
        sa.Column("article_id", sa.String(length=32), nullable=False),
        sa.Column("placement", sa.String(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("conversions", sa.BigInteger(), nullable=False),
        sa.Column("refunds", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["actions.id"],
            name=op.f("fk_action_conversions_action_id_actions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "action_id",
            "article_id",
            "placement",
            "day",
            "currency",
            name=op.f("pk_action_conversions"),
        ),
    )
    op.create_index("ix_action_conversions_action_day", "action_conversions", ["action_id", "day"])
    op.create_index(
        "ix_action_conversions_article_day", "action_conversions", ["article_id", "day"]
    )
    op.create_table(
        "conversion_events",
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("provider", "event_id", name=op.f("pk_conversion_events")),
    )


def downgrade() -> None:
    op.drop_table("conversion_events")
    op.drop_index("ix_action_conversions_article_day", table_name="action_conversions")
    op.drop_index("ix_action_conversions_action_day", table_name="action_conversions")
    op.drop_table("action_conversions")
    op.drop_index("ix_attribution_codes_action_id", table_name="attribution_codes")
    op.drop_table("attribution_codes")
    op.drop_table("reader_sightings")
    op.drop_table("reader_salts")

    # Clicks of every placement fold back into one row per action, article and day.
    bind = op.get_bind()
    folded = bind.execute(
        sa.text(
            "SELECT action_id, article_id, day, SUM(clicks) AS clicks FROM action_clicks "
            "GROUP BY action_id, article_id, day"
        )
    ).all()
    op.execute("DELETE FROM action_clicks")
    op.drop_index("ix_action_clicks_article_day", table_name="action_clicks")
    op.drop_index("ix_action_clicks_action_day", table_name="action_clicks")
    with op.batch_alter_table("action_clicks", recreate="auto") as batch:
        batch.drop_constraint("pk_action_clicks", type_="primary")
        batch.drop_column("readers")
        batch.drop_column("placement")
        batch.create_primary_key("pk_action_clicks", ["action_id", "article_id", "day"])
    if folded:
        clicks = sa.table(
            "action_clicks",
            sa.column("action_id"),
            sa.column("article_id"),
            sa.column("day"),
            sa.column("clicks"),
        )
        op.bulk_insert(clicks, [dict(row._mapping) for row in folded])

    for name in ACTION_COLUMNS:
        op.drop_column("actions", name)

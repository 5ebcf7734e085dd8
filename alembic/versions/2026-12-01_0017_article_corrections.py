"""article corrections: the public notes of corrections, clarifications and retractions

One row per note, deleted with its article. `published_at` is when the note was made
public; `amended_at` when its wording was last changed. Read per article in order (every
article shape shows its notes) and latest first (feeds re-send recently corrected articles).

A note is part of its article: the change-log triggers of 0003 log every write to the table
as a change of the article (`masthead_log_changes` on PostgreSQL), so the content version,
and with it every cached response, delta sync and webhook comparison, moves with it.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVENTS = ("INSERT", "UPDATE", "DELETE")


def _trigger_name(event: str) -> str:
    return f"trg_article_corrections_{event.lower()}_log"


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    op.create_table(
        "article_corrections",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("article_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("token_name", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_article_corrections_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article_corrections")),
    )
    op.create_index(
        "ix_article_corrections_article",
        "article_corrections",
        ["article_id", "published_at", "id"],
    )
    op.create_index(
        "ix_article_corrections_published", "article_corrections", ["published_at", "article_id"]
    )
    for event in EVENTS:
        if _sqlite():  # as 0003's row triggers on the link tables
            row = "OLD" if event == "DELETE" else "NEW"
            op.execute(
                f"CREATE TRIGGER {_trigger_name(event)} AFTER {event} ON article_corrections "
                "BEGIN "
                "UPDATE content_version SET version = version + 1 WHERE id = 1; "
                "INSERT INTO change_log (version, entity, entity_id, op, changed_at) VALUES ("
                "(SELECT version FROM content_version WHERE id = 1), "
                f"'article', {row}.article_id, 'upsert', "
                "strftime('%Y-%m-%d %H:%M:%f', 'now')); "
                "END"
            )
        else:
            transition = "OLD TABLE AS old_rows" if event == "DELETE" else "NEW TABLE AS new_rows"
            op.execute(
                f"CREATE TRIGGER {_trigger_name(event)} AFTER {event} ON article_corrections "
                f"REFERENCING {transition} FOR EACH STATEMENT EXECUTE FUNCTION "
                "masthead_log_changes('article', 'article_id', 'link')"
            )


def downgrade() -> None:
    for event in EVENTS:
        op.execute(
            f"DROP TRIGGER IF EXISTS {_trigger_name(event)}"
            + ("" if _sqlite() else " ON article_corrections")
        )
    op.drop_index("ix_article_corrections_published", table_name="article_corrections")
    op.drop_index("ix_article_corrections_article", table_name="article_corrections")
    op.drop_table("article_corrections")

"""change log: a content version and a change log kept by triggers; action click counts

Every transaction writing to a content table (or to an article's relations) bumps the
single content_version row once and appends to change_log. The row lock on
content_version orders versions by commit, so a reader that saw version N has seen every
change up to N. Triggers, not application code, so no write path can forget.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> (entity logged, column holding the entity id, whether the row IS the entity)
TRACKED = {
    "articles": ("article", "id", True),
    "tags": ("tag", "id", True),
    "sources": ("source", "id", True),
    "actions": ("action", "id", True),
    "authors": ("author", "id", True),
    "article_tags": ("article", "article_id", False),
    "article_authors": ("article", "article_id", False),
    "article_actions": ("article", "article_id", False),
    "citations": ("article", "article_id", False),
}
EVENTS = ("INSERT", "UPDATE", "DELETE")

PG_FUNCTION = """
CREATE FUNCTION masthead_log_changes() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v bigint;
  kind text := CASE WHEN TG_OP = 'DELETE' AND TG_ARGV[2] = 'self' THEN 'delete' ELSE 'upsert' END;
BEGIN
  -- One bump per transaction: later statements reuse it (a bulk import is one version, and
  -- the single row is not updated thousands of times). The row lock is held to commit.
  v := nullif(current_setting('masthead.content_version', true), '')::bigint;
  IF v IS NULL THEN
    UPDATE content_version SET version = version + 1 WHERE id = 1 RETURNING version INTO v;
    PERFORM set_config('masthead.content_version', v::text, true);
  END IF;
  EXECUTE format(
    'INSERT INTO change_log (version, entity, entity_id, op, changed_at) '
    'SELECT $1, $2, %I, $3, now() FROM %I',
    TG_ARGV[1],
    CASE WHEN TG_OP = 'DELETE' THEN 'old_rows' ELSE 'new_rows' END
  ) USING v, TG_ARGV[0], kind;
  RETURN NULL;
END $$
"""


def _trigger_name(table: str, event: str) -> str:
    return f"trg_{table}_{event.lower()}_log"


def upgrade() -> None:
    op.create_table(
        "content_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_version")),
    )
    op.execute("INSERT INTO content_version (id, version) VALUES (1, 0)")
    op.create_table(
        "change_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("entity", sa.String(length=16), nullable=False),
        sa.Column("entity_id", sa.String(length=32), nullable=False),
        sa.Column("op", sa.String(length=8), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_log")),
    )
    op.create_index("ix_change_log_version", "change_log", ["version", "entity"])
    op.create_table(
        "action_clicks",
        sa.Column("action_id", sa.String(length=32), nullable=False),
        sa.Column("article_id", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("clicks", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["actions.id"],
            name=op.f("fk_action_clicks_action_id_actions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("action_id", "article_id", "day", name=op.f("pk_action_clicks")),
    )
    if op.get_bind().dialect.name == "sqlite":
        for table, (entity, column, is_self) in TRACKED.items():
            for event in EVENTS:
                row = "OLD" if event == "DELETE" else "NEW"
                kind = "delete" if event == "DELETE" and is_self else "upsert"
                op.execute(
                    f"CREATE TRIGGER {_trigger_name(table, event)} AFTER {event} ON {table} "
                    "BEGIN "
                    "UPDATE content_version SET version = version + 1 WHERE id = 1; "
                    "INSERT INTO change_log (version, entity, entity_id, op, changed_at) VALUES ("
                    "(SELECT version FROM content_version WHERE id = 1), "
                    f"'{entity}', {row}.{column}, '{kind}', "
                    "strftime('%Y-%m-%d %H:%M:%f', 'now')); "
                    "END"
                )
        return
    op.execute(PG_FUNCTION)
    for table, (entity, column, is_self) in TRACKED.items():
        for event in EVENTS:
            transition = "OLD TABLE AS old_rows" if event == "DELETE" else "NEW TABLE AS new_rows"
            op.execute(
                f"CREATE TRIGGER {_trigger_name(table, event)} AFTER {event} ON {table} "
                f"REFERENCING {transition} FOR EACH STATEMENT EXECUTE FUNCTION "
                f"masthead_log_changes('{entity}', '{column}', '{'self' if is_self else 'link'}')"
            )


def downgrade() -> None:
    for table in TRACKED:
        for event in EVENTS:
            if op.get_bind().dialect.name == "sqlite":
                op.execute(f"DROP TRIGGER IF EXISTS {_trigger_name(table, event)}")
            else:
                op.execute(f"DROP TRIGGER IF EXISTS {_trigger_name(table, event)} ON {table}")
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP FUNCTION IF EXISTS masthead_log_changes()")
    op.drop_table("action_clicks")
    op.drop_index("ix_change_log_version", table_name="change_log")
    op.drop_table("change_log")
    op.drop_table("content_version")

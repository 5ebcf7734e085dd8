"""unlinked targets logged: removing a link also logs the tag, source or author it named

The change log names the article when one of its link rows changes, and a delta sync
re-sends the tags, sources and authors an article links to now (their `article_count`
may have changed). A removed link is gone by then: nothing said which tag lost an
article, so a delta client kept its old count. These triggers log the target of every
deleted link row as `tag_link`, `source_link` or `author_link` (op `unlink`); the sync
re-sends that tag, source or author, and the webhook dispatcher, which reads only the
entities it knows, ignores them. Link rows are never updated to another target (writes
delete and insert them), so deletions are all there is to log.

PostgreSQL logs each target once per statement (a forced tag delete detaches thousands
of articles in one statement); SQLite's row triggers log and bump per row, as the
triggers of 0003 do.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# link table -> (entity logged, column holding the target's id)
LINKS = {
    "article_tags": ("tag_link", "tag_id"),
    "citations": ("source_link", "source_id"),
    "article_authors": ("author_link", "author_id"),
}

PG_FUNCTION = """
CREATE FUNCTION masthead_log_unlinked() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v bigint;
BEGIN
  -- The transaction's version, as masthead_log_changes hands it out (0003).
  v := nullif(current_setting('masthead.content_version', true), '')::bigint;
  IF v IS NULL THEN
    UPDATE content_version SET version = version + 1 WHERE id = 1 RETURNING version INTO v;
    PERFORM set_config('masthead.content_version', v::text, true);
  END IF;
  EXECUTE format(
    'INSERT INTO change_log (version, entity, entity_id, op, changed_at) '
    'SELECT DISTINCT $1, $2, %I, ''unlink'', now() FROM old_rows',
    TG_ARGV[1]
  ) USING v, TG_ARGV[0];
  RETURN NULL;
END $$
"""


def _trigger_name(table: str) -> str:
    return f"trg_{table}_delete_unlink"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table, (entity, column) in LINKS.items():
            op.execute(
                f"CREATE TRIGGER {_trigger_name(table)} AFTER DELETE ON {table} "
                "BEGIN "
                "UPDATE content_version SET version = version + 1 WHERE id = 1; "
                "INSERT INTO change_log (version, entity, entity_id, op, changed_at) VALUES ("
                "(SELECT version FROM content_version WHERE id = 1), "
                f"'{entity}', OLD.{column}, 'unlink', "
                "strftime('%Y-%m-%d %H:%M:%f', 'now')); "
                "END"
            )
        return
    op.execute(PG_FUNCTION)
    for table, (entity, column) in LINKS.items():
        op.execute(
            f"CREATE TRIGGER {_trigger_name(table)} AFTER DELETE ON {table} "
            "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "
            f"masthead_log_unlinked('{entity}', '{column}')"
        )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in LINKS:
        op.execute(
            f"DROP TRIGGER IF EXISTS {_trigger_name(table)}" + ("" if sqlite else f" ON {table}")
        )
    if not sqlite:
        op.execute("DROP FUNCTION IF EXISTS masthead_log_unlinked()")
    # The previous revision's readers know only the entities of 0003.
    entities = ", ".join(f"'{entity}'" for entity, _column in LINKS.values())
    op.execute(f"DELETE FROM change_log WHERE entity IN ({entities})")

"""article counts: each tag's, source's and author's published articles, kept by triggers

`article_count` was counted per read (a page of 100 tags counted every article of each).
Now triggers keep, with every write that changes an article's state or links:
- `counted_links`: one row per (tag, source or author; article) for each published, not
  deleted article of kind 'article' (an article citing a source twice is one row), with
  the article's publication time;
- `article_counts`: how many such rows each target has.

A scheduled article is counted from the moment it is published (no write marks the time
it comes out). A read at time t takes the stored count minus the target's rows published
after t: an index range on (entity, target_id, published_at), empty but for the articles
still to come out. So counts are exact at every moment, on every worker, with no job run
when a scheduled article's time comes, and a read never counts articles.

Triggers, as for the change log (0003): no write path (the editing API, a forced tag
delete, a bundle import, the Ghost and WordPress importers, a hard delete cascading to the
links) can forget them. SQLite's are row triggers; PostgreSQL's are statement triggers over
transition tables (a bulk import is a few set statements, not one per link row), and each
first takes the content version's row lock, which every content write holds to commit
(0003): the articles and links it reads are then those committed before its turn, so two
writers (one linking a tag to an article, one publishing that article) cannot both miss
the pair.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# link table -> (entity counted, column naming the target)
LINKS = {
    "article_tags": ("tag", "tag_id"),
    "citations": ("source", "source_id"),
    "article_authors": ("author", "author_id"),
}


def counted(row: str) -> str:
    """The article row `row` counts: a published, not deleted article (pages never)."""
    return (
        f"({row}.kind = 'article' AND {row}.status = 'published' "
        f"AND {row}.deleted_at IS NULL AND {row}.published_at IS NOT NULL)"
    )


def _backfill() -> list[str]:
    statements = [
        "INSERT INTO counted_links (entity, target_id, article_id, published_at) "
        f"SELECT DISTINCT '{entity}', l.{column}, a.id, a.published_at "
        f"FROM {table} l JOIN articles a ON a.id = l.article_id WHERE {counted('a')}"
        for table, (entity, column) in LINKS.items()
    ]
    statements.append(
        "INSERT INTO article_counts (entity, target_id, article_count) "
        "SELECT entity, target_id, count(*) FROM counted_links GROUP BY entity, target_id"
    )
    return statements


# --- SQLite: row triggers ------------------------------------------------------------------


def _sqlite_link_added(table: str, entity: str, column: str) -> str:
    return (
        "INSERT INTO counted_links (entity, target_id, article_id, published_at) "
        f"SELECT '{entity}', NEW.{column}, a.id, a.published_at FROM articles a "
        f"WHERE a.id = NEW.article_id AND {counted('a')} AND NOT EXISTS ("
        f"SELECT 1 FROM counted_links c WHERE c.entity = '{entity}' "
        f"AND c.target_id = NEW.{column} AND c.article_id = NEW.article_id);"
    )


def _sqlite_link_removed(table: str, entity: str, column: str) -> str:
    # A source cited twice by one article stays counted while one citation is left.
    return (
        f"DELETE FROM counted_links WHERE entity = '{entity}' AND target_id = OLD.{column} "
        f"AND article_id = OLD.article_id AND NOT EXISTS (SELECT 1 FROM {table} l "
        f"WHERE l.{column} = OLD.{column} AND l.article_id = OLD.article_id);"
    )


def _sqlite_links_of(row: str) -> str:
    return " ".join(
        "INSERT INTO counted_links (entity, target_id, article_id, published_at) "
        f"SELECT DISTINCT '{entity}', l.{column}, {row}.id, {row}.published_at FROM {table} l "
        f"WHERE l.article_id = {row}.id AND NOT EXISTS (SELECT 1 FROM counted_links c "
        f"WHERE c.entity = '{entity}' AND c.target_id = l.{column} AND c.article_id = {row}.id);"
        for table, (entity, column) in LINKS.items()
    )


def _sqlite_triggers() -> dict[str, str]:
    """trigger name -> its CREATE statement."""
    triggers: dict[str, str] = {}
    for table, (entity, column) in LINKS.items():
        added = _sqlite_link_added(table, entity, column)
        removed = _sqlite_link_removed(table, entity, column)
        triggers[f"trg_{table}_insert_count"] = f"AFTER INSERT ON {table} BEGIN {added} END"
        triggers[f"trg_{table}_delete_count"] = f"AFTER DELETE ON {table} BEGIN {removed} END"
        # Writes delete and insert link rows (0010); a row pointed elsewhere is both.
        triggers[f"trg_{table}_update_count"] = (
            f"AFTER UPDATE OF {column}, article_id ON {table} "
            f"WHEN OLD.{column} IS NOT NEW.{column} OR OLD.article_id IS NOT NEW.article_id "
            f"BEGIN {removed} {added} END"
        )
    state = "AFTER UPDATE OF kind, status, deleted_at, published_at ON articles"
    triggers["trg_articles_update_count_gone"] = (
        f"{state} WHEN {counted('OLD')} AND NOT {counted('NEW')} "
        "BEGIN DELETE FROM counted_links WHERE article_id = NEW.id; END"
    )
    triggers["trg_articles_update_count_came"] = (
        f"{state} WHEN NOT {counted('OLD')} AND {counted('NEW')} "
        f"BEGIN {_sqlite_links_of('NEW')} END"
    )
    triggers["trg_articles_update_count_moved"] = (
        f"{state} WHEN {counted('OLD')} AND {counted('NEW')} "
        "AND OLD.published_at IS NOT NEW.published_at "
        "BEGIN UPDATE counted_links SET published_at = NEW.published_at "
        "WHERE article_id = NEW.id; END"
    )
    triggers["trg_articles_delete_count"] = (
        "AFTER DELETE ON articles BEGIN DELETE FROM counted_links WHERE article_id = OLD.id; END"
    )
    triggers["trg_counted_links_insert_total"] = (
        "AFTER INSERT ON counted_links BEGIN "
        "INSERT INTO article_counts (entity, target_id, article_count) "
        "SELECT NEW.entity, NEW.target_id, 0 WHERE NOT EXISTS (SELECT 1 FROM article_counts "
        "WHERE entity = NEW.entity AND target_id = NEW.target_id); "
        "UPDATE article_counts SET article_count = article_count + 1 "
        "WHERE entity = NEW.entity AND target_id = NEW.target_id; END"
    )
    triggers["trg_counted_links_delete_total"] = (
        "AFTER DELETE ON counted_links BEGIN "
        "UPDATE article_counts SET article_count = article_count - 1 "
        "WHERE entity = OLD.entity AND target_id = OLD.target_id; "
        "DELETE FROM article_counts WHERE entity = OLD.entity AND target_id = OLD.target_id "
        "AND article_count <= 0; END"
    )
    return {name: f"CREATE TRIGGER {name} {body}" for name, body in triggers.items()}


# --- PostgreSQL: statement triggers over transition tables -------------------------------

PG_TURN = (
    "-- Content writes take turns on this row (0003); what is read after it is what was\n"
    "  -- committed before this transaction's turn.\n"
    "  PERFORM 1 FROM content_version WHERE id = 1 FOR UPDATE;"
)
PG_LINKS_FUNCTION = f"""
CREATE FUNCTION masthead_count_links() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {PG_TURN}
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    EXECUTE format(
      'DELETE FROM counted_links c USING (SELECT DISTINCT %1$I AS target_id, article_id '
      'FROM old_rows) o WHERE c.entity = $1 AND c.target_id = o.target_id '
      'AND c.article_id = o.article_id AND NOT EXISTS (SELECT 1 FROM %2$I l '
      'WHERE l.%1$I = o.target_id AND l.article_id = o.article_id)',
      TG_ARGV[1], TG_TABLE_NAME
    ) USING TG_ARGV[0];
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    EXECUTE format(
      'INSERT INTO counted_links (entity, target_id, article_id, published_at) '
      'SELECT DISTINCT $1, n.%1$I, a.id, a.published_at FROM new_rows n '
      'JOIN articles a ON a.id = n.article_id WHERE {counted("a").replace("'", "''")} '
      'ON CONFLICT DO NOTHING',
      TG_ARGV[1]
    ) USING TG_ARGV[0];
  END IF;
  RETURN NULL;
END $$
"""
PG_LINKS_OF_CAME = " UNION ".join(
    f"SELECT '{entity}', l.{column}, n.id, n.published_at FROM {table} l "
    "JOIN came n ON n.id = l.article_id"
    for table, (entity, column) in LINKS.items()
)
PG_ARTICLES_FUNCTION = f"""
CREATE FUNCTION masthead_count_articles() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {PG_TURN}
  IF TG_OP = 'DELETE' THEN
    DELETE FROM counted_links c USING old_rows o WHERE c.article_id = o.id;
    RETURN NULL;
  END IF;
  DELETE FROM counted_links c USING new_rows n WHERE c.article_id = n.id AND NOT {counted("n")};
  UPDATE counted_links c SET published_at = n.published_at FROM new_rows n
    WHERE c.article_id = n.id AND {counted("n")} AND c.published_at <> n.published_at;
  WITH came AS (
    SELECT n.id, n.published_at FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE {counted("n")} AND NOT {counted("o")}
  )
  INSERT INTO counted_links (entity, target_id, article_id, published_at)
    {PG_LINKS_OF_CAME}
    ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$
"""
PG_TOTALS_FUNCTION = """
CREATE FUNCTION masthead_count_totals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO article_counts (entity, target_id, article_count)
      SELECT entity, target_id, count(*) FROM new_rows GROUP BY entity, target_id
      ON CONFLICT (entity, target_id)
      DO UPDATE SET article_count = article_counts.article_count + EXCLUDED.article_count;
  ELSE
    UPDATE article_counts a SET article_count = a.article_count - o.n
      FROM (SELECT entity, target_id, count(*) AS n FROM old_rows GROUP BY entity, target_id) o
      WHERE a.entity = o.entity AND a.target_id = o.target_id;
    DELETE FROM article_counts a USING (SELECT DISTINCT entity, target_id FROM old_rows) o
      WHERE a.entity = o.entity AND a.target_id = o.target_id AND a.article_count <= 0;
  END IF;
  RETURN NULL;
END $$
"""
PG_FUNCTIONS = ("masthead_count_links", "masthead_count_articles", "masthead_count_totals")


def _pg_triggers() -> dict[str, tuple[str, str]]:
    """trigger name -> (its table, its CREATE statement)."""
    triggers: dict[str, tuple[str, str]] = {}

    def add(table: str, event: str, name: str, function: str) -> None:
        transitions = {
            "INSERT": "NEW TABLE AS new_rows",
            "DELETE": "OLD TABLE AS old_rows",
            "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        }[event]
        triggers[name] = (
            table,
            f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {transitions} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}",
        )

    for table, (entity, column) in LINKS.items():
        for event in ("INSERT", "DELETE", "UPDATE"):
            add(
                table,
                event,
                f"trg_{table}_{event.lower()}_count",
                f"masthead_count_links('{entity}', '{column}')",
            )
    for event in ("UPDATE", "DELETE"):
        add("articles", event, f"trg_articles_{event.lower()}_count", "masthead_count_articles()")
    for event in ("INSERT", "DELETE"):
        add(
            "counted_links",
            event,
            f"trg_counted_links_{event.lower()}_total",
            "masthead_count_totals()",
        )
    return triggers


def upgrade() -> None:
    op.create_table(
        "counted_links",
        sa.Column("entity", sa.String(length=8), nullable=False),
        sa.Column("target_id", sa.String(length=32), nullable=False),
        sa.Column("article_id", sa.String(length=32), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("entity", "target_id", "article_id", name=op.f("pk_counted_links")),
    )
    op.create_index(
        "ix_counted_links_target_published",
        "counted_links",
        ["entity", "target_id", "published_at"],
    )
    op.create_index("ix_counted_links_article_id", "counted_links", ["article_id"])
    op.create_table(
        "article_counts",
        sa.Column("entity", sa.String(length=8), nullable=False),
        sa.Column("target_id", sa.String(length=32), nullable=False),
        sa.Column("article_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("entity", "target_id", name=op.f("pk_article_counts")),
    )
    # The counts as they are, before the triggers that keep them from here on.
    for statement in _backfill():
        op.execute(statement)
    if op.get_bind().dialect.name == "sqlite":
        for statement in _sqlite_triggers().values():
            op.execute(statement)
        return
    for function in (PG_LINKS_FUNCTION, PG_ARTICLES_FUNCTION, PG_TOTALS_FUNCTION):
        op.execute(function)
    for _table, statement in _pg_triggers().values():
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in _sqlite_triggers():
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for name, (table, _statement) in _pg_triggers().items():
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        for function in PG_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    op.drop_table("article_counts")
    op.drop_index("ix_counted_links_article_id", table_name="counted_links")
    op.drop_index("ix_counted_links_target_published", table_name="counted_links")
    op.drop_table("counted_links")

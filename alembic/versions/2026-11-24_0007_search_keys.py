"""search keys: SQLite's full-text rows are found by integer key, not by a scan

FTS5 stores `article_id` unindexed, so deleting or replacing one article's row scanned the
whole index: reindexing a batch cost O(articles), and a large import grew quadratically.
`article_search_keys` gives every article a stable integer that is its FTS5 rowid. VACUUM
keeps it (an INTEGER PRIMARY KEY is the rowid itself). PostgreSQL keys its search table by
article id already and needs nothing.

FTS5 also gets a 16 MB in-memory hash (default 1 MB) before it writes a segment: a bulk
import writes fewer, larger segments and indexes in about half the time.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HASH = 16 * 1024 * 1024


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(
        "CREATE TABLE article_search_keys ("
        "id INTEGER PRIMARY KEY, article_id VARCHAR(32) NOT NULL UNIQUE)"
    )
    # Existing rows keep their rowids; a duplicate (never written by Masthead) is dropped.
    op.execute(
        "INSERT INTO article_search_keys (id, article_id) "
        "SELECT min(rowid), article_id FROM article_search GROUP BY article_id"
    )
    op.execute("DELETE FROM article_search WHERE rowid NOT IN (SELECT id FROM article_search_keys)")
    op.execute(f"INSERT INTO article_search (article_search, rank) VALUES ('hashsize', {HASH})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DELETE FROM article_search_config WHERE k = 'hashsize'")
        op.execute("DROP TABLE article_search_keys")

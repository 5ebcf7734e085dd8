"""search ignores accents on PostgreSQL too; deleted articles leave the index

SQLite's FTS5 tokenizer removes diacritics (`remove_diacritics 2`), so `cafe` finds "Café"
there; PostgreSQL's `english` configuration kept them, so it did not. PostgreSQL now uses
`masthead_english`: a copy of `english` whose word mappings run the `unaccent` dictionary
(contrib extension `unaccent`, trusted since PostgreSQL 13: a database owner may create it)
before the stemmer. Accents are removed inside the configuration, so the stored tsvector
column and its GIN index involve no function of doubtful volatility (`unaccent()` is only
STABLE), and `ts_headline` with the same configuration marks "Café" for `cafe` as written.
Every PostgreSQL document is rebuilt with it, from the same text the app indexes (title,
tag names, hashtags and their words, slugs, subtitle, body; copied here, as it is at this
revision).

The index also stops holding deleted articles, on both databases: the admin API removed
them, an import kept them, and FTS5's bm25 counts every row, so the same content scored
differently depending on how it was written.

Downgrade rebuilds PostgreSQL's documents with `english`, drops the configuration and the
extension (only when this migration created it). On SQLite it does nothing: deleted
articles are never found, so the previous revision needs no row for them.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONFIG = "masthead_english"
CREATED_EXTENSION = "masthead: created extension unaccent"
CHUNK = 500

# As api/search/query.py and api/search/index.py have them at this revision.
WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)?", re.UNICODE)


def _hashtag_words(hashtag: str) -> list[str]:
    words: list[str] = []
    for run in re.findall(r"[^\W_]+", hashtag):
        start = 0
        for i in range(1, len(run)):
            before, here, after = run[i - 1], run[i], run[i + 1 : i + 2]
            if (
                (here.isupper() and not before.isupper())
                or (here.isupper() and before.isupper() and after.islower())
                or (here.isdigit() != before.isdigit())
            ):
                words.append(run[start:i])
                start = i
        words.append(run[start:])
    return words


def _tag_search_text(name: str, hashtag: str | None, slug: str) -> str:
    words = " ".join(_hashtag_words(hashtag or ""))
    return f"{name} {hashtag or ''} {words} {slug}"


def _pg_words(value: str | None) -> str:
    return " ".join(WORD.findall(value or ""))


def _reindex_postgresql(config: str) -> None:
    """Rebuild every live article's document with `config`."""
    bind = op.get_bind()
    insert = sa.text(
        "INSERT INTO article_search (article_id, document) VALUES (:article_id, "
        f"setweight(to_tsvector('{config}', :title), 'A') || "
        f"setweight(to_tsvector('{config}', :tags), 'A') || "
        f"setweight(to_tsvector('{config}', :subtitle), 'B') || "
        f"setweight(to_tsvector('{config}', :body), 'D'))"
    )
    tags_of = sa.text(
        "SELECT l.article_id, t.name, t.hashtag, t.slug FROM article_tags l "
        "JOIN tags t ON t.id = l.tag_id WHERE l.article_id IN :ids "
        "ORDER BY l.article_id, l.position"
    ).bindparams(sa.bindparam("ids", expanding=True))
    articles = sa.text(
        "SELECT id, title, subtitle, body_text FROM articles "
        "WHERE deleted_at IS NULL AND id > :after ORDER BY id LIMIT :chunk"
    )
    bind.execute(sa.text("DELETE FROM article_search"))
    after = ""
    while True:
        rows = bind.execute(articles, {"after": after, "chunk": CHUNK}).all()
        if not rows:
            return
        tags: dict[str, list[str]] = defaultdict(list)
        for article_id, name, hashtag, slug in bind.execute(
            tags_of, {"ids": [row.id for row in rows]}
        ):
            tags[article_id].append(_tag_search_text(name, hashtag, slug))
        documents: list[dict[str, Any]] = [
            {
                "article_id": row.id,
                "title": _pg_words(row.title),
                "subtitle": _pg_words(row.subtitle or ""),
                "tags": _pg_words(" ".join(tags[row.id])),
                "body": _pg_words(row.body_text),
            }
            for row in rows
        ]
        bind.execute(insert, documents)
        after = rows[-1].id


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute(
            "DELETE FROM article_search WHERE rowid IN (SELECT k.id FROM article_search_keys k "
            "JOIN articles a ON a.id = k.article_id WHERE a.deleted_at IS NOT NULL)"
        )
        op.execute(
            "DELETE FROM article_search_keys WHERE article_id IN "
            "(SELECT id FROM articles WHERE deleted_at IS NOT NULL)"
        )
        return
    installed = bind.execute(
        sa.text("SELECT 1 FROM pg_extension WHERE extname = 'unaccent'")
    ).scalar()
    if not installed:
        try:
            op.execute("CREATE EXTENSION unaccent")
        except sa.exc.DBAPIError as error:
            raise RuntimeError(
                "Search needs PostgreSQL's `unaccent` extension (contrib): install the "
                "postgresql-contrib package, or have a superuser run `CREATE EXTENSION "
                "unaccent` in this database, then upgrade again."
            ) from error
    schema = bind.execute(
        sa.text(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
            "ON n.oid = e.extnamespace WHERE e.extname = 'unaccent'"
        )
    ).scalar_one()
    dictionary = f'"{schema}".unaccent'
    op.execute(f"CREATE TEXT SEARCH CONFIGURATION {CONFIG} (COPY = pg_catalog.english)")
    op.execute(
        f"ALTER TEXT SEARCH CONFIGURATION {CONFIG} ALTER MAPPING FOR word, hword, hword_part "
        f"WITH {dictionary}, english_stem"
    )
    op.execute(
        f"ALTER TEXT SEARCH CONFIGURATION {CONFIG} ALTER MAPPING FOR numword, numhword, "
        f"hword_numpart WITH {dictionary}, simple"
    )
    if not installed:
        op.execute(f"COMMENT ON TEXT SEARCH CONFIGURATION {CONFIG} IS '{CREATED_EXTENSION}'")
    _reindex_postgresql(CONFIG)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        return
    _reindex_postgresql("english")
    comment = bind.execute(
        sa.text(f"SELECT obj_description('{CONFIG}'::regconfig, 'pg_ts_config')")
    ).scalar()
    op.execute(f"DROP TEXT SEARCH CONFIGURATION {CONFIG}")
    if comment == CREATED_EXTENSION:
        op.execute("DROP EXTENSION unaccent")

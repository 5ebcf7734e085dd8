"""The full-text index: kept in step with article writes, queried with one ranked statement.

SQLite uses an FTS5 table (bm25 with column weights); PostgreSQL a weighted tsvector with a
GIN index. Both prefer title and tag matches over subtitle, and subtitle over body, and both
ignore accents (`cafe` finds "Café"): FTS5's `remove_diacritics`, and on PostgreSQL a text
search configuration that runs `unaccent` before the English stemmer (migration 0011).

The index holds every article that is not deleted (drafts too: visibility is checked when
searching), whichever path wrote it, so an exported and re-imported database ranks and
scores alike: FTS5's bm25 depends on every row of the index, not only the matches.
"""

import re
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    delete,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql import ColumnElement, Select
from sqlalchemy.sql.elements import ColumnClause
from sqlmodel import col

from api.articles.models import Article
from api.core.tables import relationship_attribute
from api.search.query import WORD, Term, fts5_expression, parse_query

# Not part of the models' metadata: migrations create these with dialect-specific SQL.
_search_metadata = MetaData()
fts_table = Table(
    "article_search",
    _search_metadata,
    Column("article_id", String),
    Column("title", Text),
    Column("subtitle", Text),
    Column("tags", Text),
    Column("body", Text),
)
# SQLite: each FTS5 row's rowid is its article's key here (migration 0007). Reading
# `article_search.article_id` instead loads the row's stored text, body and all, for every
# match; the keys table is small.
keys_table = Table(
    "article_search_keys",
    _search_metadata,
    Column("id", Integer, primary_key=True),
    Column("article_id", String),
)
FTS_ROWID: ColumnClause[int] = literal_column("article_search.rowid")
pg_table = Table(
    "article_search",
    MetaData(),
    Column("article_id", String, primary_key=True),
    Column("document", Text),
)

MARK_OPEN, MARK_CLOSE = "\ue000", "\ue001"
_ANGLE_STAND_INS = "\ue002\ue003"
_ANGLES_BACK = str.maketrans(_ANGLE_STAND_INS, "<>")
# English stemming and stop words, accents removed first (migration 0011).
PG_CONFIG = "masthead_english"
# bm25 weights, in column order: article_id, title, subtitle, tags, body.
FTS5_WEIGHTS = "0.0, 10.0, 3.0, 8.0, 1.0"


def _hashtag_words(hashtag: str) -> list[str]:
    """`#ChechenAntiGayPurge` -> Chechen Anti Gay Purge; `#LGBTRights2017` -> LGBT Rights 2017."""
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


def tag_search_text(name: str, hashtag: str | None, slug: str) -> str:
    """What a tag contributes to an article's index: `#StopThePurge` is found by `purge` too."""
    words = " ".join(_hashtag_words(hashtag or ""))
    return f"{name} {hashtag or ''} {words} {slug}"


def _tag_text(article: Article) -> str:
    return " ".join(tag_search_text(tag.name, tag.hashtag, tag.slug) for tag in article.tags)


_TEXT_FIELDS = ("title", "subtitle", "tags", "body")

# Writes find an article's FTS5 row by its key too: FTS5 seeks a rowid at once, while a
# condition on its unindexed article_id column scans the whole index.
_SQLITE_NEW_KEY = text(
    "INSERT INTO article_search_keys (article_id) VALUES (:article_id) "
    "ON CONFLICT (article_id) DO NOTHING"
)
_SQLITE_KEYS = text("SELECT id FROM article_search_keys WHERE article_id IN :ids").bindparams(
    bindparam("ids", expanding=True)
)
_SQLITE_DELETE_ROWS = text("DELETE FROM article_search WHERE rowid IN :keys").bindparams(
    bindparam("keys", expanding=True)
)
_SQLITE_DELETE_KEYS = text("DELETE FROM article_search_keys WHERE article_id IN :ids").bindparams(
    bindparam("ids", expanding=True)
)
_SQLITE_INSERT_ROW = text(
    "INSERT INTO article_search (rowid, article_id, title, subtitle, tags, body) VALUES ("
    "(SELECT id FROM article_search_keys WHERE article_id = :article_id), "
    ":article_id, :title, :subtitle, :tags, :body)"
)
_PG_UPSERT = text(
    "INSERT INTO article_search (article_id, document) VALUES (:article_id, "
    f"setweight(to_tsvector('{PG_CONFIG}', :title), 'A') || "
    f"setweight(to_tsvector('{PG_CONFIG}', :tags), 'A') || "
    f"setweight(to_tsvector('{PG_CONFIG}', :subtitle), 'B') || "
    f"setweight(to_tsvector('{PG_CONFIG}', :body), 'D')) "
    "ON CONFLICT (article_id) DO UPDATE SET document = EXCLUDED.document"
)
# Deleted articles and pages: never searched, so never indexed (bm25 counts every row).
_DELETED = text(
    "SELECT id FROM articles WHERE id IN :ids AND (deleted_at IS NOT NULL OR kind = 'page')"
).bindparams(bindparam("ids", expanding=True))


def _pg_words(value: str | None) -> str:
    """Only the words, as FTS5's unicode61 sees them: PostgreSQL's parser would otherwise drop
    `<script>` as a tag and keep `hrw.org` whole, so the backends would find different things."""
    return " ".join(WORD.findall(value or ""))


def index_documents(session: Session, documents: Sequence[dict[str, Any]]) -> None:
    """(Re)index documents: dicts with article_id, title, subtitle, tags, body. A deleted
    article, or a page, is left out of the index (one statement per call finds which are)."""
    if documents:
        ids = [doc["article_id"] for doc in documents]
        _write_index(session, documents, set(session.scalars(_DELETED, {"ids": ids})))


def _write_index(session: Session, documents: Sequence[dict[str, Any]], deleted: set[str]) -> None:
    """Index the documents of articles not in `deleted`; remove those of `deleted`.

    Deleted articles are never found, and FTS5's bm25 counts every row of the index: kept,
    they would make the same content score differently depending on the path that wrote it
    (the admin API removes an article it deletes; an import names deleted ones too)."""
    if not documents:
        return
    live = [doc for doc in documents if doc["article_id"] not in deleted]
    if session.get_bind().dialect.name == "sqlite":
        _delete_sqlite_rows(session, [doc["article_id"] for doc in documents])
        if live:
            session.execute(_SQLITE_NEW_KEY, [{"article_id": doc["article_id"]} for doc in live])
            session.execute(_SQLITE_INSERT_ROW, live)
        return
    if deleted:
        session.execute(delete(pg_table).where(pg_table.c.article_id.in_(sorted(deleted))))
    if live:
        session.execute(
            _PG_UPSERT,
            [
                {"article_id": doc["article_id"], **{f: _pg_words(doc[f]) for f in _TEXT_FIELDS}}
                for doc in live
            ],
        )


REINDEX_BATCH = 1000


def reindex_article_ids(session: Session, article_ids: Sequence[str]) -> None:
    """Reindex the articles with these ids (their tags loaded here), a batch at a time."""
    ids = list(article_ids)
    for start in range(0, len(ids), REINDEX_BATCH):
        index_articles(
            session,
            session.scalars(
                select(Article)
                .where(col(Article.id).in_(ids[start : start + REINDEX_BATCH]))
                .options(selectinload(relationship_attribute(Article.tags)))
            ).all(),
        )


def index_articles(session: Session, articles: Iterable[Article]) -> None:
    """Reindex articles (their tags must be loaded); deleted ones and pages leave the index."""
    loaded = list(articles)
    _write_index(
        session,
        [
            {
                "article_id": a.id,
                "title": a.title,
                "subtitle": a.subtitle or "",
                "tags": _tag_text(a),
                "body": a.body_text,
            }
            for a in loaded
        ],
        {a.id for a in loaded if a.deleted_at is not None or a.kind == "page"},
    )


def _delete_sqlite_rows(session: Session, article_ids: list[str]) -> bool:
    """Delete these articles' FTS5 rows, if they have any; whether they had. Only rows that
    exist are deleted: a delete makes FTS5 write out what it holds in memory, which would
    cost a bulk import of new articles a segment per batch."""
    indexed = session.scalars(_SQLITE_KEYS, {"ids": article_ids}).all()
    if indexed:
        session.execute(_SQLITE_DELETE_ROWS, {"keys": indexed})
    return bool(indexed)


def remove_from_index(session: Session, article_ids: Sequence[str]) -> None:
    if session.get_bind().dialect.name == "sqlite":
        if _delete_sqlite_rows(session, list(article_ids)):
            session.execute(_SQLITE_DELETE_KEYS, {"ids": list(article_ids)})
        return
    session.execute(delete(pg_table).where(pg_table.c.article_id.in_(article_ids)))


class SearchMatch:
    """A parsed query bound to the database: which articles match, and how well."""

    def __init__(self, session: Session, q: str) -> None:
        self.terms = parse_query(q)
        self.dialect = session.get_bind().dialect.name

    @property
    def empty(self) -> bool:
        return not self.terms

    def params(self) -> dict[str, Any]:
        """Values for the statements' bind parameters. On SQLite the whole query is one
        (`match`), so a statement's form does not depend on the query and can be built once."""
        return {"match": fts5_expression(self.terms)} if self.dialect == "sqlite" else {}

    def _fts5_match(self) -> ColumnElement[bool]:
        return literal_column("article_search").op("MATCH")(bindparam("match", type_=String))

    def _ranked(self) -> Select[Any]:
        """`(key, score)` of every match, on the index alone: the FTS5 rowid on SQLite (an
        article's key), the article id on PostgreSQL."""
        if self.dialect == "sqlite":
            return (
                select(
                    FTS_ROWID.label("key"),
                    (-func.bm25(literal_column("article_search"), literal_column(FTS5_WEIGHTS)))
                    .cast(Float)
                    .label("score"),
                )
                .select_from(fts_table)
                .where(self._fts5_match())
            )
        query = _pg_query(self.terms)
        return select(
            pg_table.c.article_id.label("key"),
            func.ts_rank(pg_table.c.document, query).cast(Float).label("score"),
        ).where(pg_table.c.document.op("@@")(query))

    def _with_article_ids(self, ranked: Any, *extra: Any) -> Select[Any]:
        if self.dialect == "sqlite":
            return select(keys_table.c.article_id, ranked.c.score, *extra).join_from(
                ranked, keys_table, keys_table.c.id == ranked.c.key
            )
        return select(ranked.c.key.label("article_id"), ranked.c.score, *extra)

    def scored(self) -> Select[Any]:
        """`(article_id, score)` for every matching article; higher scores rank first."""
        return self._with_article_ids(self._ranked().subquery("ranked"))

    def best(self, *, after_cursor: bool) -> Select[Any]:
        """`scored`, cut to the `size` best (bind parameter; after a cursor, of those scoring
        at most `cursor_value`), with their number `n` and lowest score `floor` on every row:
        enough to know afterwards whether the cut can have changed a page
        (`search_articles`). The cut is made on the index alone; only the `size` survivors
        are looked up."""
        inner = self._ranked()
        score = inner.selected_columns.score
        if after_cursor:
            # The expression, not its label: SQLite cannot refer to a result column there.
            inner = inner.where(score.element <= bindparam("cursor_value", type_=Float))
        cut = inner.order_by(score.desc()).limit(bindparam("size")).subquery("best")
        return self._with_article_ids(
            cut, func.count().over().label("n"), func.min(cut.c.score).over().label("floor")
        )

    def matching_ids(self) -> Select[Any]:
        """The ids of every matching article, unranked."""
        if self.dialect == "sqlite":
            return (
                select(keys_table.c.article_id)
                .select_from(fts_table)
                .join(keys_table, keys_table.c.id == FTS_ROWID)
                .where(self._fts5_match())
            )
        return select(pg_table.c.article_id).where(
            pg_table.c.document.op("@@")(_pg_query(self.terms))
        )

    def snippets(self, session: Session, article_ids: Sequence[str]) -> dict[str, str]:
        """Highlighted extracts with sentinel marks, keyed by article id."""
        if not article_ids:
            return {}
        if self.dialect == "sqlite":
            rows = session.execute(
                select(
                    keys_table.c.article_id,
                    *(
                        func.snippet(
                            literal_column("article_search"),
                            column,
                            MARK_OPEN,
                            MARK_CLOSE,
                            "…",
                            24,
                        )
                        for column in _FTS5_PROSE_COLUMNS
                    ),
                )
                .select_from(fts_table)
                .join(keys_table, keys_table.c.id == FTS_ROWID)
                .where(
                    self._fts5_match(),
                    # By rowid, FTS5 seeks the page's rows; by article id it would walk
                    # every match to compare ids.
                    FTS_ROWID.in_(
                        select(keys_table.c.id).where(keys_table.c.article_id.in_(article_ids))
                    ),
                ),
                self.params(),
            )
            return {row[0]: _best_extract(row[1:]) for row in rows}
        options = (
            f"StartSel={MARK_OPEN}, StopSel={MARK_CLOSE}, MaxWords=30, MinWords=12, "
            'MaxFragments=2, FragmentDelimiter=" … "'
        )
        # The article's prose, never the index's tag text: a match on a tag alone gets the
        # prose's opening words.
        prose = func.concat_ws(
            " — ",
            col(Article.title),
            func.nullif(col(Article.subtitle), ""),
            func.nullif(col(Article.body_text), ""),
        )
        rows = session.execute(
            select(
                col(Article.id),
                func.ts_headline(
                    PG_CONFIG,
                    func.translate(prose, "<>", _ANGLE_STAND_INS),
                    _pg_query(self.terms),
                    options,
                ),
            ).where(col(Article.id).in_(article_ids))
        )
        # ts_headline drops whatever looks like an HTML tag; text is text, so hide < and >.
        return {row[0]: row[1].translate(_ANGLES_BACK) for row in rows}


# FTS5 columns an extract may come from: title, subtitle, body (not article_id, not tags).
_FTS5_PROSE_COLUMNS = (1, 2, 4)


def _best_extract(extracts: Sequence[str | None]) -> str:
    """Of the title's, subtitle's and body's extracts (FTS5 `snippet` per column), the one
    with the most marked matches, the earlier column on a tie, as FTS5 itself chooses among
    columns; when none has a match (the query matched a tag), the opening of the body, else
    of the subtitle, else the title."""
    texts = [extract or "" for extract in extracts]
    marks = [extract.count(MARK_OPEN) for extract in texts]
    if max(marks) > 0:
        return texts[marks.index(max(marks))]
    return next((extract for extract in reversed(texts) if extract), "")


def _pg_query(terms: list[Term]) -> ColumnElement[Any]:
    """A tsquery built from bound parameters only (no user text is tsquery syntax).

    Combined exactly as `fts5_expression` combines: OR joins a term to the previous wanted
    term, and an excluded term is excluded whichever side of an OR it stands.
    """
    wanted: list[ColumnElement[Any]] = []
    excluded: list[ColumnElement[Any]] = []
    for term in terms:
        if term.kind == "prefix":
            lexeme = "".join(ch for ch in term.text if ch.isalnum())
            part: ColumnElement[Any] = func.to_tsquery(
                PG_CONFIG, bindparam(None, lexeme + ":*", type_=String)
            )
        elif term.kind == "phrase":
            part = func.phraseto_tsquery(PG_CONFIG, bindparam(None, term.text, type_=String))
        else:
            part = func.plainto_tsquery(PG_CONFIG, bindparam(None, term.text, type_=String))
        if term.negated:
            excluded.append(part)
        elif term.or_with_previous and wanted:
            wanted[-1] = wanted[-1].op("||")(part)
        else:
            wanted.append(part)
    assert wanted, "parse_query refuses a query with only excluded terms"
    combined = wanted[0]
    for part in wanted[1:]:
        combined = combined.op("&&")(part)
    for part in excluded:
        combined = combined.op("&&")(func.tsquery_not(part))
    return combined

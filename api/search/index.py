"""The full-text index: kept in step with article writes, queried with one ranked statement.

SQLite uses an FTS5 table (bm25 with column weights); PostgreSQL a weighted tsvector with a
GIN index. Both prefer title and tag matches over subtitle, and subtitle over body.
"""

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    Column,
    Float,
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
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Select

from api.articles.models import Article
from api.search.query import Term, fts5_expression, parse_query

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
pg_table = Table(
    "article_search",
    MetaData(),
    Column("article_id", String, primary_key=True),
    Column("document", Text),
)

MARK_OPEN, MARK_CLOSE = "\ue000", "\ue001"
PG_CONFIG = "english"
# bm25 weights, in column order: article_id, title, subtitle, tags, body.
FTS5_WEIGHTS = "0.0, 10.0, 3.0, 8.0, 1.0"


def _tag_text(article: Article) -> str:
    return " ".join(f"{tag.name} {tag.hashtag or ''} {tag.slug}" for tag in article.tags)


def index_documents(session: Session, documents: Sequence[dict[str, Any]]) -> None:
    """(Re)index documents: dicts with article_id, title, subtitle, tags, body."""
    if not documents:
        return
    ids = [doc["article_id"] for doc in documents]
    if session.get_bind().dialect.name == "sqlite":
        session.execute(delete(fts_table).where(fts_table.c.article_id.in_(ids)))
        session.execute(fts_table.insert(), list(documents))
        return
    session.execute(
        text(
            "INSERT INTO article_search (article_id, document) VALUES (:article_id, "
            f"setweight(to_tsvector('{PG_CONFIG}', :title), 'A') || "
            f"setweight(to_tsvector('{PG_CONFIG}', :tags), 'A') || "
            f"setweight(to_tsvector('{PG_CONFIG}', :subtitle), 'B') || "
            f"setweight(to_tsvector('{PG_CONFIG}', :body), 'D')) "
            "ON CONFLICT (article_id) DO UPDATE SET document = EXCLUDED.document"
        ),
        [{**doc, "subtitle": doc["subtitle"] or ""} for doc in documents],
    )


def index_articles(session: Session, articles: Iterable[Article]) -> None:
    """Reindex articles (their tags must be loaded)."""
    index_documents(
        session,
        [
            {
                "article_id": a.id,
                "title": a.title,
                "subtitle": a.subtitle or "",
                "tags": _tag_text(a),
                "body": a.body_text,
            }
            for a in articles
        ],
    )


def remove_from_index(session: Session, article_ids: Sequence[str]) -> None:
    table = fts_table if session.get_bind().dialect.name == "sqlite" else pg_table
    session.execute(delete(table).where(table.c.article_id.in_(article_ids)))


class SearchMatch:
    """A parsed query bound to the database: which articles match, and how well."""

    def __init__(self, session: Session, q: str) -> None:
        self.terms = parse_query(q)
        self.dialect = session.get_bind().dialect.name

    @property
    def empty(self) -> bool:
        return not self.terms

    def scored(self) -> Select[Any]:
        """`(article_id, score)` for every matching article; higher scores rank first."""
        if self.dialect == "sqlite":
            return select(
                fts_table.c.article_id.label("article_id"),
                (-func.bm25(literal_column("article_search"), literal_column(FTS5_WEIGHTS)))
                .cast(Float)
                .label("score"),
            ).where(
                literal_column("article_search").op("MATCH")(
                    bindparam(None, fts5_expression(self.terms), type_=String)
                )
            )
        query = _pg_query(self.terms)
        return select(
            pg_table.c.article_id.label("article_id"),
            func.ts_rank(pg_table.c.document, query).cast(Float).label("score"),
        ).where(pg_table.c.document.op("@@")(query))

    def matching_ids(self) -> Select[Any]:
        return select(self.scored().subquery().c.article_id)

    def snippets(self, session: Session, article_ids: Sequence[str]) -> dict[str, str]:
        """Highlighted extracts with sentinel marks, keyed by article id."""
        if not article_ids:
            return {}
        if self.dialect == "sqlite":
            rows = session.execute(
                select(
                    fts_table.c.article_id,
                    func.snippet(
                        literal_column("article_search"),
                        -1,
                        MARK_OPEN,
                        MARK_CLOSE,
                        "…",
                        24,
                    ),
                ).where(
                    literal_column("article_search").op("MATCH")(
                        bindparam(None, fts5_expression(self.terms), type_=String)
                    ),
                    fts_table.c.article_id.in_(article_ids),
                )
            )
        else:
            options = (
                f"StartSel={MARK_OPEN}, StopSel={MARK_CLOSE}, MaxWords=30, MinWords=12, "
                'MaxFragments=2, FragmentDelimiter=" … "'
            )
            rows = session.execute(
                select(
                    Article.id,
                    func.ts_headline(
                        PG_CONFIG,
                        func.concat_ws(" — ", Article.title, Article.body_text),
                        _pg_query(self.terms),
                        options,
                    ),
                ).where(Article.id.in_(article_ids))
            )
        return {row[0]: row[1] for row in rows}


def _pg_query(terms: list[Term]) -> ColumnElement[Any]:
    """A tsquery built from bound parameters only (no user text is tsquery syntax)."""
    combined: ColumnElement[Any] | None = None
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
            part = func.tsquery_not(part)
        if combined is None:
            combined = part
        elif term.or_with_previous:
            combined = combined.op("||")(part)
        else:
            combined = combined.op("&&")(part)
    assert combined is not None
    return combined

"""The full-text index: kept in step with article writes, queried with one ranked statement.

SQLite uses an FTS5 table (bm25 with column weights); PostgreSQL a weighted tsvector with a
GIN index. Both prefer title and tag matches over subtitle, and subtitle over body.
"""

import re
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
pg_table = Table(
    "article_search",
    MetaData(),
    Column("article_id", String, primary_key=True),
    Column("document", Text),
)

MARK_OPEN, MARK_CLOSE = "\ue000", "\ue001"
_ANGLE_STAND_INS = "\ue002\ue003"
_ANGLES_BACK = str.maketrans(_ANGLE_STAND_INS, "<>")
PG_CONFIG = "english"
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


def _pg_words(value: str | None) -> str:
    """Only the words, as FTS5's unicode61 sees them: PostgreSQL's parser would otherwise drop
    `<script>` as a tag and keep `hrw.org` whole, so the backends would find different things."""
    return " ".join(WORD.findall(value or ""))


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
        [
            {"article_id": doc["article_id"], **{f: _pg_words(doc[f]) for f in _TEXT_FIELDS}}
            for doc in documents
        ],
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
                        func.translate(
                            func.concat_ws(" — ", Article.title, Article.body_text),
                            "<>",
                            _ANGLE_STAND_INS,
                        ),
                        _pg_query(self.terms),
                        options,
                    ),
                ).where(Article.id.in_(article_ids))
            )
            # ts_headline drops whatever looks like an HTML tag; text is text, so hide < and >.
            return {row[0]: row[1].translate(_ANGLES_BACK) for row in rows}
        return {row[0]: row[1] for row in rows}


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

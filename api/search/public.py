"""GET /v1/search: ranked full-text search over published articles."""

import html
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import Float, bindparam, func, literal_column, select
from sqlalchemy.orm import Session
from starlette.responses import Response

from api.articles.models import Article
from api.articles.public import (
    IncludeParam,
    LanguagesParam,
    canonical_site,
    parse_include,
    wants_body,
)
from api.articles.reads import ARTICLES, ArticleView, article_columns, article_views
from api.articles.schemas import (
    ARTICLE_FIELDS,
    LIST_DEFAULT_INCLUDE,
    RELATIONS,
    SearchHit,
    article_public,
    article_surrogate_keys,
    with_corrections,
)
from api.articles.service import ArticleFilters, filtered_statement, rows_of_page
from api.core.db import NowDep, SessionDep, public_read
from api.core.envelopes import ListEnvelope
from api.core.errors import problem_responses
from api.core.http import base_url, list_response, reject_unknown_query
from api.core.languages import language_preference, preference_headers
from api.core.listing import (
    Count,
    CursorParam,
    FieldsParam,
    Limit,
    parse_fields,
    parse_slugs,
    slug_list_param,
)
from api.core.pagination import Page, SortKey, decode_cursor, page_from_rows
from api.search.index import MARK_CLOSE, MARK_OPEN, SearchMatch

router = APIRouter(
    prefix="/v1/search", tags=["search"], dependencies=[Depends(reject_unknown_query)]
)
SEARCH_FIELDS = ARTICLE_FIELDS | {"snippet", "score"}


class Hit:
    """An article with its relevance; `score` and `id` key the cursor."""

    def __init__(self, article: ArticleView, score: float) -> None:
        self.article, self.score, self.id = article, score, article.id


def highlight(marked: str) -> str:
    """Escape the extract as HTML, then turn the sentinel marks into `<mark>` elements."""
    return (
        html.escape(marked, quote=False).replace(MARK_OPEN, "<mark>").replace(MARK_CLOSE, "</mark>")
    )


# How many of the best matches a page is first chosen from. Ranking scores every match (cheap
# inside the full-text engine); looking each one up for its visibility and filters is what
# grows with the number of matches.
CANDIDATES_PER_ROW, CANDIDATES_EXTRA = 2, 64


def _page_statement(
    scored: Any, shape: tuple[str, ...], after_cursor: bool, with_body: bool
) -> Any:
    """The page of visible, filtered hits among `scored`, best first (`limit` rows), and
    the statement of all of them (for the count)."""
    ranked = scored.cte("scored")
    sort = SortKey("-relevance", ranked.c.score, Article.id, descending=True)
    extra = tuple(c for c in ranked.c if c.key in ("n", "floor"))
    # The visibility conditions apply to the joined rows directly: `id IN (visible ids)`
    # would list every visible article on each search.
    query = filtered_statement(shape, (ARTICLES.c.id, ranked.c.score, *extra))
    query = query.join_from(ARTICLES, ranked, ranked.c.article_id == ARTICLES.c.id)
    page_ids = query.where(sort.after_bound()) if after_cursor else query
    page_ids = page_ids.order_by(*sort.order_by()).limit(bindparam("limit"))
    paged = rows_of_page(page_ids, article_columns(with_body), ())
    return paged.order_by(paged.selected_columns.score.desc(), ARTICLES.c.id.desc()), query


# SQLite's search statements do not depend on the query's words (`SearchMatch.params`):
# built once per form, like the article lists' (building one costs more than running it).
_BUILT: dict[tuple[Any, ...], tuple[Any, Any, Any]] = {}


def search_statements(
    match: SearchMatch, shape: tuple[str, ...], after_cursor: bool, with_body: bool
) -> tuple[Any, Any, Any]:
    """(page among the best candidates, page among all matches, count of all matches)."""
    key = (shape, after_cursor, with_body)
    if match.dialect == "sqlite" and key in _BUILT:
        return _BUILT[key]
    best, _ = _page_statement(match.best(after_cursor=after_cursor), shape, after_cursor, with_body)
    full, every = _page_statement(match.scored(), shape, after_cursor, with_body)
    counted = select(func.count()).select_from(every.with_only_columns(ARTICLES.c.id).subquery())
    if match.dialect == "sqlite":
        _BUILT[key] = (best, full, counted)
    return best, full, counted


def _candidates_give_exact_page(rows: Sequence[Any], limit: int, size: int) -> bool:
    """Whether a page chosen from the `size` best matches is the page of all matches.

    It is when there were fewer candidates than `size` (they were every match), or when the
    page's last row scores above the lowest candidate: whatever was cut scores no higher, so
    ranks after it. Otherwise (hidden or filtered-out candidates, ties at the cut) it may not.
    """
    if not rows:
        return False
    if rows[0].n < size:
        return True
    return len(rows) > limit and rows[limit - 1].score > rows[0].floor


def search_articles(
    session: Session,
    now: datetime,
    match: SearchMatch,
    filters: ArticleFilters,
    *,
    cursor: str | None,
    limit: int,
    include: frozenset[str],
    count: bool,
    with_body: bool = False,
) -> Page[Hit]:
    """A page of hits: chosen among the best few candidates when that is provably the same
    page (one statement), else among every match (a second statement)."""
    sort = SortKey("-relevance", literal_column("score", Float), Article.id, descending=True)
    params = filters.params(now) | match.params() | {"limit": limit + 1}
    if cursor:
        params |= sort.cursor_params(decode_cursor(cursor, sort))
    size = CANDIDATES_PER_ROW * (limit + 1) + CANDIDATES_EXTRA
    best, full, counted = search_statements(match, filters.query_shape(), bool(cursor), with_body)
    found = session.execute(best, params | {"size": size}).all()
    if not _candidates_give_exact_page(found, limit, size):
        found = session.execute(full, params).all()
    rows = page_from_rows(found, sort, limit)
    views = article_views(session, rows.items, include)
    page = Page(
        [Hit(view, row.score) for view, row in zip(views, rows.items, strict=True)],
        rows.next_cursor,
    )
    if count:
        page.total = session.execute(counted, params).scalar_one()
    return page


@router.get(
    "",
    response_model=ListEnvelope[SearchHit],
    responses=problem_responses(400, 422),
    summary="Search published articles",
)
@public_read
def search_published_articles(
    request: Request,
    session: SessionDep,
    now: NowDep,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=200,
            description='Words to find (all required). `"a phrase"`, `chech*` for a prefix, '
            "`-word` to exclude, `OR` between two terms for either. Very common English "
            "words (the, and, of…) are ignored, the same on SQLite and PostgreSQL.",
        ),
    ],
    limit: Limit = 15,
    cursor: CursorParam = None,
    tag: Annotated[str | None, slug_list_param("tag")] = None,
    lang: LanguagesParam = None,
    fields: FieldsParam = None,
    include: IncludeParam = None,
    count: Count = False,
) -> Response:
    """Published articles matching `q`, best first: title and tag matches rank above subtitle
    matches, which rank above body matches. Each hit has a `snippet` with `<mark>`ed matches."""
    wanted = parse_fields(fields, SEARCH_FIELDS)
    included = parse_include(include, LIST_DEFAULT_INCLUDE)
    if wanted is not None:
        included = included | (wanted & RELATIONS)
    included = with_corrections(included, wanted)
    match = SearchMatch(session, q)
    # Each story once, in the reader's language (as `/v1/articles` chooses it).
    languages = language_preference(lang, request.headers.get("accept-language"))
    filters = ArticleFilters(tags=parse_slugs(tag, "tag"), languages=languages)
    if match.empty:
        page: Page[Hit] = Page([], None, 0 if count else None)
    else:
        page = search_articles(
            session,
            now,
            match,
            filters,
            cursor=cursor,
            limit=limit,
            include=included,
            count=count,
            with_body=wants_body(wanted),
        )
    snippets = match.snippets(session, [hit.id for hit in page.items]) if page.items else {}
    base = base_url(request)
    site = canonical_site(session, base, [hit.article for hit in page.items], wanted)
    items: list[dict[str, Any]] = []
    for hit in page.items:
        item = article_public(
            hit.article,
            include=included,
            fields=wanted,
            with_body=False,
            now=now,
            base=base,
            site=site,
        )
        if wanted is None or "snippet" in wanted:
            item["snippet"] = highlight(snippets.get(hit.id, ""))
        if wanted is None or "score" in wanted:
            item["score"] = round(hit.score, 6)
        items.append(item)
    return list_response(
        request,
        items,
        limit=limit,
        next_cursor=page.next_cursor,
        total=page.total,
        surrogate_keys=article_surrogate_keys([h.article for h in page.items], included),
        extra_headers=preference_headers(languages, lang is not None),
    )

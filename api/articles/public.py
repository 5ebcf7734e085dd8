"""GET /v1/articles and /v1/pages: the public read API over published articles and pages.

Pages are article rows of kind `page`: the same reads, narrowed to their kind."""

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from api.articles.models import ArticleKind
from api.articles.reads import ArticleView
from api.articles.schemas import (
    ARTICLE_FIELDS,
    LIST_DEFAULT_INCLUDE,
    RELATIONS,
    ArticlePublic,
    article_public,
    article_surrogate_keys,
    with_corrections,
)
from api.articles.service import (
    ARTICLE_SORTS,
    ArticleFilters,
    get_visible_article,
    list_articles,
    related_articles,
)
from api.articles.translations import attach_translations
from api.core.db import NowDep, SessionDep, public_read
from api.core.envelopes import ItemEnvelope, ListEnvelope
from api.core.errors import Unprocessable, problem_responses
from api.core.http import base_url, json_response, list_response, reject_unknown_query
from api.core.languages import LANG_LIST_PATTERN, language_preference, preference_headers
from api.core.listing import (
    Count,
    CursorParam,
    FieldsParam,
    Limit,
    parse_fields,
    parse_slugs,
    slug_list_param,
)
from api.core.timestamps import TimeBound
from api.jsonld.service import JSONLD_RELATIONS, news_article
from api.site.service import SiteView, load_site

router = APIRouter(
    prefix="/v1/articles", tags=["articles"], dependencies=[Depends(reject_unknown_query)]
)
pages_router = APIRouter(
    prefix="/v1/pages", tags=["pages"], dependencies=[Depends(reject_unknown_query)]
)

ArticleSort = Literal[
    "-published_at", "published_at", "-updated_at", "updated_at", "title", "-title"
]
SlugPath = Annotated[
    str, Path(max_length=200, description="The article's slug, e.g. `chechnya-purge`.")
]
PageSlugPath = Annotated[str, Path(max_length=200, description="The page's slug, e.g. `about`.")]
SortParam = Annotated[
    ArticleSort,
    Query(description="Order; `-` means descending. Default: newest published first."),
]
IncludeParam = Annotated[
    str | None,
    Query(
        max_length=100,
        description="Comma-separated relations to embed: `tags`, `authors`, `sources`, "
        "`actions`. Lists embed `tags,authors` by default; one article embeds all. One "
        "article also takes `jsonld`: its schema.org `NewsArticle` as `jsonld`.",
    ),
]
LanguagesParam = Annotated[
    str | None,
    Query(
        max_length=200,
        pattern=LANG_LIST_PATTERN,
        description="Language preference, best first, e.g. `de,en`: each story (an article "
        "and its translations) is listed once, in the first of these languages it has (`de-CH` "
        "also tries `de`); stories in none of them are left out, unless the list ends with "
        "`*` (`de,*`: those in their original language, the version published first). "
        "Without `lang`, the `Accept-Language` header is the preference (q-values honoured, "
        "always read as ending with `*`), and the answer says `Vary: Accept-Language`; "
        "without either, each story is shown in its original language.",
    ),
]


def parse_include(raw: str | None, default: frozenset[str]) -> frozenset[str]:
    if raw is None:
        return default
    names = {name.strip() for name in raw.split(",") if name.strip()}
    unknown = sorted(names - RELATIONS)
    if unknown:
        raise Unprocessable(
            f"Unknown relation(s) in include: {', '.join(unknown)}.",
            errors=[
                {"loc": ["query", "include"], "msg": f"unknown relation {n!r}"} for n in unknown
            ],
        )
    return frozenset(names)


def wants_body(fields: frozenset[str] | None) -> bool:
    """Lists load the (large) body only when `fields` names it."""
    return fields is not None and "body_html" in fields


def render_public_articles(
    request: Request,
    articles: Sequence[ArticleView],
    *,
    include: frozenset[str],
    fields: frozenset[str] | None,
    with_body: bool,
    now: datetime,
    session: Session,
) -> list[dict[str, Any]]:
    """Public shapes; `canonical_url` falls back to the frontend's URL (the site's). The
    translations are read when shown: one statement, and none when no article has any."""
    base = base_url(request)
    if fields is None or "translations" in fields:
        attach_translations(session, now, articles)
    site = canonical_site(session, base, articles, fields)
    return [
        article_public(
            a, include=include, fields=fields, with_body=with_body, now=now, base=base, site=site
        )
        for a in articles
    ]


def canonical_site(
    session: Session, base: str, articles: Sequence[ArticleView], fields: frozenset[str] | None
) -> SiteView | None:
    """The site settings when a shown article takes its `canonical_url` from the frontend's
    URL, or shows its links (`links.oembed` names its frontend URL): one primary-key read;
    else None."""
    shown = fields is None or "canonical_url" in fields
    linked = fields is None or "links" in fields
    if (
        (shown and any(article.canonical_url is None for article in articles))
        or (linked and any(article.kind == ArticleKind.article for article in articles))
        or any(article.translations for article in articles)  # their frontend URLs
    ):
        return load_site(session, base)
    return None


def published_list_response(
    request: Request,
    session: Session,
    now: datetime,
    filters: ArticleFilters,
    *,
    kind: ArticleKind,
    limit: int,
    cursor: str | None,
    sort: str,
    fields: str | None,
    include: str | None,
    count: bool,
    lang: str | None = None,
) -> Response:
    """A list of published articles or pages (`kind`), as `GET /v1/articles` answers it:
    each story once, in the language `lang` (else `Accept-Language`) prefers."""
    filters.languages = language_preference(lang, request.headers.get("accept-language"))
    wanted = parse_fields(fields, ARTICLE_FIELDS)
    included = parse_include(include, LIST_DEFAULT_INCLUDE)
    if wanted is not None:
        included = included | (wanted & RELATIONS)
    included = with_corrections(included, wanted)
    page = list_articles(
        session,
        now,
        filters,
        sort=ARTICLE_SORTS[sort],
        cursor=cursor,
        limit=limit,
        include=included,
        count=count,
        with_body=wants_body(wanted),
        kind=kind,
    )
    items = list(page.items)
    return list_response(
        request,
        render_public_articles(
            request,
            items,
            include=included,
            fields=wanted,
            with_body=False,
            now=now,
            session=session,
        ),
        limit=limit,
        next_cursor=page.next_cursor,
        total=page.total,
        surrogate_keys=article_surrogate_keys(items, included, kind),
        extra_headers=preference_headers(filters.languages, lang is not None),
    )


def published_item_response(
    request: Request,
    session: Session,
    now: datetime,
    slug: str,
    *,
    kind: ArticleKind,
    fields: str | None,
    include: str | None,
) -> Response:
    """One published article or page (`kind`) with its body and every relation; an article
    with `include=jsonld` also carries its schema.org NewsArticle."""
    wanted = parse_fields(fields, ARTICLE_FIELDS)
    names = {name.strip() for name in (include or "").split(",")}
    with_jsonld = kind == ArticleKind.article and "jsonld" in names
    if with_jsonld:
        include = ",".join(sorted(names - {"jsonld", ""})) or None  # else every relation
    included = with_corrections(parse_include(include, RELATIONS), wanted)
    loaded = included | JSONLD_RELATIONS if with_jsonld else included
    article = get_visible_article(session, now, slug, loaded, kind)
    data = render_public_articles(
        request,
        [article],
        include=included,
        fields=wanted,
        with_body=True,
        now=now,
        session=session,
    )
    keys = article_surrogate_keys([article], loaded, kind)
    if with_jsonld:
        if article.translations is None:  # `fields` left them out
            attach_translations(session, now, [article])
        data[0]["jsonld"] = news_article(article, load_site(session, base_url(request)))
        keys.append("site")
    # That slug's version, whatever the reader's language: its `translations` name the others.
    return json_response(
        request,
        {"data": data[0]},
        surrogate_keys=keys,
        extra_headers={"Content-Language": article.lang},
    )


@router.get(
    "",
    response_model=ListEnvelope[ArticlePublic],
    responses=problem_responses(400, 422),
    summary="List published articles",
)
@public_read
def list_published_articles(
    request: Request,
    session: SessionDep,
    now: NowDep,
    limit: Limit = 15,
    cursor: CursorParam = None,
    sort: SortParam = "-published_at",
    fields: FieldsParam = None,
    include: IncludeParam = None,
    count: Count = False,
    tag: Annotated[str | None, slug_list_param("tag")] = None,
    source: Annotated[str | None, slug_list_param("source")] = None,
    action: Annotated[str | None, slug_list_param("action")] = None,
    author: Annotated[str | None, slug_list_param("author")] = None,
    lang: LanguagesParam = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Full-text filter (see /v1/search).")
    ] = None,
    published_after: Annotated[
        TimeBound | None, Query(description="Only articles published after this time.")
    ] = None,
    published_before: Annotated[
        TimeBound | None, Query(description="Only articles published before this time.")
    ] = None,
    updated_after: Annotated[
        TimeBound | None, Query(description="Only articles changed after this time.")
    ] = None,
) -> Response:
    """Published articles, newest first. Filters combine with AND; a comma-separated filter
    matches any of its slugs. List items leave out `body_html` unless `fields` names it.
    Pages are never listed here (see `/v1/pages`)."""
    filters = ArticleFilters(
        tags=parse_slugs(tag, "tag"),
        sources=parse_slugs(source, "source"),
        actions=parse_slugs(action, "action"),
        authors=parse_slugs(author, "author"),
        q=q,
        published_after=published_after,
        published_before=published_before,
        updated_after=updated_after,
    )
    return published_list_response(
        request,
        session,
        now,
        filters,
        kind=ArticleKind.article,
        limit=limit,
        cursor=cursor,
        sort=sort,
        fields=fields,
        include=include,
        count=count,
        lang=lang,
    )


@router.get(
    "/{slug}",
    response_model=ItemEnvelope[ArticlePublic],
    responses=problem_responses(404, 422),
    summary="Get one published article",
)
@public_read
def get_published_article(
    request: Request,
    session: SessionDep,
    now: NowDep,
    slug: SlugPath,
    fields: FieldsParam = None,
    include: IncludeParam = None,
) -> Response:
    """One published article with its body and every relation embedded. Drafts, scheduled
    and deleted articles are a 404, and so are pages (see `/v1/pages/{slug}`)."""
    return published_item_response(
        request, session, now, slug, kind=ArticleKind.article, fields=fields, include=include
    )


@router.get(
    "/{slug}/related",
    response_model=ListEnvelope[ArticlePublic],
    responses=problem_responses(404, 422),
    summary="Articles related to one article",
)
@public_read
def list_related_articles(
    request: Request,
    session: SessionDep,
    now: NowDep,
    slug: SlugPath,
    limit: Annotated[int, Query(ge=1, le=100, description="How many, 1 to 100.")] = 5,
    fields: FieldsParam = None,
    include: IncludeParam = None,
) -> Response:
    """Published articles sharing tags (weighted most) or cited sources with this one, best
    first, newest first among equals. Never the article itself. One page only."""
    wanted = parse_fields(fields, ARTICLE_FIELDS)
    included = parse_include(include, LIST_DEFAULT_INCLUDE)
    if wanted is not None:
        included = included | (wanted & RELATIONS)
    included = with_corrections(included, wanted)
    article = get_visible_article(session, now, slug, frozenset())
    related = related_articles(session, now, article, limit, included, wants_body(wanted))
    return list_response(
        request,
        render_public_articles(
            request,
            related,
            include=included,
            fields=wanted,
            with_body=False,
            now=now,
            session=session,
        ),
        limit=limit,
        next_cursor=None,
        total=None,
        surrogate_keys=[f"article:{article.id}", *article_surrogate_keys(related, included)],
    )


@pages_router.get(
    "",
    response_model=ListEnvelope[ArticlePublic],
    responses=problem_responses(400, 422),
    summary="List published pages",
)
@public_read
def list_published_pages(
    request: Request,
    session: SessionDep,
    now: NowDep,
    limit: Limit = 15,
    cursor: CursorParam = None,
    sort: SortParam = "-published_at",
    fields: FieldsParam = None,
    include: IncludeParam = None,
    count: Count = False,
    lang: LanguagesParam = None,
) -> Response:
    """Published pages (static content such as About or the privacy policy), newest first,
    in the shape of an article (`links.self` is the page's `/v1/pages/{slug}`;
    `canonical_url` falls back to the site's `page_url_template`). Pages share the slug
    namespace of articles and appear in no article read, feed or search. List items leave
    out `body_html` unless `fields` names it."""
    return published_list_response(
        request,
        session,
        now,
        ArticleFilters(),
        kind=ArticleKind.page,
        limit=limit,
        cursor=cursor,
        sort=sort,
        fields=fields,
        include=include,
        count=count,
        lang=lang,
    )


@pages_router.get(
    "/{slug}",
    response_model=ItemEnvelope[ArticlePublic],
    responses=problem_responses(404, 422),
    summary="Get one published page",
)
@public_read
def get_published_page(
    request: Request,
    session: SessionDep,
    now: NowDep,
    slug: PageSlugPath,
    fields: FieldsParam = None,
    include: IncludeParam = None,
) -> Response:
    """One published page with its body and every relation embedded. Drafts, scheduled and
    deleted pages are a 404, and so are articles."""
    return published_item_response(
        request, session, now, slug, kind=ArticleKind.page, fields=fields, include=include
    )

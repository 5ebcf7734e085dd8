"""GET /feeds/rss.xml, /feeds/atom.xml, /feeds/feed.json: syndication of the latest articles."""

from collections.abc import Callable
from datetime import datetime
from email.utils import format_datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from api.articles.service import ARTICLE_SORTS, ArticleFilters, list_articles
from api.core.db import NowDep, SessionDep, public_read
from api.core.errors import problem_responses
from api.core.http import (
    base_url,
    dump_json,
    public_response,
    public_url,
    reject_unknown_query,
    unmodified_since,
)
from api.core.languages import LANG_LIST_PATTERN, language_preference
from api.core.listing import parse_slugs, slug_list_param
from api.corrections.service import recently_corrected
from api.feeds.service import (
    atom_document,
    feed_description,
    feed_time,
    json_feed_document,
    rss_document,
)
from api.site.service import load_site
from api.websub.topics import topic_key, topic_url

router = APIRouter(prefix="/feeds", tags=["feeds"], dependencies=[Depends(reject_unknown_query)])
FeedLimit = Annotated[int, Query(ge=1, le=100, description="How many articles, 1 to 100.")]
FeedLanguages = Annotated[
    str | None,
    Query(
        max_length=200,
        pattern=LANG_LIST_PATTERN,
        description="Language preference, best first, e.g. `de,en`: each story once, in the "
        "first of these languages it has; stories in none of them are left out unless the "
        "list ends with `*`. Without it, each story in its original language.",
    ),
]
FEED_INCLUDE = frozenset({"tags", "authors", "corrections"})
# The articles and the feed's `site`, `self_url`, `subtitle` and `updated` in; the document out.
RenderFeed = Callable[..., bytes]


def _feed(
    request: Request,
    session: Session,
    now: datetime,
    *,
    limit: int,
    tag: str | None,
    source: str | None,
    render: RenderFeed,
    media_type: str,
    lang: str | None = None,
) -> Response:
    filters = ArticleFilters(
        tags=parse_slugs(tag, "tag"),
        sources=parse_slugs(source, "source"),
        # Each story once: in the languages of `lang`, else its original (feed readers
        # fetch for many readers: `Accept-Language` is not read).
        languages=language_preference(lang, None),
    )
    articles = _latest(session, now, filters, limit)
    site = load_site(session, base_url(request))
    # A feed changes with its articles and with the site's settings (title, links).
    changes = [a.updated_at for a in articles] + ([site.updated_at] if site.updated_at else [])
    updated = max(changes, default=now)
    narrowed = " and ".join(
        part for part in (f"tag {tag}" if tag else "", f"source {source}" if source else "") if part
    )
    last_modified = {"Last-Modified": format_datetime(updated, usegmt=True)}
    if "if-none-match" not in request.headers and unmodified_since(
        request.headers.get("if-modified-since"), updated
    ):
        return Response(status_code=304, headers=last_modified)
    hub = request.app.state.settings.websub_hub
    key = topic_key(filters.tags, filters.sources)
    # A topic's `self` is the URL the hub is pinged with (whatever `limit` this request has).
    if hub and key is not None and lang is None:  # the hub is pinged for these topics only
        self_url = topic_url(public_url(request).partition("?")[0], key)
    else:
        hub, self_url = None, public_url(request)
    body = render(
        articles,
        site=site,
        self_url=self_url,
        subtitle=feed_description(site, narrowed),
        updated=updated,
        hub=str(hub) if hub else None,
    )
    return public_response(
        request,
        body,
        media_type=media_type,
        surrogate_keys=["articles", "feeds", "site", *(f"article:{a.id}" for a in articles)],
        extra_headers=last_modified,
    )


def _latest(session: Session, now: datetime, filters: ArticleFilters, limit: int) -> list[Any]:
    """The `limit` articles that came out last: published, or corrected since (a corrected
    article is re-sent, its notes on top), latest first. Newest by publication, merged with
    those corrected after the oldest of them, which are the only others that can rank."""
    page = list_articles(
        session,
        now,
        filters,
        sort=ARTICLE_SORTS["-published_at"],
        cursor=None,
        limit=limit,
        include=FEED_INCLUDE,
        count=False,
        with_body=True,
    )
    articles = list(page.items)
    if len(articles) < limit:  # every article is on the page already
        return sorted(articles, key=lambda a: (feed_time(a), a.id), reverse=True)
    oldest = articles[-1].published_at or now  # visible articles all have one
    shown = {a.id for a in articles}
    corrected = recently_corrected(
        session, now, filters, after=oldest, limit=limit, include=FEED_INCLUDE
    )
    articles += [a for a in corrected if a.id not in shown]
    return sorted(articles, key=lambda a: (feed_time(a), a.id), reverse=True)[:limit]


FEED_RESPONSES: dict[int | str, dict[str, Any]] = {**problem_responses(422)}


def _feed_endpoint(path: str, name: str, render: RenderFeed, media_type: str, summary: str) -> None:
    def endpoint(
        request: Request,
        session: SessionDep,
        now: NowDep,
        limit: FeedLimit = 20,
        tag: Annotated[str | None, slug_list_param("tag")] = None,
        source: Annotated[str | None, slug_list_param("source")] = None,
        lang: FeedLanguages = None,
    ) -> Response:
        return _feed(
            request,
            session,
            now,
            limit=limit,
            tag=tag,
            source=source,
            render=render,
            media_type=media_type,
            lang=lang,
        )

    endpoint.__doc__ = (
        f"{summary} of the latest published articles, full content included; `tag` and "
        "`source` narrow it. A corrected article is re-sent: it ranks by its latest note "
        "(when that came after its publication), its content starts with its notes, its "
        "summary with the latest, and its update time is the correction's; a retracted one's "
        "title starts with `Retracted:`. With `MASTHEAD_WEBSUB_HUB` set, the main feed and "
        'each one-tag or one-source feed link to the hub (`rel="hub"`, JSON Feed `hubs`) '
        'and their `rel="self"` is the topic URL the hub is pinged with. Supports '
        "`ETag`/`If-None-Match` and `Last-Modified`/`If-Modified-Since`."
    )
    router.add_api_route(
        path,
        public_read(endpoint),
        methods=["GET"],
        name=name,
        summary=summary,
        response_class=Response,
        responses={
            200: {"content": {media_type: {}}, "description": f"The {summary} document."},
            304: {"description": "Not modified."},
            **FEED_RESPONSES,
        },
    )


_feed_endpoint("/rss.xml", "rss_feed", rss_document, "application/rss+xml", "RSS 2.0 feed")
_feed_endpoint("/atom.xml", "atom_feed", atom_document, "application/atom+xml", "Atom 1.0 feed")
_feed_endpoint(
    "/feed.json",
    "json_feed",
    lambda articles, **options: dump_json(json_feed_document(articles, **options)),
    "application/feed+json",
    "JSON Feed 1.1",
)

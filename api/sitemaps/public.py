"""GET /sitemap.xml (the index), /sitemaps/{name}.xml and /sitemap-news.xml: every public
URL of the frontend, for search engines, from the site's URL templates."""

import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from email.utils import format_datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from starlette.responses import Response

from api.core.db import NowDep, SessionDep, public_read
from api.core.errors import NotFound, problem_responses
from api.core.http import base_url, public_response, reject_unknown_query
from api.site.service import SiteView, absolute_url, frontend_url, load_site
from api.sitemaps.documents import news_document, sitemap_index_document, urlset_document
from api.sitemaps.service import (
    Entry,
    article_entries,
    author_entries,
    news_entries,
    page_entries,
    sitemap_index,
    tag_entries,
)

router = APIRouter(tags=["sitemaps"], dependencies=[Depends(reject_unknown_query)])
MEDIA_TYPE = "application/xml"
SITEMAP_NAME = re.compile(
    r"^(?:articles-(?P<month>\d{4}-(?:0[1-9]|1[0-2]))|(?P<section>pages|tags|authors))"
    r"(?:-(?P<page>[2-9]|[1-9]\d+))?$"
)
XML_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The XML document.",
        "content": {MEDIA_TYPE: {"schema": {"type": "string"}}},
    },
}
SitemapName = Annotated[
    str,
    Path(
        max_length=40,
        description="A sitemap the index lists: `pages`, `tags`, `authors` or "
        "`articles-YYYY-MM`, with `-2`, `-3`… for the next 50,000 URLs of a larger one.",
    ),
]


def xml_response(
    request: Request, body: bytes, keys: list[str], lastmod: datetime | None
) -> Response:
    """Cacheable like every public read (strong ETag, 304, Surrogate-Key), with
    `Last-Modified` from the newest content listed."""
    extra = {"Last-Modified": format_datetime(lastmod, usegmt=True)} if lastmod else None
    return public_response(
        request, body, media_type=MEDIA_TYPE, surrogate_keys=["sitemaps", *keys, "site"],
        extra_headers=extra,
    )  # fmt: skip


def sitemap_url(request: Request, name: str) -> str:
    return f"{base_url(request)}/sitemaps/{name}.xml"


@router.get(
    "/sitemap.xml",
    response_class=Response,
    responses={**XML_RESPONSES, **problem_responses(422)},
    summary="The sitemap index",
)
@public_read
def get_sitemap_index(request: Request, session: SessionDep, now: NowDep) -> Response:
    """A sitemaps.org index of every sitemap: `pages` (the home page and the published
    pages), `tags` and `authors` (those with a published article), and one per month of
    articles (`articles-YYYY-MM`), each split in files of at most 50,000 URLs; `lastmod`
    is the newest change of what each one lists. Served by Masthead (point `Sitemap:` in
    the frontend's robots.txt here); the URLs inside are the frontend's."""
    refs = sitemap_index(session, now)
    newest = max((r.lastmod for r in refs if r.lastmod), default=None)
    body = sitemap_index_document((sitemap_url(request, r.name), r.lastmod) for r in refs)
    return xml_response(request, body, ["articles", "pages", "tags", "authors"], newest)


def _entries(session: Any, now: datetime, name: str) -> tuple[Iterator[Entry], list[str], bool]:
    """The entries of sitemap `name`, its surrogate keys, and whether it starts with the
    home page; 404 for a name no index lists."""
    match = SITEMAP_NAME.match(name)
    if match is None:
        raise NotFound(f"No sitemap `{name}`.")
    page = int(match["page"] or 1)
    if match["month"]:
        return article_entries(session, now, match["month"], page), ["articles"], False
    section = match["section"]
    if section == "pages":
        return page_entries(session, now, page), ["pages", "articles"], page == 1
    if section == "tags":
        return tag_entries(session, now, page), ["tags", "articles"], False
    return author_entries(session, now, page), ["authors", "articles"], False


@router.get(
    "/sitemaps/{name}.xml",
    response_class=Response,
    responses={**XML_RESPONSES, **problem_responses(404, 422)},
    summary="One sitemap",
)
@public_read
def get_sitemap(request: Request, session: SessionDep, now: NowDep, name: SitemapName) -> Response:
    """A sitemaps.org `urlset` of frontend URLs with their `lastmod`: articles published
    in one month (oldest first), the home page and the pages, or the tags or authors with a
    published article. An article or page with published translations lists every language
    version as `<xhtml:link rel="alternate" hreflang="…" href="…"/>` (its own included).
    A 404 for a sitemap the index does not list."""
    site = load_site(session, base_url(request))
    entries, keys, with_home = _entries(session, now, name)
    urls: list[tuple[str, datetime | None, list[tuple[str, str]]]] = [
        (
            frontend_url(site, entry.kind, entry.slug),
            entry.lastmod,
            [(lang, frontend_url(site, entry.kind, slug)) for lang, slug in entry.alternates],
        )
        for entry in entries
    ]
    if with_home:  # it changes with every article: no single lastmod to give
        urls.insert(0, (absolute_url(site, "/"), None, []))
    if not urls:
        raise NotFound(f"No sitemap `{name}`.")
    newest = max((lastmod for _, lastmod, _alternates in urls if lastmod), default=None)
    return xml_response(request, urlset_document(urls), keys, newest)


def news_items(site: SiteView, entries: Iterable[Any]) -> Iterator[tuple[str, str, datetime, str]]:
    for entry in entries:
        url = frontend_url(site, "article", entry.slug)
        yield url, entry.title, entry.published_at, entry.lang


@router.get(
    "/sitemap-news.xml",
    response_class=Response,
    responses={**XML_RESPONSES, **problem_responses(422)},
    summary="The Google News sitemap",
)
@public_read
def get_news_sitemap(request: Request, session: SessionDep, now: NowDep) -> Response:
    """A Google News sitemap of the articles published in the last 48 hours (newest first,
    at most 1,000): each with the publication's name (the site's title), the article's
    language, its publication time and headline."""
    site = load_site(session, base_url(request))
    entries = news_entries(session, now)
    body = news_document(news_items(site, entries), site.title)
    newest = max((e.published_at for e in entries), default=None)
    return xml_response(request, body, ["articles"], newest)

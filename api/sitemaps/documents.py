"""The sitemap protocol's XML (sitemaps.org 0.9) and Google News sitemaps, written as text:
every value is escaped, and a sitemap is built from batches without holding rows."""

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from xml.sax.saxutils import escape, quoteattr

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
XHTML_NS = "http://www.w3.org/1999/xhtml"
HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n'


def w3c_time(moment: datetime) -> str:
    """W3C Datetime in UTC, to the second: `2026-05-31T12:00:00Z`."""
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _lastmod(moment: datetime | None) -> str:
    return f"<lastmod>{w3c_time(moment)}</lastmod>" if moment else ""


def sitemap_index_document(sitemaps: Iterable[tuple[str, datetime | None]]) -> bytes:
    """`<sitemapindex>` of (absolute URL, lastmod)."""
    parts = [HEADER, f'<sitemapindex xmlns="{SITEMAP_NS}">\n']
    for loc, lastmod in sitemaps:
        parts.append(f"<sitemap><loc>{escape(loc)}</loc>{_lastmod(lastmod)}</sitemap>\n")
    parts.append("</sitemapindex>\n")
    return "".join(parts).encode()


def _alternates(alternates: Sequence[tuple[str, str]]) -> str:
    """Google's `xhtml:link rel="alternate" hreflang` for each language version (the URL's
    own one included, as Google asks)."""
    return "".join(
        f'<xhtml:link rel="alternate" hreflang={quoteattr(lang)} href={quoteattr(href)}/>'
        for lang, href in alternates
    )


def urlset_document(
    urls: Iterable[tuple[str, datetime | None, Sequence[tuple[str, str]]]],
) -> bytes:
    """`<urlset>` of (absolute URL, lastmod, its language versions as (hreflang, URL))."""
    parts = [HEADER, f'<urlset xmlns="{SITEMAP_NS}" xmlns:xhtml="{XHTML_NS}">\n']
    for loc, lastmod, alternates in urls:
        parts.append(
            f"<url><loc>{escape(loc)}</loc>{_lastmod(lastmod)}{_alternates(alternates)}</url>\n"
        )
    parts.append("</urlset>\n")
    return "".join(parts).encode()


def news_language(language: str) -> str:
    """Google News takes an ISO 639 code (`en`, `de`), or `zh-cn` / `zh-tw`."""
    tag = language.lower()
    if tag in ("zh-cn", "zh-tw"):
        return tag
    if tag.startswith("zh-hant"):
        return "zh-tw"
    if tag.startswith("zh"):
        return "zh-cn"
    return tag.split("-", 1)[0]


def news_document(items: Iterable[tuple[str, str, datetime, str]], publication: str) -> bytes:
    """A Google News sitemap of (absolute URL, title, publication time, language: the
    article's own, since one publication may publish in several)."""
    name = escape(publication)
    parts = [HEADER, f'<urlset xmlns="{SITEMAP_NS}" xmlns:news="{NEWS_NS}">\n']
    for loc, title, published_at, language in items:
        lang = escape(news_language(language))
        parts.append(
            f"<url><loc>{escape(loc)}</loc><news:news><news:publication>"
            f"<news:name>{name}</news:name><news:language>{lang}</news:language>"
            f"</news:publication><news:publication_date>{w3c_time(published_at)}"
            f"</news:publication_date><news:title>{escape(title)}</news:title>"
            "</news:news></url>\n"
        )
    parts.append("</urlset>\n")
    return "".join(parts).encode()

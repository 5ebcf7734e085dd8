"""Feeds: the latest published articles as RSS 2.0, Atom 1.0 and JSON Feed 1.1 documents.

Titles, descriptions, the language and every link to a web page come from the site
settings: items link to the article on the frontend, the feed to the frontend's home."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from feedgen.feed import FeedGenerator

from api.articles.reads import ArticleView
from api.site.service import SiteView, frontend_url

DEFAULT_DESCRIPTION = "The latest published articles"


def article_guid(article: ArticleView) -> str:
    """A stable identifier: it survives slug and title changes."""
    return f"urn:masthead:article:{article.id}"


def article_link(article: ArticleView, site: SiteView) -> str:
    """The article's web page: its canonical URL, else its page on the frontend."""
    return article.canonical_url or frontend_url(site, "article", article.slug)


def home_page(site: SiteView) -> str:
    return site.url.rstrip("/") + "/"


def feed_description(site: SiteView, narrowed: str) -> str:
    """The site's description (or a plain default), saying what narrows the feed."""
    description = site.description or DEFAULT_DESCRIPTION
    return f"{description.rstrip('.')} ({narrowed})." if narrowed else description


def _generator(
    articles: Sequence[ArticleView],
    *,
    site: SiteView,
    self_url: str,
    subtitle: str,
    updated: datetime,
) -> FeedGenerator:
    feed = FeedGenerator()
    feed.id(self_url)
    feed.title(site.title)
    feed.subtitle(subtitle)
    feed.description(subtitle)
    feed.link(href=home_page(site), rel="alternate")
    feed.link(href=self_url, rel="self")
    feed.language(site.language)
    feed.updated(updated)
    feed.lastBuildDate(updated)
    feed.generator("Masthead")
    feed.load_extension("dc")
    # feedgen prepends entries; add oldest first so the newest comes first in the document.
    for article in reversed(articles):
        entry = feed.add_entry()
        entry.id(article_guid(article))
        entry.guid(article_guid(article), permalink=False)
        entry.title(article.title)
        entry.link(href=article_link(article, site), rel="alternate")
        entry.published(article.published_at)
        entry.updated(article.updated_at)
        if article.excerpt:
            entry.summary(article.excerpt)
            entry.description(article.excerpt)
        entry.content(article.body_html, type="CDATA")
        for author in article.authors:
            entry.author({"name": author.name, **({"uri": author.url} if author.url else {})})
        if article.authors:
            # RSS <author> must be an email address; names go in dc:creator instead.
            entry.dc.dc_creator([author.name for author in article.authors])
        for tag in article.tags:
            entry.category(term=tag.slug, label=tag.name)
    return feed


def rss_document(articles: Sequence[ArticleView], **options: Any) -> bytes:
    feed = _generator(articles, **options)
    rss: bytes = feed.rss_str(pretty=False)
    return rss


def atom_document(articles: Sequence[ArticleView], **options: Any) -> bytes:
    # Atom uses `content` natively; CDATA is an RSS-only convention.
    feed = _generator(articles, **options)
    for entry in feed.entry():
        entry.content(entry.content()["content"], type="html")
    atom: bytes = feed.atom_str(pretty=False)
    return atom


def json_feed_document(
    articles: Sequence[ArticleView],
    *,
    site: SiteView,
    self_url: str,
    subtitle: str,
    updated: datetime,
) -> dict[str, Any]:
    """JSON Feed 1.1 (https://jsonfeed.org/version/1.1)."""
    del updated
    return {
        "version": "https://jsonfeed.org/version/1.1",
        "title": site.title,
        "home_page_url": home_page(site),
        "feed_url": self_url,
        "description": subtitle,
        "language": site.language,
        **({"icon": site.icon} if site.icon else {}),
        "items": [
            {
                "id": article_guid(article),
                "url": article_link(article, site),
                "title": article.title,
                "summary": article.excerpt,
                "content_html": article.body_html,
                "date_published": article.published_at,
                "date_modified": article.updated_at,
                "language": article.lang,
                "authors": [
                    {"name": a.name, **({"url": a.url} if a.url else {})} for a in article.authors
                ],
                "tags": [t.name for t in article.tags],
            }
            for article in articles
        ],
    }

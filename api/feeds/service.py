"""Feeds: the latest published articles as RSS 2.0, Atom 1.0 and JSON Feed 1.1 documents.

Titles, descriptions, the language and every link to a web page come from the site
settings: items link to the article on the frontend, the feed to the frontend's home.

A corrected article carries its notes at the top of its content and its latest note in its
summary; a retracted one says so in its title too. With a WebSub hub, the feed links to it
(`rel="hub"`; JSON Feed's `hubs`) and its `rel="self"` is the topic the hub is pinged with.
"""

import html
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from feedgen.feed import FeedGenerator
from lxml import etree

from api.articles.reads import ArticleView
from api.corrections.schemas import is_retracted, plain_text
from api.site.service import SiteView, frontend_url

DEFAULT_DESCRIPTION = "The latest published articles"
ATOM_NS = "http://www.w3.org/2005/Atom"


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


def feed_time(article: ArticleView) -> datetime:
    """When the article last came out: its publication, or its latest note after it."""
    times = [article.published_at or datetime.min.replace(tzinfo=UTC)]
    return max(times + [note.published_at for note in article.corrections])


def item_title(article: ArticleView) -> str:
    return f"Retracted: {article.title}" if is_retracted(article.corrections) else article.title


def _note_label(note: Any) -> str:
    return f"{str(note.kind).capitalize()} ({note.published_at.astimezone(UTC):%Y-%m-%d})"


def item_summary(article: ArticleView) -> str | None:
    """The excerpt, after the latest note (the retraction, once there is one)."""
    notes = list(article.corrections)
    retractions = [note for note in notes if note.kind == "retraction"]
    latest = (retractions or notes)[-1:] if notes else []
    lead = " ".join(f"{_note_label(n)}: {plain_text(n.text)}" for n in latest)
    return " ".join(part for part in (lead, article.excerpt or "") if part) or None


def item_content(article: ArticleView) -> str:
    """The body, after the notes (oldest first), so a reader re-sent the item sees them."""
    if not article.corrections:
        return article.body_html
    notes = "".join(
        f"<p><strong>{html.escape(_note_label(n))}:</strong> {n.text}</p>"
        for n in article.corrections
    )
    return f'<aside class="corrections">{notes}</aside>{article.body_html}'


def _generator(
    articles: Sequence[ArticleView],
    *,
    site: SiteView,
    self_url: str,
    subtitle: str,
    updated: datetime,
    hub: str | None = None,
) -> FeedGenerator:
    feed = FeedGenerator()
    feed.id(self_url)
    feed.title(site.title)
    feed.subtitle(subtitle)
    feed.description(subtitle)
    feed.link(href=self_url, rel="self")
    if hub:
        feed.link(href=hub, rel="hub")
    # Last: RSS's own <link> is the last link given, and it names the home page.
    feed.link(href=home_page(site), rel="alternate")
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
        entry.title(item_title(article))
        entry.link(href=article_link(article, site), rel="alternate")
        entry.published(article.published_at)
        entry.updated(article.updated_at)
        summary = item_summary(article)
        if summary:
            entry.summary(summary)
            entry.description(summary)
        entry.content(item_content(article), type="CDATA")
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
    hub = options.get("hub")
    if not hub:
        return rss
    # feedgen writes only the `self` atom:link into RSS; the hub's goes beside it.
    document = etree.fromstring(rss)
    channel = document.find("channel")
    assert channel is not None
    self_link = channel.find(f"{{{ATOM_NS}}}link")
    link = etree.Element(f"{{{ATOM_NS}}}link", href=hub, rel="hub")
    if self_link is not None:
        self_link.addnext(link)
    else:
        channel.append(link)
    with_hub: bytes = etree.tostring(document, xml_declaration=True, encoding="UTF-8")
    return with_hub


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
    hub: str | None = None,
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
        **({"hubs": [{"type": "WebSub", "url": hub}]} if hub else {}),
        "items": [
            {
                "id": article_guid(article),
                "url": article_link(article, site),
                "title": item_title(article),
                "summary": item_summary(article),
                "content_html": item_content(article),
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

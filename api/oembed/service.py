"""oEmbed (oembed.com) cards of articles and of the calls to action shown in them: which
frontend URL names what, and the card's HTML, sanitised and loading nothing."""

import re
from dataclasses import dataclass
from html import escape
from typing import Any
from urllib.parse import urlsplit

import nh3

from api.articles.reads import ArticleView
from api.site.service import SiteView, absolute_url, frontend_url

DEFAULT_WIDTH = 550
DEFAULT_HEIGHT = {"article": 320, "action": 240}
# An action card is addressed by its article's frontend URL with this fragment.
ACTION_FRAGMENT = re.compile(r"^action-(?P<slug>[a-z0-9]+(?:-[a-z0-9]+)*)$")
SLUG = r"(?P<slug>[a-z0-9]+(?:-[a-z0-9]+)*)"
# What a card may contain: text, emphasis and links, nothing that loads (no images, frames,
# scripts, styles from elsewhere), and of styles only its size.
CARD_TAGS = {"blockquote", "p", "strong", "a", "span"}
CARD_ATTRIBUTES = {"blockquote": {"class", "style"}, "p": {"class"}, "a": {"href"}}
CARD_STYLES = {"max-width", "max-height", "overflow"}


@dataclass(frozen=True)
class CardTarget:
    """What a frontend URL names: an article (`action` None) or an action in it."""

    article_slug: str
    action_slug: str | None


def _origin_and_path(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    path = parts.path or "/"
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}", path.rstrip("/") or "/"


def card_target(site: SiteView, url: str) -> CardTarget | None:
    """The article (and action) a frontend URL names, by the site's `article_url_template`;
    None when it names none. The query string is ignored; a trailing slash is optional."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    template = absolute_url(site, site.article_url_template)
    if template.count("{slug}") != 1:
        return None
    origin, path = _origin_and_path(template)
    pattern = re.escape(path).replace(re.escape("{slug}"), SLUG)
    asked_origin, asked_path = _origin_and_path(url)
    match = re.fullmatch(pattern, asked_path) if asked_origin == origin else None
    if match is None:
        return None
    action = None
    if parts.fragment:
        fragment = ACTION_FRAGMENT.match(parts.fragment)
        if fragment is None:
            return None
        action = fragment["slug"]
    return CardTarget(match["slug"], action)


def card_size(kind: str, maxwidth: int | None, maxheight: int | None) -> tuple[int, int]:
    """Our size, within the consumer's maxima."""
    width = min(DEFAULT_WIDTH, maxwidth or DEFAULT_WIDTH)
    height = min(DEFAULT_HEIGHT[kind], maxheight or DEFAULT_HEIGHT[kind])
    return width, height


def sanitised(html: str) -> str:
    return nh3.clean(
        html,
        tags=CARD_TAGS,
        attributes=CARD_ATTRIBUTES,
        url_schemes={"http", "https"},
        link_rel="noopener noreferrer",
        filter_style_properties=CARD_STYLES,
        strip_comments=True,
    )


def _card(kind: str, width: int, height: int, lines: list[str]) -> str:
    style = f"max-width:{width}px;max-height:{height}px;overflow:hidden"
    body = "".join(lines)
    return sanitised(
        f'<blockquote class="masthead-embed masthead-{kind}" style="{style}">{body}</blockquote>'
    )


def _link(url: str, text: str) -> str:
    return f'<a href="{escape(url)}">{escape(text)}</a>'


def article_card(article: ArticleView, site: SiteView, width: int, height: int) -> dict[str, Any]:
    url = frontend_url(site, "article", article.slug)
    authors = ", ".join(author.name for author in article.authors)
    lines = [f"<p><strong>{_link(url, article.title)}</strong></p>"]
    if article.excerpt:
        lines.append(f"<p>{escape(article.excerpt)}</p>")
    byline = f"{escape(authors)} · " if authors else ""
    lines.append(f'<p class="masthead-embed-byline">{byline}{_link(site.url, site.title)}</p>')
    card = {"title": article.title, "html": _card("article", width, height, lines)}
    if article.authors:
        first = article.authors[0]
        card["author_name"] = authors
        card["author_url"] = frontend_url(site, "author", first.slug)
    return card


def action_card(
    article: ArticleView, action: Any, site: SiteView, width: int, height: int
) -> dict[str, Any]:
    """A call to action as shown in `article`: what it asks, who runs it, where to act."""
    url = frontend_url(site, "article", article.slug)
    lines = [f"<p><strong>{escape(action.title)}</strong></p>"]
    if action.description:
        lines.append(f"<p>{escape(action.description)}</p>")
    by = f" ({escape(action.organisation)})" if action.organisation else ""
    lines.append(f"<p>{_link(action.url, 'Take part')}{by}</p>")
    lines.append(
        f'<p class="masthead-embed-byline">From {_link(url, article.title)} · '
        f"{_link(site.url, site.title)}</p>"
    )
    return {"title": action.title, "html": _card("action", width, height, lines)}

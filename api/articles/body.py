"""An article's body: Markdown or HTML in, sanitised HTML out, with what is derived from it."""

import html
import math
import re
from dataclasses import dataclass

import nh3
from markdown_it import MarkdownIt

WORDS_PER_MINUTE = 230
EXCERPT_CHARS = 280

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "del", "em",
    "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins",
    "li", "mark", "ol", "p", "pre", "q", "s", "small", "strong", "sub", "sup",
    "table", "tbody", "td", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "hreflang"},
    "img": {"src", "alt", "title", "width", "height", "loading"},
    "blockquote": {"cite"},
    "q": {"cite"},
    "abbr": {"title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start"},
    "code": {"class"},
}
URL_SCHEMES = {"http", "https", "mailto"}
_markdown = MarkdownIt("commonmark", {"html": True, "linkify": False}).enable("table")
_BLOCK_TAG = re.compile(
    r"</?(?:p|br|hr|h[1-6]|li|ul|ol|blockquote|figure|figcaption|pre|table|tr|td|th|"
    r"thead|tbody|caption)\b[^>]*>",
    re.IGNORECASE,
)
_TAG = re.compile(r"<[^>]*>")
# The title is the page's only <h1>; headings in a body start at <h2>.
_H1 = re.compile(r"<(/?)h1\b", re.IGNORECASE)
# Characters reserved as search-highlight sentinels never reach the index.
_SENTINELS = str.maketrans("", "", "\ue000\ue001")


def sanitise_html(raw: str) -> str:
    """Keep the allow-list; drop scripts, handlers and non-http(s) URLs; rel on every link."""
    return nh3.clean(
        _H1.sub(r"<\1h2", raw),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def render_markdown(source: str) -> str:
    return sanitise_html(_markdown.render(source))


def _words(safe_html: str) -> list[str]:
    """The readable words of sanitised HTML: blocks apart, inline markup joined to its words."""
    text = html.unescape(_TAG.sub("", _BLOCK_TAG.sub(" ", safe_html)))
    # str.split() splits on exactly what `\s` matches, without the cost of a regex pass.
    return text.translate(_SENTINELS).split()


@dataclass(frozen=True)
class Body:
    html: str
    text: str
    word_count: int
    reading_time: int

    def excerpt(self) -> str:
        if len(self.text) <= EXCERPT_CHARS:
            return self.text
        cut = self.text[:EXCERPT_CHARS].rsplit(" ", 1)[0]
        return cut.rstrip(",;:.") + "…"


def derive_body(*, body_html: str | None = None, body_markdown: str | None = None) -> Body:
    """Sanitise (or render) the body and derive its text, word count and reading time."""
    safe = (
        render_markdown(body_markdown)
        if body_markdown is not None
        else sanitise_html(body_html or "")
    )
    words = _words(safe)
    minutes = max(1, math.ceil(len(words) / WORDS_PER_MINUTE)) if words else 0
    return Body(safe, " ".join(words), len(words), minutes)

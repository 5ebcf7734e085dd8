"""HTML from Ghost's editor documents, for posts exported without an `html` field.

Ghost keeps a post as a Mobiledoc (Ghost 1 to 4) or Lexical (Ghost 5 and later) document
and renders HTML from it. Exports normally carry that HTML; when one does not, this renders
the parts that are plain publishing (text, headings, lists, quotes, links, images, HTML and
Markdown cards, code) and reports the cards it could not render (signup forms, products,
paywalls...), which are left out. The result goes through the sanitiser like any body.
"""

from collections.abc import Iterable
from html import escape
from typing import Any

from api.articles.body import render_markdown

# Lexical text format bits, outermost first.
TEXT_FORMATS = (
    (16, "code"),
    (1, "strong"),
    (2, "em"),
    (4, "s"),
    (8, "u"),
    (32, "sub"),
    (64, "sup"),
    (128, "mark"),
)
BLOCK_TAGS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "aside", "pull-quote"}


class Rendering:
    """Collects the names of cards and nodes that could not be rendered."""

    def __init__(self) -> None:
        self.left_out: list[str] = []

    def skip(self, name: str) -> str:
        self.left_out.append(name)
        return ""


def _attr(value: Any) -> str:
    return escape(str(value), quote=True)


def _figure(src: Any, alt: Any, caption: Any) -> str:
    if not isinstance(src, str) or not src:
        return ""
    img = f'<img src="{_attr(src)}" alt="{_attr(alt or "")}">'
    caption_html = f"<figcaption>{caption}</figcaption>" if caption else ""
    return f"<figure>{img}{caption_html}</figure>"


def _card(name: str, payload: dict[str, Any], rendering: Rendering) -> str:
    """The cards Mobiledoc and Lexical share, by name and payload."""
    if name in ("markdown", "card-markdown"):
        return render_markdown(str(payload.get("markdown") or ""))
    if name in ("html", "embed"):
        caption = payload.get("caption")
        body = str(payload.get("html") or "")
        return f"<figure>{body}<figcaption>{caption}</figcaption></figure>" if caption else body
    if name == "image":
        return _figure(payload.get("src"), payload.get("alt"), payload.get("caption"))
    if name in ("hr", "horizontalrule"):
        return "<hr>"
    if name in ("code", "codeblock"):
        language = payload.get("language")
        css = f' class="language-{_attr(language)}"' if language else ""
        return f"<pre><code{css}>{escape(str(payload.get('code') or ''))}</code></pre>"
    if name == "bookmark":
        url = payload.get("url")
        title = (payload.get("metadata") or {}).get("title") or url
        return f'<p><a href="{_attr(url)}">{escape(str(title))}</a></p>' if url else ""
    if name == "gallery":
        images = payload.get("images") or []
        figures = "".join(_figure(i.get("src"), i.get("alt"), i.get("caption")) for i in images)
        return figures
    if name == "callout":
        return f"<blockquote>{payload.get('calloutText') or ''}</blockquote>"
    if name == "button" and payload.get("buttonUrl"):
        text = escape(str(payload.get("buttonText") or payload["buttonUrl"]))
        return f'<p><a href="{_attr(payload["buttonUrl"])}">{text}</a></p>'
    if name == "toggle":
        return f"<h3>{payload.get('heading') or ''}</h3>{payload.get('content') or ''}"
    return rendering.skip(name)


def render_mobiledoc(document: dict[str, Any], rendering: Rendering) -> str:
    """HTML of a Mobiledoc 0.3 document (Ghost 1 to 4)."""
    markups = document.get("markups") or []
    atoms = document.get("atoms") or []
    cards = document.get("cards") or []

    def markers(items: Iterable[Any]) -> str:
        out: list[str] = []
        open_tags: list[str] = []
        for kind, opened, closed, value in items:
            for index in opened:
                tag, attributes = (markups[index] + [[]])[:2]
                pairs = zip(attributes[::2], attributes[1::2], strict=False)
                rendered = "".join(f' {name}="{_attr(v)}"' for name, v in pairs)
                out.append(f"<{tag}{rendered}>")
                open_tags.append(tag)
            if kind == 0:
                out.append(escape(str(value)))
            else:
                name, text = atoms[value][0], atoms[value][1]
                out.append("<br>" if name == "soft-return" else escape(str(text)))
            for _ in range(closed):
                out.append(f"</{open_tags.pop()}>")
        out.extend(f"</{tag}>" for tag in reversed(open_tags))
        return "".join(out)

    html: list[str] = []
    for section in document.get("sections") or []:
        kind = section[0]
        if kind == 1:
            tag = section[1].lower()
            tag = "blockquote" if tag in ("aside", "pull-quote") else tag
            html.append(f"<{tag}>{markers(section[2])}</{tag}>" if tag in BLOCK_TAGS else "")
        elif kind == 2:
            html.append(_figure(section[1], None, None))
        elif kind == 3:
            tag = "ol" if section[1].lower() == "ol" else "ul"
            items = "".join(f"<li>{markers(item)}</li>" for item in section[2])
            html.append(f"<{tag}>{items}</{tag}>")
        elif kind == 10:
            name, payload = cards[section[1]]
            html.append(_card(name, payload or {}, rendering))
        else:
            rendering.skip(f"section {kind}")
    return "".join(html)


def render_lexical(document: dict[str, Any], rendering: Rendering) -> str:
    """HTML of a Lexical document (Ghost 5 and later)."""

    def children(node: dict[str, Any]) -> str:
        return "".join(render(child) for child in node.get("children") or [])

    def render(node: dict[str, Any]) -> str:
        kind = str(node.get("type") or "").removeprefix("extended-")
        if kind == "text":
            text = escape(str(node.get("text") or ""))
            fmt = int(node.get("format") or 0)
            for bit, tag in reversed(TEXT_FORMATS):
                if fmt & bit:
                    text = f"<{tag}>{text}</{tag}>"
            return text
        if kind == "paragraph":
            return f"<p>{children(node)}</p>"
        if kind == "heading":
            tag = str(node.get("tag") or "h2")
            tag = tag if tag in BLOCK_TAGS else "h2"
            return f"<{tag}>{children(node)}</{tag}>"
        if kind in ("quote", "aside"):
            return f"<blockquote>{children(node)}</blockquote>"
        if kind == "list":
            tag = "ol" if node.get("listType") == "number" or node.get("tag") == "ol" else "ul"
            return f"<{tag}>{children(node)}</{tag}>"
        if kind == "listitem":
            return f"<li>{children(node)}</li>"
        if kind in ("link", "autolink"):
            return f'<a href="{_attr(node.get("url") or "")}">{children(node)}</a>'
        if kind == "linebreak":
            return "<br>"
        if kind == "tab":
            return " "
        if kind == "root":
            return children(node)
        return _card(kind, node, rendering)

    root = document.get("root")
    return render(root) if isinstance(root, dict) else ""

"""WordPress's export (WXR 1.0 to 1.2, Tools → Export) as `SourcePost`s, streamed.

A WXR file is RSS 2.0 with WordPress's namespaces: the channel lists the authors
(`wp:author`) and terms (`wp:category`, `wp:tag`, `wp:term`), then one `item` per post,
page, attachment, menu item... with `wp:post_type`, `wp:status`, `wp:post_name` (the slug,
percent-encoded when not ASCII), `wp:post_date_gmt`, `content:encoded`, `excerpt:encoded`,
`dc:creator` (an author's login) and `category` elements (`domain="category"` or
`"post_tag"`, `nicename` the term's slug).

The file is read with lxml's iterparse and every element is dropped once read, so memory
stays flat whatever its size. A file with a DOCTYPE is refused before anything is read:
WXR never has one, and a DOCTYPE is what entity expansion ("billion laughs") and external
entities (XXE) need. Entities are never resolved and nothing is fetched from the network.
"""

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import IO, Any

from lxml import etree

from api.importers.common import (
    PAGES_IMPORTED,
    ImportRefused,
    Notes,
    SourceAuthor,
    SourcePost,
    SourceTag,
    clean_slug,
    plain_text,
    source_id,
    title_or_untitled,
)

Progress = Callable[[int, int], None]
NAMESPACES = {
    "http://purl.org/rss/1.0/modules/content/": "content",
    "http://purl.org/dc/elements/1.1/": "dc",
}
WXR = "http://wordpress.org/export/"
STATUSES = {
    "publish": "published",
    "future": "scheduled",
    "draft": "draft",
    "pending": "draft",
    "private": "draft",
}
TAG_DOMAINS = ("category", "post_tag")
LANG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
NO_DATE = "0000-00-00 00:00:00"
# Classic-editor content is stored without paragraphs: WordPress adds them when it
# renders (wpautop). Block-editor content (`<!-- wp:… -->`) is already HTML.
_BLOCK_START = re.compile(
    r"^<(?:p|div|h[1-6]|ul|ol|li|dl|blockquote|pre|table|figure|hr|address|section|"
    r"article|aside|header|footer|nav|form|iframe)\b",
    re.IGNORECASE,
)
_CAPTION = re.compile(r"\[caption[^\]]*\](.*?)\[/caption\]", re.IGNORECASE | re.DOTALL)
_CAPTIONED_IMAGE = re.compile(r"^\s*((?:<a\b[^>]*>)?\s*<img\b[^>]*>\s*(?:</a>)?)(.*)$", re.DOTALL)


def _name(tag: Any) -> str:
    """`{http://wordpress.org/export/1.2/}post_id` -> `wp:post_id`, and so on."""
    if not isinstance(tag, str) or not tag.startswith("{"):
        return str(tag)
    namespace, local = tag[1:].split("}", 1)
    if namespace.startswith(WXR):
        return ("excerpt:" if namespace.endswith("/excerpt/") else "wp:") + local
    prefix = NAMESPACES.get(namespace)
    return f"{prefix}:{local}" if prefix else local


def _captions(html: str) -> str:
    def figure(match: re.Match[str]) -> str:
        found = _CAPTIONED_IMAGE.match(match.group(1))
        if not found:
            return match.group(1)
        return f"<figure>{found.group(1)}<figcaption>{found.group(2).strip()}</figcaption></figure>"

    return _CAPTION.sub(figure, html)


def autop(text: str) -> str:
    """Paragraphs from blank lines and line breaks from single ones, as WordPress shows
    classic-editor posts; blocks that are already HTML are left as they are."""
    chunks = re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip())
    html = []
    for chunk in (c.strip() for c in chunks):
        if not chunk:
            continue
        if _BLOCK_START.match(chunk):
            html.append(chunk)
        else:
            html.append("<p>" + chunk.replace("\n", "<br>\n") + "</p>")
    return "\n".join(html)


def body_html(content: str) -> str:
    content = _captions(content)
    return content if "<!-- wp:" in content else autop(content)


def _wp_time(value: str | None) -> datetime | None:
    if not value or value.strip() in ("", NO_DATE):
        return None
    try:
        return datetime.strptime(value.strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def _rss_time(value: str | None) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value or "")
    except (TypeError, ValueError, IndexError):
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo and parsed.year > 1 else None


def _refuse_doctype(element: Any, path: Path) -> None:
    if element.getroottree().docinfo.doctype:
        raise ImportRefused(
            f"{path.name}: the file has a DOCTYPE. WordPress exports have none, and XML "
            "entity declarations and external entities are refused."
        )


def _parser(source: IO[bytes]) -> Any:
    return etree.iterparse(
        source,
        events=("start", "end"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


class WordPressExport:
    """One WXR file, read as a stream of items."""

    def __init__(self, path: Path, site_url: str | None, notes: Notes) -> None:
        if site_url:
            raise ImportRefused(
                "--site-url is for Ghost exports: a WordPress export names its own site."
            )
        self.path = path
        self.notes = notes
        self.size = 0
        # Refuse a DOCTYPE (and an unreadable file) before any transaction begins.
        try:
            with path.open("rb") as source:
                self.size = path.stat().st_size
                for _event, element in _parser(source):
                    _refuse_doctype(element, path)
                    break
        except OSError as exc:
            raise ImportRefused(f"cannot read {path}: {exc.strerror or exc}.") from None
        except etree.XMLSyntaxError as exc:
            raise ImportRefused(f"{path.name}: not a WordPress export (WXR): {exc}.") from None

    def read(self, progress: Progress | None = None) -> Iterator[SourcePost]:
        try:
            with self.path.open("rb") as source:
                yield from self._items(source, progress)
        except etree.XMLSyntaxError as exc:
            raise ImportRefused(f"{self.path.name}: not well-formed XML: {exc}.") from None

    def _items(self, source: IO[bytes], progress: Progress | None) -> Iterator[SourcePost]:
        channel: dict[str, str] = {}
        authors: dict[str, SourceAuthor] = {}
        terms: dict[str, str | None] = {}  # term slug -> description
        first = True
        for event, element in _parser(source):
            if first:
                _refuse_doctype(element, self.path)
                first = False
            if event != "end":
                continue
            parent = element.getparent()
            if parent is None or _name(parent.tag) != "channel":
                continue
            name = _name(element.tag)
            if name == "item":
                post = self._post(_fields(element), channel, authors, terms)
                if post is not None:
                    yield post
                if progress:
                    progress(source.tell(), self.size)
            elif name == "wp:author":
                self._author(_fields(element), authors)
            elif name in ("wp:category", "wp:tag", "wp:term"):
                fields = _fields(element)
                slug = (
                    fields.get("wp:category_nicename")
                    or fields.get("wp:tag_slug")
                    or fields.get("wp:term_slug")
                )
                description = (
                    fields.get("wp:category_description")
                    or fields.get("wp:tag_description")
                    or fields.get("wp:term_description")
                )
                if slug:
                    terms[clean_slug(slug, slug)] = plain_text(description)
            else:
                channel[name] = (element.text or "").strip()
            # Drop what was read: the channel never holds more than the current element.
            element.clear(keep_tail=False)
            while element.getprevious() is not None:
                del parent[0]
        if progress:
            progress(self.size, self.size)

    def _author(self, fields: dict[str, Any], authors: dict[str, SourceAuthor]) -> None:
        login = str(fields.get("wp:author_login") or "").strip()
        if not login:
            return
        name = str(fields.get("wp:author_display_name") or "").strip() or login
        # WordPress makes author URLs from the login; one that is an email address would
        # publish it, so such an author's slug comes from their name.
        slug = clean_slug(name if "@" in login else login, name)
        authors[login] = SourceAuthor(slug=slug, name=name)

    def _post(
        self,
        fields: dict[str, Any],
        channel: dict[str, str],
        authors: dict[str, SourceAuthor],
        terms: dict[str, str | None],
    ) -> SourcePost | None:
        post_id = str(fields.get("wp:post_id") or "").strip()
        post_type = str(fields.get("wp:post_type") or "post").strip()
        label = f"{post_type} {fields.get('wp:post_name') or fields.get('title')!r}"
        label += f" (WordPress post_id {post_id})"
        if post_type == "attachment":
            self.notes.skip("attachments (media files are not imported)", label)
            return None
        if post_type not in ("post", "page"):
            self.notes.skip(f"items of type {post_type!r}", label)
            return None
        if post_type == "page" and not PAGES_IMPORTED:
            self.notes.skip("pages (this Masthead has no pages yet)", label)
            return None
        wp_status = str(fields.get("wp:status") or "").strip()
        status = STATUSES.get(wp_status)
        if status is None:
            self.notes.skip(f"items with status {wp_status!r}", label)
            return None
        if not post_id.isdigit() or len(post_id) > 20:
            raise ImportRefused(f"{label}: wp:post_id is not a number.")
        site = channel.get("wp:base_site_url") or channel.get("wp:base_blog_url")
        site = site or channel.get("link")
        if not site:
            raise ImportRefused(f"{self.path.name}: no wp:base_site_url before the first item.")
        if wp_status == "private":
            self.notes.warn("private posts imported as drafts", label)
        if (fields.get("wp:post_password") or "").strip():
            self.notes.warn("password-protected posts imported as drafts", label)
            status = "draft"
        published = _wp_time(fields.get("wp:post_date_gmt")) or _rss_time(fields.get("pubDate"))
        if published is None and status != "draft":
            published = _wp_time(fields.get("wp:post_date"))
            if published is not None:
                self.notes.warn("times without a GMT date read as UTC", label)
        if published is None and status != "draft":
            raise ImportRefused(f"{label}: is {wp_status} but has no date.")
        title = str(fields.get("title") or "")
        # The permalink; drafts and scheduled posts never had a public one.
        permalink = (fields.get("link") or "").strip() if status == "published" else ""
        language = channel.get("language") or "en"
        return SourcePost(
            id=source_id("wordpress", site, post_id),
            label=label,
            kind="page" if post_type == "page" else "article",
            slug=clean_slug(fields.get("wp:post_name"), title.strip() or f"{post_type}-{post_id}"),
            title=title_or_untitled(title, label, self.notes),
            body_html=body_html(str(fields.get("content:encoded") or "")),
            status=status,
            published_at=published if status != "draft" else None,
            created_at=published or _wp_time(fields.get("wp:post_date_gmt")),
            updated_at=_wp_time(fields.get("wp:post_modified_gmt")),
            excerpt=plain_text(fields.get("excerpt:encoded")),
            canonical_url=permalink or None,
            lang=language if LANG.match(language) else "en",
            authors=self._credits(fields, authors, label),
            tags=self._tags(fields, terms, label),
        )

    def _credits(
        self, fields: dict[str, Any], authors: dict[str, SourceAuthor], label: str
    ) -> list[SourceAuthor]:
        login = str(fields.get("dc:creator") or "").strip()
        if not login:
            self.notes.warn("posts without an author", label)
            return []
        if login not in authors:
            # WXR 1.0 lists no authors; later files can miss a deleted user.
            self.notes.warn("authors not listed in the export named after their login", label)
            authors[login] = SourceAuthor(slug=clean_slug(login, login), name=login)
        return [authors[login]]

    def _tags(
        self, fields: dict[str, Any], terms: dict[str, str | None], label: str
    ) -> list[SourceTag]:
        tags: list[SourceTag] = []
        for domain, nicename, name in fields["categories"]:
            if domain not in TAG_DOMAINS:
                if domain != "post_format":
                    self.notes.warn(f"terms of taxonomy {domain!r} left out", label)
                continue
            name = name.strip()
            slug = clean_slug(nicename, name or "tag")
            if domain == "category" and slug == "uncategorized":
                continue  # WordPress's default category says nothing about a post
            if name:
                tags.append(SourceTag(slug=slug, name=name, description=terms.get(slug)))
        return tags


def _fields(element: Any) -> dict[str, Any]:
    """An element's children by name (text), with an item's categories as a list."""
    fields: dict[str, Any] = {"categories": []}
    for child in element:
        name = _name(child.tag)
        if name == "category":
            fields["categories"].append(
                (child.get("domain"), child.get("nicename"), child.text or "")
            )
        elif name not in ("wp:postmeta", "wp:comment"):
            fields[name] = child.text or ""
    return fields

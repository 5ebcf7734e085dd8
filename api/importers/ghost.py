"""Ghost's JSON export (Settings → Import/Export → Export content) as `SourcePost`s.

The export mirrors Ghost's tables: `{"db": [{"meta": {...}, "data": {"posts": [...],
"tags": [...], "users": [...], "posts_tags": [...], "posts_authors": [...],
"posts_meta": [...], "settings": [...]}}]}` (the `db` wrapper is optional). Posts and pages
share `posts` (`type`, or `page: 1` before Ghost 2); tags and authors are linked through
`posts_tags` / `posts_authors` in `sort_order` (or `author_id` on the post before Ghost 1.22).
URLs inside Ghost start with `__GHOST_URL__`, and the export does not say where the site
was: the caller passes the site's address, used for those and for the old URLs.
"""

from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin

import orjson

from api.importers.common import (
    PAGES_IMPORTED,
    ImportRefused,
    Notes,
    SourceAuthor,
    SourcePost,
    SourceTag,
    as_utc,
    clean_slug,
    plain_text,
    source_id,
    title_or_untitled,
)
from api.importers.editors import Rendering, render_lexical, render_mobiledoc

GHOST_URL = "__GHOST_URL__"
STATUSES = {"published": "published", "draft": "draft", "scheduled": "scheduled"}

Progress = Callable[[int, int], None]


def _tables(raw: Any) -> dict[str, Any]:
    export = raw
    if isinstance(raw, dict) and isinstance(raw.get("db"), list) and raw["db"]:
        export = raw["db"][0]
    if not isinstance(export, dict) or not isinstance(export.get("data"), dict):
        raise ImportRefused("not a Ghost export: no db[0].data object.")
    data: dict[str, Any] = export["data"]
    for name in ("posts", "tags", "users", "posts_tags", "posts_authors", "posts_meta"):
        if not isinstance(data.get(name, []), list):
            raise ImportRefused(f"not a Ghost export: data.{name} is not a list.")
    return data


def _time(value: Any, label: str, name: str) -> datetime | None:
    """Ghost writes `2021-03-24T04:34:10.000Z`; hand-made files milliseconds since 1970."""
    if value in (None, ""):
        return None
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value / 1000, UTC)
        return as_utc(datetime.fromisoformat(str(value)))
    except (ValueError, OverflowError, OSError):
        raise ImportRefused(f"{label}: {name}: not a date: {value!r}.") from None


def _by_post(rows: list[Any], key: str) -> dict[Any, list[Any]]:
    """Link rows grouped by post, each group in `sort_order` (file order when absent)."""
    grouped: dict[Any, list[tuple[int, int, Any]]] = defaultdict(list)
    for position, row in enumerate(rows):
        if isinstance(row, dict) and key in row:
            order = row.get("sort_order")
            grouped[row.get("post_id")].append(
                (order if isinstance(order, int) else 0, position, row[key])
            )
    return {post: [ref for _o, _p, ref in sorted(links)] for post, links in grouped.items()}


class GhostExport:
    """One Ghost export file, read whole (Ghost writes one JSON document)."""

    def __init__(self, path: Path, site_url: str | None, notes: Notes) -> None:
        if not site_url:
            raise ImportRefused(
                "a Ghost export does not say where the site was: give its address with "
                "--site-url https://… (used for the old URLs and __GHOST_URL__ links)."
            )
        self.site = site_url.rstrip("/")
        self.notes = notes
        try:
            data = _tables(orjson.loads(path.read_bytes()))
        except orjson.JSONDecodeError as exc:
            raise ImportRefused(f"not a Ghost export: not JSON ({exc}).") from None
        except OSError as exc:
            raise ImportRefused(f"cannot read {path}: {exc.strerror or exc}.") from None
        self.posts: list[Any] = data.get("posts", [])
        self.users = {u.get("id"): u for u in data.get("users", []) if isinstance(u, dict)}
        self.tags = {t.get("id"): t for t in data.get("tags", []) if isinstance(t, dict)}
        self.post_tags = _by_post(data.get("posts_tags", []), "tag_id")
        self.post_authors = _by_post(data.get("posts_authors", []), "author_id")
        self.meta = {m.get("post_id"): m for m in data.get("posts_meta", []) if isinstance(m, dict)}
        settings = {
            s.get("key"): s.get("value") for s in data.get("settings", []) if isinstance(s, dict)
        }
        self.lang = str(settings.get("locale") or settings.get("lang") or "en")

    def url(self, value: Any) -> str | None:
        """An absolute URL: `__GHOST_URL__/…` and site-relative paths made absolute."""
        if not isinstance(value, str) or not value.strip():
            return None
        value = value.strip().replace(GHOST_URL, self.site)
        return urljoin(self.site + "/", value) if value.startswith("/") else value

    def read(self, progress: Progress | None = None) -> Iterator[SourcePost]:
        total = len(self.posts)
        for done, post in enumerate(self.posts, 1):
            if not isinstance(post, dict):
                raise ImportRefused(f"posts[{done - 1}]: not an object.")
            item = self._post(post, done - 1)
            if item is not None:
                yield item
            if progress:
                progress(done, total)

    def _post(self, post: dict[str, Any], index: int) -> SourcePost | None:
        key = post.get("id")
        kind = post.get("type") or ("page" if post.get("page") in (1, True) else "post")
        label = f"{kind} {post.get('slug') or post.get('title')!r} (Ghost id {key})"
        if key in (None, ""):
            raise ImportRefused(f"posts[{index}] {label}: has no id.")
        status = STATUSES.get(str(post.get("status")))
        if status is None:
            # `sent`: a newsletter that was emailed and never published on the site.
            self.notes.skip(f"posts with status {post.get('status')!r}", label)
            return None
        if kind == "page" and not PAGES_IMPORTED:
            self.notes.skip("pages (this Masthead has no pages yet)", label)
            return None
        if kind not in ("post", "page"):
            self.notes.skip(f"items of type {kind!r}", label)
            return None
        if post.get("visibility") not in (None, "public"):
            # Members-only or paid content must not become public by moving.
            self.notes.warn("members-only posts imported as drafts", label)
            status = "draft"
        body = self._body(post, label)
        if body is None:
            return None
        created = _time(post.get("created_at"), label, "created_at")
        updated = _time(post.get("updated_at"), label, "updated_at")
        published = _time(post.get("published_at"), label, "published_at")
        if status == "published" and published is None:
            published = created or updated
        if status != "draft" and published is None:
            raise ImportRefused(f"{label}: is {status} but has no published_at.")
        slug = clean_slug(post.get("slug"), str(post.get("title") or key))
        canonical = self.url(post.get("canonical_url"))
        if canonical is None and status == "published":
            # Ghost's default routes: posts and pages alike at /{slug}/.
            canonical = f"{self.site}/{quote(str(post.get('slug') or slug), safe='-')}/"
        meta = self.meta.get(key) or {}
        image = self.url(post.get("feature_image"))
        alt = meta.get("feature_image_alt", post.get("feature_image_alt"))
        caption = meta.get("feature_image_caption", post.get("feature_image_caption"))
        return SourcePost(
            id=source_id("ghost", self.site, str(key)),
            label=label,
            kind="page" if kind == "page" else "article",
            slug=slug,
            title=title_or_untitled(post.get("title"), label, self.notes),
            body_html=body,
            status=status,
            published_at=published if status != "draft" else None,
            created_at=created,
            updated_at=updated,
            excerpt=plain_text(post.get("custom_excerpt")),
            canonical_url=canonical,
            feature_image=(
                {"url": image, "alt": plain_text(alt), "caption": plain_text(caption)}
                if image
                else None
            ),
            lang=str(post.get("locale") or self.lang),
            authors=self._authors(post, label),
            tags=self._tags(key, label),
        )

    def _body(self, post: dict[str, Any], label: str) -> str | None:
        """The post's HTML: Ghost's own rendering when exported, else rendered here."""
        html = post.get("html")
        if isinstance(html, str) and html.strip():
            return html.replace(GHOST_URL, self.site)
        rendering = Rendering()
        rendered = ""
        for name, render in (("lexical", render_lexical), ("mobiledoc", render_mobiledoc)):
            source = post.get(name)
            if not source:
                continue
            try:
                document = orjson.loads(source) if isinstance(source, str) else source
                rendered = render(document, rendering)
            except (orjson.JSONDecodeError, TypeError, ValueError, KeyError, IndexError):
                self.notes.skip(f"posts whose {name} body could not be read", label)
                return None
            break
        for card in rendering.left_out:
            self.notes.warn(f"editor cards left out (no HTML for {card!r})", label)
        return rendered.replace(GHOST_URL, self.site)

    def _authors(self, post: dict[str, Any], label: str) -> list[SourceAuthor]:
        ids = self.post_authors.get(post.get("id"))
        if ids is None and post.get("author_id") is not None:
            ids = [post["author_id"]]
        authors: list[SourceAuthor] = []
        for user_id in ids or []:
            user = self.users.get(user_id)
            if user is None:
                self.notes.warn("authors not in the export left off their posts", label)
                continue
            name = str(user.get("name") or user.get("slug") or "").strip()
            if not name:
                self.notes.warn("authors without a name left off their posts", label)
                continue
            authors.append(
                SourceAuthor(
                    slug=clean_slug(user.get("slug"), name),
                    name=name,
                    bio=user.get("bio") or None,
                    url=self.url(user.get("website")),
                )
            )
        if not authors:
            self.notes.warn("posts without an author", label)
        return authors

    def _tags(self, post_id: Any, label: str) -> list[SourceTag]:
        tags: list[SourceTag] = []
        for tag_id in self.post_tags.get(post_id, []):
            tag = self.tags.get(tag_id)
            if tag is None:
                self.notes.warn("tags not in the export left off their posts", label)
                continue
            name = str(tag.get("name") or "").strip()
            if tag.get("visibility") == "internal" or name.startswith("#"):
                # Internal tags (#name) steer Ghost themes; they were never public.
                self.notes.warn("internal tags (#…) left out", f"{name!r} on {label}")
                continue
            if not name:
                continue
            tags.append(
                SourceTag(
                    slug=clean_slug(tag.get("slug"), name),
                    name=name,
                    description=plain_text(tag.get("description")),
                )
            )
        return tags

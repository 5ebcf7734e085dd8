"""Masthead's content in the shapes Ghost frontends bind (Ghost 5/6 Content API).

Fields Ghost has and Masthead does not (code injection, Open Graph and Twitter overrides,
custom templates, comment ids, email subjects) are present as null, so templates that read
them find a value; `featured` is false and `visibility` "public" (Masthead has neither
featured posts nor members-only content).
"""

from datetime import UTC, datetime
from typing import Any

from api.articles.reads import ArticleView
from api.ghost.ids import ghost_id, ghost_uuid
from api.site.service import SiteView, frontend_url

GHOST_ONLY_POST_FIELDS = (
    "codeinjection_head", "codeinjection_foot", "custom_template", "comment_id",
    "og_image", "og_title", "og_description", "twitter_image", "twitter_title",
    "twitter_description", "meta_title", "meta_description", "email_subject", "frontmatter",
)  # fmt: skip
GHOST_ONLY_TAG_FIELDS = (
    "feature_image", "og_image", "og_title", "og_description", "twitter_image",
    "twitter_title", "twitter_description", "meta_title", "meta_description",
    "codeinjection_head", "codeinjection_foot", "canonical_url", "accent_color",
)  # fmt: skip
GHOST_ONLY_AUTHOR_FIELDS = (
    "profile_image", "cover_image", "location", "facebook", "twitter", "meta_title",
    "meta_description",
)  # fmt: skip


def ghost_time(moment: datetime | None) -> str | None:
    """Ghost's timestamp form: `2026-06-01T12:00:00.000+00:00`."""
    if moment is None:
        return None
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+00:00"


def _pick(item: dict[str, Any], fields: frozenset[str] | None) -> dict[str, Any]:
    return item if fields is None else {k: v for k, v in item.items() if k in fields}


def tag_shape(tag: Any, site: SiteView, count: int | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": ghost_id(tag.id),
        "name": tag.name,
        "slug": tag.slug,
        "description": getattr(tag, "description", None),
        "visibility": "public",
        "url": frontend_url(site, "tag", tag.slug),
        **dict.fromkeys(GHOST_ONLY_TAG_FIELDS),
    }
    if count is not None:
        item["count"] = {"posts": count}
    return item


def author_shape(author: Any, site: SiteView, count: int | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": ghost_id(author.id),
        "name": author.name,
        "slug": author.slug,
        "bio": author.bio,
        "website": author.url,
        "url": frontend_url(site, "author", author.slug),
        **dict.fromkeys(GHOST_ONLY_AUTHOR_FIELDS),
    }
    if count is not None:
        item["count"] = {"posts": count}
    return item


def post_shape(
    article: ArticleView,
    site: SiteView,
    *,
    kind: str,
    include: frozenset[str],
    fields: frozenset[str] | None,
    formats: frozenset[str],
) -> dict[str, Any]:
    """A post or page. `formats` are the body formats asked for (`html`, `plaintext`);
    `fields` keeps only the named fields (the formats asked for are always kept)."""
    item: dict[str, Any] = {
        "id": ghost_id(article.id),
        "uuid": ghost_uuid(article.id),
        "title": article.title,
        "slug": article.slug,
        "feature_image": article.feature_image_url,
        "feature_image_alt": article.feature_image_alt,
        "feature_image_caption": article.feature_image_caption,
        "featured": False,
        "visibility": "public",
        "access": True,
        "comments": False,
        "created_at": ghost_time(getattr(article, "created_at", None)),
        "updated_at": ghost_time(article.updated_at),
        "published_at": ghost_time(article.published_at),
        # Masthead's standfirst is what Ghost themes show as the custom excerpt.
        "custom_excerpt": article.subtitle or article.excerpt,
        "excerpt": article.excerpt or article.subtitle or "",
        "reading_time": article.reading_time,
        "canonical_url": article.canonical_url,
        "url": frontend_url(site, kind, article.slug),
        **dict.fromkeys(GHOST_ONLY_POST_FIELDS),
    }
    if "html" in formats:
        item["html"] = article.body_html
    if "plaintext" in formats:
        item["plaintext"] = getattr(article, "body_text", "")
    for unsupported in ("mobiledoc", "lexical"):
        if unsupported in formats:
            item[unsupported] = None
    kept = None if fields is None else fields | formats
    item = _pick(item, kept)
    if "tags" in include:
        tags = [tag_shape(tag, site) for tag in article.tags]
        item["tags"] = tags
        item["primary_tag"] = tags[0] if tags else None
    if "authors" in include:
        authors = [author_shape(author, site) for author in article.authors]
        item["authors"] = authors
        item["primary_author"] = authors[0] if authors else None
    return item


def picked(item: dict[str, Any], fields: frozenset[str] | None) -> dict[str, Any]:
    """A tag or author keeping only `fields` (its `count` when included stays)."""
    if fields is None:
        return item
    return {k: v for k, v in item.items() if k in fields or k == "count"}


def settings_shape(site: SiteView) -> dict[str, Any]:
    """Ghost's public settings object."""
    social = site.social
    return {
        "title": site.title,
        "description": site.description or "",
        "logo": site.logo,
        "icon": site.icon,
        "accent_color": None,
        "cover_image": None,
        "facebook": social.get("facebook"),
        "twitter": social.get("twitter") or social.get("x"),
        "lang": site.language,
        "locale": site.language,
        "timezone": site.timezone,
        "codeinjection_head": None,
        "codeinjection_foot": None,
        "navigation": [_link(entry) for entry in site.navigation],
        "secondary_navigation": [_link(entry) for entry in site.secondary_navigation],
        "meta_title": None,
        "meta_description": None,
        "og_image": None,
        "og_title": None,
        "og_description": None,
        "twitter_image": None,
        "twitter_title": None,
        "twitter_description": None,
        "members_support_address": None,
        "members_enabled": False,
        "members_invite_only": False,
        "paid_members_enabled": False,
        "comments_enabled": "off",
        "recommendations_enabled": False,
        "url": site.url.rstrip("/") + "/",
    }


def _link(entry: dict[str, Any]) -> dict[str, Any]:
    return {"label": entry.get("label"), "url": entry.get("url")}

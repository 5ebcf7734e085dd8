"""The site's public shape and its write model, with the rules of every field."""

import re
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from api.bundle.schemas import Lang
from api.core.urls import HttpUrlStr, check_http_url
from api.editorial.schemas import VERSION, update_model

MAX_NAVIGATION = 50
# Networks a frontend can render an icon for; each takes a profile URL or a handle.
SOCIAL_NETWORKS = (
    "bluesky",
    "facebook",
    "github",
    "instagram",
    "linkedin",
    "mastodon",
    "telegram",
    "threads",
    "tiktok",
    "twitter",
    "youtube",
)
# `@name` or `name`; Mastodon and other fediverse handles also `@name@instance.example`.
_HANDLE = re.compile(r"^@?[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}(@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+)?$")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
URL_TEMPLATE_PLACEHOLDERS = frozenset({"slug"})
PREVIEW_TEMPLATE_PLACEHOLDERS = frozenset({"token", "slug", "id", "kind"})


def _timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("must be an IANA time zone name, e.g. Europe/London or UTC") from None
    return name


def _link(value: str) -> str:
    """A navigation target: an absolute http(s) URL or a path on the site (`/about/`)."""
    if value.startswith("/") and not value.startswith("//"):
        if re.search(r"[\x00-\x20\x7f-\x9f\\]", value) or len(value) > 2048:
            raise ValueError("path contains whitespace, control characters or backslashes")
        return value
    try:
        return check_http_url(value)
    except ValueError:
        raise ValueError(
            "must be a path on the site (`/about/`) or an absolute http(s) URL"
        ) from None


def _template(value: str, allowed: frozenset[str], required: str) -> str:
    names = _PLACEHOLDER.findall(value)
    if required not in names:
        raise ValueError(f"must contain {{{required}}}")
    unknown = sorted(set(names) - allowed)
    if unknown:
        raise ValueError(f"unknown placeholder {{{unknown[0]}}}; allowed: {sorted(allowed)}")
    if _PLACEHOLDER.sub("", value).count("{") or _PLACEHOLDER.sub("", value).count("}"):
        raise ValueError("unbalanced braces")
    filled = _PLACEHOLDER.sub("x", value)
    if value.startswith("/") and not value.startswith("//"):
        _link(filled)
        return value
    try:
        check_http_url(filled)
    except ValueError:
        raise ValueError(
            "must be a path relative to the site URL (`/{slug}/`) or an absolute http(s) URL"
        ) from None
    return value


def _url_template(value: str) -> str:
    return _template(value, URL_TEMPLATE_PLACEHOLDERS, "slug")


def _preview_template(value: str) -> str:
    return _template(value, PREVIEW_TEMPLATE_PLACEHOLDERS, "token")


def _social(accounts: dict[str, str]) -> dict[str, str]:
    for network, value in accounts.items():
        if network not in SOCIAL_NETWORKS:
            raise ValueError(f"unknown network {network!r}; known: {', '.join(SOCIAL_NETWORKS)}")
        if value.startswith(("http://", "https://")):
            check_http_url(value)
        elif not _HANDLE.match(value):
            raise ValueError(
                f"{network}: give a profile URL (https://…) or a handle (`@name`, "
                "`@name@instance.example`)"
            )
    return accounts


Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Timezone = Annotated[str, StringConstraints(max_length=64), AfterValidator(_timezone)]
Link = Annotated[str, StringConstraints(min_length=1, max_length=2048), AfterValidator(_link)]
UrlTemplate = Annotated[
    str, StringConstraints(min_length=1, max_length=500), AfterValidator(_url_template)
]
PreviewTemplate = Annotated[
    str, StringConstraints(min_length=1, max_length=500), AfterValidator(_preview_template)
]
Social = Annotated[
    dict[
        Annotated[str, StringConstraints(max_length=32)],
        Annotated[str, StringConstraints(min_length=1, max_length=500)],
    ],
    AfterValidator(_social),
]


class NavigationItem(BaseModel):
    """One link of a navigation menu."""

    model_config = ConfigDict(extra="forbid")

    label: Label = Field(description="The link's text.")
    url: Link = Field(
        description="A path on the site (`/about/`) or an absolute http(s) URL elsewhere."
    )


SITE_FIELD_DESCRIPTIONS = {
    "title": "The publication's name (feeds and Ghost settings use it).",
    "description": "One or two sentences about the publication (the feeds' description).",
    "url": "The frontend's public URL, e.g. `https://news.example/`; null means "
    "`MASTHEAD_PUBLIC_URL` (or the API's own base URL when that is unset).",
    "language": "BCP 47 language tag of the publication, e.g. `en` or `pt-BR`.",
    "timezone": "IANA time zone the publication dates its content in, e.g. `Europe/London`.",
    "logo": "Logo image URL (absolute http(s)), or null.",
    "icon": "Square icon (favicon) URL (absolute http(s)), or null.",
    "navigation": f"Primary menu: up to {MAX_NAVIGATION} `{{label, url}}` links, in order.",
    "secondary_navigation": f"Secondary (footer) menu: up to {MAX_NAVIGATION} links, in order.",
    "social": "Social accounts by network (" + ", ".join(f"`{n}`" for n in SOCIAL_NETWORKS) + "): "
    "a profile URL or a handle (`@name`; Mastodon `@name@instance.example`).",
    "article_url_template": "Where the frontend shows an article: a path relative to `url` "
    "or an absolute http(s) URL, with `{slug}`. Default `/{slug}/`.",
    "page_url_template": "Where the frontend shows a page, with `{slug}`. Default `/{slug}/`.",
    "tag_url_template": "Where the frontend lists a tag, with `{slug}`. Default `/tag/{slug}/`.",
    "author_url_template": "Where the frontend shows an author, with `{slug}`. Default "
    "`/author/{slug}/`.",
    "preview_url_template": "Where the frontend renders a draft preview, with `{token}` (and "
    "optionally `{slug}`, `{id}`, `{kind}`); null when the frontend has no preview page.",
}


class SiteWrite(BaseModel):
    """Every writable setting (what a PATCH is merged into)."""

    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
    description: Annotated[str, StringConstraints(max_length=5000)] | None = None
    url: HttpUrlStr | None = None
    language: Lang = "en"
    timezone: Timezone = "UTC"
    logo: HttpUrlStr | None = None
    icon: HttpUrlStr | None = None
    navigation: list[NavigationItem] = Field(default_factory=list, max_length=MAX_NAVIGATION)
    secondary_navigation: list[NavigationItem] = Field(
        default_factory=list, max_length=MAX_NAVIGATION
    )
    social: Social = Field(default_factory=dict, max_length=len(SOCIAL_NETWORKS))
    article_url_template: UrlTemplate = "/{slug}/"
    page_url_template: UrlTemplate = "/{slug}/"
    tag_url_template: UrlTemplate = "/tag/{slug}/"
    author_url_template: UrlTemplate = "/author/{slug}/"
    preview_url_template: PreviewTemplate | None = None


for _name, _text in SITE_FIELD_DESCRIPTIONS.items():
    SiteWrite.model_fields[_name].description = _text
SiteWrite.model_rebuild(force=True)

SiteUpdate = update_model(SiteWrite, "the site settings")


class NavigationPublic(BaseModel):
    label: str = Field(description="The link's text.")
    url: str = Field(description="A path on the site or an absolute URL.")


class SitePublic(BaseModel):
    """The publication: what a frontend needs to render its shell and build its links."""

    title: str = Field(description=SITE_FIELD_DESCRIPTIONS["title"])
    description: str | None = Field(description=SITE_FIELD_DESCRIPTIONS["description"])
    url: str = Field(
        description="The frontend's public URL: the configured one, else "
        "`MASTHEAD_PUBLIC_URL`, else the API's own base URL."
    )
    language: str = Field(description=SITE_FIELD_DESCRIPTIONS["language"])
    timezone: str = Field(description=SITE_FIELD_DESCRIPTIONS["timezone"])
    logo: str | None = Field(description=SITE_FIELD_DESCRIPTIONS["logo"])
    icon: str | None = Field(description=SITE_FIELD_DESCRIPTIONS["icon"])
    navigation: list[NavigationPublic] = Field(description="Primary menu, in order.")
    secondary_navigation: list[NavigationPublic] = Field(description="Secondary menu, in order.")
    social: dict[str, str] = Field(description=SITE_FIELD_DESCRIPTIONS["social"])
    article_url_template: str = Field(description=SITE_FIELD_DESCRIPTIONS["article_url_template"])
    page_url_template: str = Field(description=SITE_FIELD_DESCRIPTIONS["page_url_template"])
    tag_url_template: str = Field(description=SITE_FIELD_DESCRIPTIONS["tag_url_template"])
    author_url_template: str = Field(description=SITE_FIELD_DESCRIPTIONS["author_url_template"])
    preview_url_template: str | None = Field(
        description=SITE_FIELD_DESCRIPTIONS["preview_url_template"]
    )
    updated_at: datetime | None = Field(
        description="Last change of the settings (RFC 3339, UTC); null while all are defaults."
    )


class SiteAdmin(SitePublic):
    """The settings as admins see them: which URL is configured, and the version."""

    configured_url: str | None = Field(
        description="The `url` as set (null: the default is in use)."
    )
    version: int = Field(description=VERSION)


def navigation_dump(items: list[Any]) -> list[dict[str, str]]:
    return [{"label": item["label"], "url": item["url"]} for item in items]

"""The site settings: loading them (defaults when never saved), changing them, and the
frontend URLs every link to the publication's web pages is built from."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth.service import Principal
from api.core.tables import table_of
from api.editorial.audit import record
from api.editorial.schemas import merged
from api.editorial.versions import bump_version
from api.site.models import SITE_ID, Site
from api.site.schemas import SiteWrite

ENTITY = "site"
ENTITY_ID = str(SITE_ID)
DEFAULT_TITLE = "Masthead"
FrontendKind = Literal["article", "page", "tag", "author"]
FRONTEND_KINDS: tuple[FrontendKind, ...] = ("article", "page", "tag", "author")
SITE = table_of(Site)
SITE_ROW = select(SITE).where(SITE.c.id == SITE_ID)


@dataclass(frozen=True)
class SiteView:
    """The settings as in force: `url` is always absolute (the configured frontend URL,
    else the default the caller passed to `load_site`)."""

    title: str
    url: str
    configured_url: str | None = None
    description: str | None = None
    language: str = "en"
    timezone: str = "UTC"
    logo: str | None = None
    icon: str | None = None
    navigation: list[dict[str, str]] = field(default_factory=list)
    secondary_navigation: list[dict[str, str]] = field(default_factory=list)
    social: dict[str, str] = field(default_factory=dict)
    article_url_template: str = "/{slug}/"
    page_url_template: str = "/{slug}/"
    tag_url_template: str = "/tag/{slug}/"
    author_url_template: str = "/author/{slug}/"
    preview_url_template: str | None = None
    updated_at: datetime | None = None

    def template(self, kind: str) -> str:
        """The URL template of `kind` (one of FRONTEND_KINDS)."""
        templates: dict[str, str] = {
            "article": self.article_url_template,
            "page": self.page_url_template,
            "tag": self.tag_url_template,
            "author": self.author_url_template,
        }
        return templates[kind]


def load_site(session: Session, default_url: str) -> SiteView:
    """The settings in force: one primary-key read. `default_url` is the frontend URL when
    none is configured (routers pass `base_url(request)`: `MASTHEAD_PUBLIC_URL` or the
    request's base URL)."""
    row = session.connection().execute(SITE_ROW).first()
    if row is None:
        return SiteView(title=DEFAULT_TITLE, url=default_url)
    return SiteView(
        title=row.title,
        url=row.url or default_url,
        configured_url=row.url,
        description=row.description,
        language=row.language,
        timezone=row.timezone,
        logo=row.logo_url,
        icon=row.icon_url,
        navigation=list(row.navigation),
        secondary_navigation=list(row.secondary_navigation),
        social=dict(row.social),
        article_url_template=row.article_url_template,
        page_url_template=row.page_url_template,
        tag_url_template=row.tag_url_template,
        author_url_template=row.author_url_template,
        preview_url_template=row.preview_url_template,
        updated_at=row.updated_at,
    )


def absolute_url(site: SiteView, path_or_url: str) -> str:
    """A template's result on the site: relative ones are joined to `site.url`."""
    if path_or_url.startswith("/"):
        return site.url.rstrip("/") + path_or_url
    return path_or_url


def frontend_url(site: SiteView, kind: str, slug: str) -> str:
    """The absolute URL of an article, page, tag or author (`kind`, one of FRONTEND_KINDS)
    on the frontend."""
    return absolute_url(site, site.template(kind).replace("{slug}", slug))


def site_public(site: SiteView) -> dict[str, Any]:
    return {
        "title": site.title,
        "description": site.description,
        "url": site.url,
        "language": site.language,
        "timezone": site.timezone,
        "logo": site.logo,
        "icon": site.icon,
        "navigation": site.navigation,
        "secondary_navigation": site.secondary_navigation,
        "social": site.social,
        "article_url_template": site.article_url_template,
        "page_url_template": site.page_url_template,
        "tag_url_template": site.tag_url_template,
        "author_url_template": site.author_url_template,
        "preview_url_template": site.preview_url_template,
        "updated_at": site.updated_at,
    }


def writable_state(site: SiteView) -> dict[str, Any]:
    """The settings as a write body (what a PATCH is merged into)."""
    state = site_public(site)
    del state["updated_at"]
    state["url"] = site.configured_url
    return state


def save_site(session: Session, data: SiteWrite, now: datetime) -> None:
    """Write the whole row (created on the first save)."""
    values: dict[str, Any] = {
        "title": data.title,
        "description": data.description,
        "url": data.url,
        "language": data.language,
        "timezone": data.timezone,
        "logo_url": data.logo,
        "icon_url": data.icon,
        "navigation": [item.model_dump() for item in data.navigation],
        "secondary_navigation": [item.model_dump() for item in data.secondary_navigation],
        "social": dict(data.social),
        "article_url_template": data.article_url_template,
        "page_url_template": data.page_url_template,
        "tag_url_template": data.tag_url_template,
        "author_url_template": data.author_url_template,
        "preview_url_template": data.preview_url_template,
        "updated_at": now,
    }
    row = session.get(Site, SITE_ID)
    if row is None:
        session.add(Site(id=SITE_ID, **values))
    else:
        for name, value in values.items():
            setattr(row, name, value)
    session.flush()


def update_site(
    session: Session,
    current: SiteView,
    patch: Any,
    expected_version: int,
    principal: Principal,
    now: datetime,
) -> None:
    """Apply a PATCH (validated whole), at `expected_version` (else 412); audited."""
    data = merged(SiteWrite, writable_state(current), patch)
    bump_version(session, ENTITY, ENTITY_ID, expected_version)
    save_site(session, data, now)
    record(session, principal, "site.update", ENTITY, ENTITY_ID, now)

"""The frontend's preview URL, from the site settings' `preview_url_template`."""

from urllib.parse import quote

from fastapi import Request
from sqlalchemy.orm import Session

from api.articles.models import Article
from api.core.http import base_url
from api.previews.service import PreviewKind
from api.site.service import absolute_url, load_site


def frontend_preview_url(
    session: Session, request: Request, kind: PreviewKind, item: Article, token: str
) -> str | None:
    """The frontend's page for the preview (the template with `{token}`, `{slug}`, `{id}`
    and `{kind}` filled in, on the site's URL), or None when no template is configured."""
    site = load_site(session, base_url(request))
    if site.preview_url_template is None:
        return None
    values = {"token": token, "slug": item.slug, "id": item.id, "kind": kind.name}
    url = site.preview_url_template
    for name, value in values.items():
        url = url.replace("{" + name + "}", quote(value, safe=""))
    return absolute_url(site, url)

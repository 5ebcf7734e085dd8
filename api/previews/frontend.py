"""The frontend's preview URL, from the site settings' `preview_url_template`."""

from fastapi import Request
from sqlalchemy.orm import Session

from api.articles.models import Article
from api.previews.service import PreviewKind


def frontend_preview_url(
    session: Session, request: Request, kind: PreviewKind, item: Article, token: str
) -> str | None:
    """The frontend's page for the preview, or None when no template is configured."""
    return None

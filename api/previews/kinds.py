"""The kinds of item that can be previewed, by the name their tokens carry. Pages are
article rows of kind `page`: one loader and one renderer, narrowed to the kind."""

from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from api.articles import editing
from api.articles.models import Article, ArticleKind
from api.articles.schemas import FULL_RELATIONS, article_public
from api.previews.service import PreviewKind
from api.site.service import load_site


def _load(kind: ArticleKind, session: Session, item_id: str) -> Article:
    """The live article or page (not deleted) of that kind, else 404."""
    return editing.load_article(session, item_id, kind=kind)


def _public_shape(session: Session, article: Article, now: datetime, base: str) -> dict[str, Any]:
    """As `GET /v1/articles/{slug}` (or `/v1/pages/{slug}`) shows it: body, relations, and
    the frontend's URL as `canonical_url` when none is set."""
    site = load_site(session, base)
    return article_public(
        article, include=FULL_RELATIONS, fields=None, with_body=True, now=now, base=base, site=site
    )


def _kind(kind: ArticleKind) -> PreviewKind:
    return PreviewKind(
        name=kind.value,
        load=partial(_load, kind),
        may_preview=editing.may_read,
        render=_public_shape,
        status=editing.article_status,
    )


ARTICLE = _kind(ArticleKind.article)
PAGE = _kind(ArticleKind.page)
PREVIEW_KINDS: dict[str, PreviewKind] = {kind.name: kind for kind in (ARTICLE, PAGE)}

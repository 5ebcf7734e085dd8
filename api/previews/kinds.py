"""The kinds of item that can be previewed, by the name their tokens carry."""

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from api.articles import editing
from api.articles.models import Article, ArticleKind
from api.articles.schemas import RELATIONS, article_public
from api.core.errors import NotFound
from api.previews.service import PreviewKind


def _load_article(session: Session, article_id: str) -> Article:
    article = editing.load_article(session, article_id)
    if article.kind != ArticleKind.article:
        raise NotFound(f"No article with id `{article_id}`.")
    return article


def _public_article(article: Article, now: datetime, base: str) -> dict[str, Any]:
    return article_public(
        article, include=RELATIONS, fields=None, with_body=True, now=now, base=base
    )


ARTICLE = PreviewKind(
    name="article",
    load=_load_article,
    may_preview=editing.may_read,
    render=_public_article,
    status=editing.article_status,
)
PREVIEW_KINDS: dict[str, PreviewKind] = {kind.name: kind for kind in (ARTICLE,)}

"""Every table, imported in one place so Alembic and the app see the whole schema."""

from api.actions.models import Action
from api.articles.models import (
    Article,
    ArticleAction,
    ArticleAuthor,
    ArticleTag,
    Citation,
)
from api.authors.models import Author
from api.core.db import metadata
from api.sources.models import Source
from api.tags.models import Tag

__all__ = [
    "Action",
    "Article",
    "ArticleAction",
    "ArticleAuthor",
    "ArticleTag",
    "Author",
    "Citation",
    "Source",
    "Tag",
    "metadata",
]

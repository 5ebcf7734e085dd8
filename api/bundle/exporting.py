"""Export of the whole content store as one bundle (CONTRACT section 7)."""

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from sqlmodel import col

from api.actions.models import Action
from api.articles.models import Article
from api.articles.translations import exported_translation_of
from api.authors.models import Author
from api.core.tables import relationship_attribute
from api.corrections.bundle import exported_corrections
from api.sources.models import Source
from api.tags.models import Tag


def _iso_items(rows: Iterable[Any], fields: list[str]) -> list[dict[str, Any]]:
    return [{name: getattr(row, name) for name in fields} for row in rows]


def export_bundle(session: Session) -> dict[str, Any]:
    """Every item with its id and timestamps; articles reference the others by slug."""
    common = ["id", "slug", "created_at", "updated_at"]
    authors = session.scalars(select(Author).order_by(col(Author.slug))).all()
    tags = session.scalars(select(Tag).order_by(col(Tag.slug))).all()
    sources = session.scalars(select(Source).order_by(col(Source.slug))).all()
    actions = session.scalars(select(Action).order_by(col(Action.slug))).all()
    articles = session.scalars(
        select(Article)
        .order_by(col(Article.created_at), col(Article.id))
        .options(
            selectinload(relationship_attribute(Article.authors)),
            selectinload(relationship_attribute(Article.tags)),
            selectinload(relationship_attribute(Article.actions)),
            selectinload(relationship_attribute(Article.citations)),
            selectinload(relationship_attribute(Article.corrections)),
        )
    ).all()
    article_items = []
    translation_of = exported_translation_of(articles)
    for article in articles:
        item: dict[str, Any] = {
            name: getattr(article, name)
            for name in (
                *common,
                "kind",
                "title",
                "subtitle",
                "excerpt",
                "lang",
                "status",
                "published_at",
                "deleted_at",
                "canonical_url",
            )
        }
        if article.body_markdown is not None:
            item["body_markdown"] = article.body_markdown
        else:
            item["body_html"] = article.body_html
        item["feature_image"] = (
            {
                "url": article.feature_image_url,
                "alt": article.feature_image_alt,
                "caption": article.feature_image_caption,
            }
            if article.feature_image_url
            else None
        )
        item["authors"] = [a.slug for a in article.authors]
        item["tags"] = [t.slug for t in article.tags]
        item["actions"] = [a.slug for a in article.actions]
        item["sources"] = [
            {"source": c.source.slug, "cited_url": c.cited_url, "context": c.context}
            for c in article.citations
        ]
        item["corrections"] = exported_corrections(article.corrections)
        if article.id in translation_of:
            item["translation_of"] = translation_of[article.id]
        article_items.append(item)
    return {
        "format": "masthead-bundle",
        "version": 1,
        "authors": _iso_items(authors, [*common, "name", "bio", "url"]),
        "tags": _iso_items(tags, [*common, "name", "hashtag", "description"]),
        "sources": _iso_items(sources, [*common, "name", "kind", "url", "country", "description"]),
        "actions": _iso_items(
            actions,
            [
                *common,
                "kind",
                "title",
                "description",
                "url",
                "organisation",
                "starts_at",
                "ends_at",
                "attribution",
                "attribution_template",
                "goal",
                "close_on_goal",
                "progress_override",
            ],
        ),
        "articles": article_items,
    }

"""An article as schema.org `NewsArticle` JSON-LD: what a frontend embeds in the article's
page (`<script type="application/ld+json">`) for search engines and link previews."""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from api.articles.reads import ArticleView
from api.site.service import SiteView, frontend_url

SCHEMA_ORG = "https://schema.org"
# The relations a NewsArticle is built from (loaded even when the caller shows fewer).
JSONLD_RELATIONS = frozenset({"authors", "tags", "sources", "corrections"})


class Correction(Protocol):
    """A published correction of an article, as the corrections feature stores it: `kind`
    (correction, clarification, retraction), `text` and `published_at`."""

    kind: str
    text: str
    published_at: datetime


def corrections_of(article: ArticleView) -> Sequence[Correction]:
    """The article's published corrections: the hook for corrections (issue 17, item 1),
    which attach them to the view as `corrections`; none until then."""
    return tuple(getattr(article, "corrections", ()))


def _time(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _compact(node: dict[str, Any]) -> dict[str, Any]:
    """Leave out what is unknown: schema.org has no null, only absent properties."""
    return {key: value for key, value in node.items() if value not in (None, [], "")}


def publisher(site: SiteView) -> dict[str, Any]:
    """The publication as a schema.org Organization (name, URL and logo from the site)."""
    logo = {"@type": "ImageObject", "url": site.logo} if site.logo else None
    return _compact({"@type": "Organization", "name": site.title, "url": site.url, "logo": logo})


def _citation(citation: Any) -> dict[str, Any]:
    """A cited work: the exact page when the article names it, published by the source."""
    source = citation.source
    by = _compact(
        {
            "@type": "Person" if source.kind == "person" else "Organization",
            "name": source.name,
            "url": source.url,
        }
    )
    return _compact(
        {
            "@type": "CreativeWork",
            "name": source.name,
            "url": citation.cited_url,
            "description": citation.context,
            "publisher": by,
        }
    )


def _correction(correction: Correction) -> dict[str, Any]:
    return _compact(
        {
            "@type": "CorrectionComment",
            "name": correction.kind.capitalize(),
            "text": correction.text,
            "datePublished": _time(correction.published_at),
        }
    )


def _version(version: Any, site: SiteView) -> dict[str, Any]:
    """Another language's version of the story, named by its page (and node `@id`)."""
    url = frontend_url(site, "article", version.slug)
    return {"@type": "NewsArticle", "@id": f"{url}#article", "url": url, "inLanguage": version.lang}


def _translations(article: ArticleView, site: SiteView) -> dict[str, Any]:
    """The original (the version published first) names its translations
    (`workTranslation`); a translation names its original (`translationOfWork`). None
    unless `api.articles.translations.attach_translations` attached them."""
    original = getattr(article, "original", None)
    if original is not None:
        return {"translationOfWork": _version(original, site)}
    versions = getattr(article, "translations", None) or []
    return {"workTranslation": [_version(v, site) for v in versions]}


def news_article(article: ArticleView, site: SiteView) -> dict[str, Any]:
    """The NewsArticle of a published article whose authors, tags and sources are loaded;
    `url` and `mainEntityOfPage` are its page on the frontend."""
    url = frontend_url(site, "article", article.slug)
    image = (
        _compact(
            {
                "@type": "ImageObject",
                "url": article.feature_image_url,
                "caption": article.feature_image_caption,
                "description": article.feature_image_alt,
            }
        )
        if article.feature_image_url
        else None
    )
    authors = [
        _compact(
            {
                "@type": "Person",
                "name": author.name,
                "url": frontend_url(site, "author", author.slug),
                "sameAs": author.url,
            }
        )
        for author in article.authors
    ]
    return _compact(
        {
            "@context": SCHEMA_ORG,
            "@type": "NewsArticle",
            "@id": f"{url}#article",
            "url": url,
            "mainEntityOfPage": {"@type": "WebPage", "@id": url, "url": url},
            "headline": article.title,
            "alternativeHeadline": article.subtitle,
            "description": article.excerpt,
            "datePublished": _time(article.published_at),
            "dateModified": _time(article.updated_at),
            "inLanguage": article.lang,
            **_translations(article, site),
            "isAccessibleForFree": True,
            "wordCount": article.word_count,
            "timeRequired": f"PT{article.reading_time}M" if article.reading_time else None,
            "keywords": [tag.name for tag in article.tags],
            "image": image,
            "author": authors,
            "publisher": publisher(site),
            "citation": [_citation(c) for c in article.citations],
            "correction": [_correction(c) for c in corrections_of(article)],
        }
    )

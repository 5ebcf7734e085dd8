from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.actions.schemas import ActionPublic, action_public
from api.articles.models import Article, ArticleKind, Citation
from api.articles.reads import ArticleView, CitationView
from api.authors.schemas import AuthorPublic, author_public
from api.bundle.schemas import ArticleItem, CitationItem, FeatureImageItem
from api.core.text import Line
from api.core.timestamps import RANGE as TIME_RANGE
from api.core.timestamps import Timestamp
from api.corrections.schemas import CorrectionPublic, correction_public, is_retracted
from api.editorial.schemas import VERSION, ServerOwned, ServerStamped, describe, update_model
from api.oembed.links import oembed_link
from api.site.service import SiteView, frontend_url
from api.sources.schemas import SourceRef, source_ref
from api.tags.schemas import TagRef, tag_ref


class FeatureImage(BaseModel):
    url: str = Field(description="Image URL (absolute http(s)).")
    alt: str | None = Field(description="Alternative text for screen readers.")
    caption: str | None = Field(description="Caption or credit.")


class CitationPublic(BaseModel):
    """One place the article cites: which source, the exact page, and what was taken."""

    source: SourceRef = Field(description="The cited source.")
    cited_url: str | None = Field(description="The exact page cited, or null.")
    context: str | None = Field(description="One line: what the article took from it.")
    position: int = Field(description="Order of the citation within the article, from 0.")
    status: Literal["ok", "broken", "unchecked"] = Field(
        description="Whether `cited_url` still answers, as Masthead's link checker last "
        "found it: `ok`, `broken` (gone: a 404 or 410, or failing check after check) or "
        "`unchecked` (not checked yet, or no `cited_url`). Link a `broken` citation to "
        "`archived_url` when there is one."
    )
    archived_url: str | None = Field(
        description="An archived copy of `cited_url` an editor attached (e.g. in the "
        "Wayback Machine), or null."
    )


class TranslationPublic(BaseModel):
    """Another language's version of the same story (published and visible)."""

    lang: str = Field(description="Its BCP 47 language tag, e.g. `de`.")
    slug: str = Field(description="Its slug (read it at `/v1/articles/{slug}`).")
    url: str = Field(
        description="Its page on the frontend (the site's URL template), e.g. for "
        '`<link rel="alternate" hreflang="de" href="…">`.'
    )
    api_url: str = Field(description="Its URL in the API.")


class ArticleLinks(BaseModel):
    self: str = Field(description="This article's (or page's) URL in the API.")
    oembed: str | None = Field(
        None,
        description="Articles: the oEmbed endpoint for the article's frontend page, for "
        '`<link rel="alternate" type="application/json+oembed" href="…">` in that page.',
    )


class ArticlePublic(BaseModel):
    """A published article. Lists leave out `body_html` unless `fields` asks for it; `fields`
    and `include` may leave out other keys too, but `id` is always present."""

    id: str = Field(description="Stable opaque identifier.")
    slug: str | None = Field(None, description="URL-safe unique name.")
    title: str | None = Field(None, description="Headline.")
    subtitle: str | None = Field(None, description="Standfirst under the headline.")
    excerpt: str | None = Field(None, description="Short summary for cards and feeds.")
    body_html: str | None = Field(
        None, description="The body as sanitised HTML (safe to insert into a page)."
    )
    lang: str | None = Field(None, description="BCP 47 language tag, e.g. `en`.")
    published_at: datetime | None = Field(None, description="Publication time (RFC 3339, UTC).")
    updated_at: datetime | None = Field(None, description="Last change (RFC 3339, UTC).")
    reading_time: int | None = Field(None, description="Estimated reading time in minutes.")
    word_count: int | None = Field(None, description="Words in the body.")
    canonical_url: str | None = Field(
        None,
        description="The article's canonical web page: the one set by its editors, else its "
        "page on the frontend (the site's `url` and `article_url_template`, or "
        "`page_url_template` for a page).",
    )
    feature_image: FeatureImage | None = Field(None, description="Lead image, or null.")
    authors: list[AuthorPublic] | None = Field(None, description="Bylines, in order.")
    tags: list[TagRef] | None = Field(None, description="Tags, primary first.")
    sources: list[CitationPublic] | None = Field(
        None, description="Citations, in order (with `include=sources`; always on one article)."
    )
    actions: list[ActionPublic] | None = Field(
        None, description="Calls to action (with `include=actions`; always on one article)."
    )
    corrections: list[CorrectionPublic] | None = Field(
        None,
        description="Corrections, clarifications and retractions, oldest first (empty when "
        "none). They are never removed silently: an editor's deletion is audited.",
    )
    retracted: bool | None = Field(
        None,
        description="True once the article is retracted (a `retraction` among its "
        "`corrections`): it stays readable, but should be shown as withdrawn.",
    )
    translations: list[TranslationPublic] | None = Field(
        None,
        description="The story's versions in other languages that are published, by "
        "language (empty when none). Lists show each story once, in the best language of "
        "`?lang` or `Accept-Language`. In `/v1/sync`, as they were when the item was sent.",
    )
    links: ArticleLinks | None = Field(None, description="Links to this resource.")
    jsonld: dict[str, Any] | None = Field(
        None,
        description="With `include=jsonld` on one article: its schema.org `NewsArticle` "
        "(as `GET /v1/articles/{slug}/jsonld` answers it).",
    )


class SearchHit(ArticlePublic):
    """An article matching a search, with a highlighted extract."""

    snippet: str | None = Field(
        None, description="HTML-escaped extract; matches are wrapped in `<mark>…</mark>`."
    )
    score: float | None = Field(None, description="Relevance; higher is better.")


ARTICLE_FIELDS = frozenset(ArticlePublic.model_fields) - {"jsonld"}  # an `include`
RELATIONS = frozenset({"authors", "tags", "sources", "actions"})
LIST_DEFAULT_INCLUDE = frozenset({"authors", "tags"})
# Loaded like a relation but not named in `include`: every shape that shows `corrections`
# or `retracted` loads them (one statement per page).
CORRECTIONS = "corrections"
CORRECTION_FIELDS = frozenset({"corrections", "retracted"})
FULL_RELATIONS = RELATIONS | {CORRECTIONS}


def with_corrections(include: frozenset[str], fields: frozenset[str] | None) -> frozenset[str]:
    """`include` plus the corrections when the shown fields need them (the default shape does)."""
    if fields is None or fields & CORRECTION_FIELDS:
        return include | {CORRECTIONS}
    return include


def citation_public(citation: Citation | CitationView) -> dict[str, Any]:
    return {
        "source": source_ref(citation.source),
        "cited_url": citation.cited_url,
        "context": citation.context,
        "position": citation.position,
        "status": citation.link_status,
        "archived_url": citation.archived_url,
    }


def article_public(
    article: Article | ArticleView,
    *,
    include: frozenset[str],
    fields: frozenset[str] | None,
    with_body: bool,
    now: datetime,
    base: str,
    site: SiteView | None = None,
    translations: Sequence[Any] | None = None,
) -> dict[str, Any]:
    """Shape an article or a page; relations are read only when included (so never lazily
    loaded). With `site`, a missing `canonical_url` falls back to the frontend's URL
    (editors' views pass none: they show what is stored). `translations` (else a view's
    own, `api.articles.translations`) are shown when given: they need `site`."""
    wanted = (
        fields if fields is not None else ARTICLE_FIELDS - (set() if with_body else {"body_html"})
    )
    image = (
        {
            "url": article.feature_image_url,
            "alt": article.feature_image_alt,
            "caption": article.feature_image_caption,
        }
        if article.feature_image_url
        else None
    )
    out: dict[str, Any] = {"id": article.id}
    scalar = {
        "slug": lambda: article.slug,
        "title": lambda: article.title,
        "subtitle": lambda: article.subtitle,
        "excerpt": lambda: article.excerpt,
        "body_html": lambda: article.body_html,
        "lang": lambda: article.lang,
        "published_at": lambda: article.published_at,
        "updated_at": lambda: article.updated_at,
        "reading_time": lambda: article.reading_time,
        "word_count": lambda: article.word_count,
        "canonical_url": lambda: (
            article.canonical_url
            or (frontend_url(site, article_kind(article), article.slug) if site else None)
        ),
        "feature_image": lambda: image,
        "links": lambda: article_links(article, base, site),
    }
    if translations is None:
        translations = getattr(article, "translations", None)
    if translations is not None and "translations" in wanted:
        # Loaded where shown (`api.articles.translations`), with the site for their URLs.
        out["translations"] = [translation_public(t, base, site) for t in translations]
    for name, value in scalar.items():
        if name in wanted:
            out[name] = value()
    if "authors" in include and "authors" in wanted:
        out["authors"] = [author_public(a) for a in article.authors]
    if "tags" in include and "tags" in wanted:
        out["tags"] = [tag_ref(t) for t in article.tags]
    if "sources" in include and "sources" in wanted:
        out["sources"] = [citation_public(c) for c in article.citations]
    if "actions" in include and "actions" in wanted:
        out["actions"] = [action_public(a, now, base) for a in article.actions]
    if CORRECTIONS in include:
        if "corrections" in wanted:
            out["corrections"] = [correction_public(c) for c in article.corrections]
        if "retracted" in wanted:
            out["retracted"] = is_retracted(article.corrections)
    return out


def article_links(
    article: Article | ArticleView, base: str, site: SiteView | None
) -> dict[str, str]:
    """`self` in the API; for an article shown with the site, its oEmbed discovery link."""
    kind = article_kind(article)
    links = {"self": f"{base}{api_path(kind, article.slug)}"}
    if site is not None and kind == ArticleKind.article:
        links["oembed"] = oembed_link(base, frontend_url(site, "article", article.slug))
    return links


def translation_public(translation: Any, base: str, site: SiteView | None) -> dict[str, Any]:
    kind = ArticleKind.page if translation.kind == ArticleKind.page else ArticleKind.article
    return {
        "lang": translation.lang,
        "slug": translation.slug,
        "url": frontend_url(site, kind.value, translation.slug) if site else None,
        "api_url": f"{base}{api_path(kind, translation.slug)}",
    }


def article_kind(article: Article | ArticleView) -> ArticleKind:
    return ArticleKind.page if article.kind == ArticleKind.page else ArticleKind.article


def api_path(kind: ArticleKind, slug: str) -> str:
    """An article's or a page's path in the public API."""
    return f"/v1/{'pages' if kind == ArticleKind.page else 'articles'}/{slug}"


def article_surrogate_keys(
    articles: Sequence[Article | ArticleView],
    include: frozenset[str],
    kind: ArticleKind = ArticleKind.article,
) -> list[str]:
    """`articles` (or `pages`), each item's own key and those of its included relations."""
    keys = ["pages" if kind == ArticleKind.page else "articles"]
    for article in articles:
        keys.append(f"{article_kind(article).value}:{article.id}")
        if "tags" in include:
            keys.extend(f"tag:{t.id}" for t in article.tags)
        if "authors" in include:
            keys.extend(f"author:{a.id}" for a in article.authors)
        if "sources" in include:
            keys.extend(f"source:{c.source_id}" for c in article.citations)
        if "actions" in include:
            keys.extend(f"action:{a.id}" for a in article.actions)
    return keys


TagName = Annotated[str, Line(200)]


class FeatureImageIn(FeatureImageItem):
    """The lead image."""


class CitationIn(CitationItem):
    """One citation: which source (by slug), the exact page, what was taken from it."""


class ArticleCreate(ServerStamped, ArticleItem):
    """A new article; it starts as a draft (publish it with `/publish`)."""

    status: ServerOwned = None  # type: ignore[assignment]
    kind: ServerOwned = None  # type: ignore[assignment]
    # Written through `/v1/admin/articles/{id}/corrections`, never with the article.
    corrections: ServerOwned = None  # type: ignore[assignment]
    published_at: ServerOwned = None
    deleted_at: ServerOwned = None
    feature_image: FeatureImageIn | None = None
    tags: list[TagName] = Field(default_factory=list, max_length=50)
    # A subclass of the bundle's citation, so the admin API documents its fields.
    sources: list[CitationIn] = Field(default_factory=list, max_length=500)  # type: ignore[assignment]


describe(FeatureImageIn, {
    "url": "Image URL (absolute http(s)).", "alt": "Alternative text.",
    "caption": "Caption or credit.",
})  # fmt: skip


describe(CitationIn, {
    "source": "The cited source's slug (it must exist; 422 otherwise).",
    "cited_url": "The exact page cited (absolute http(s) URL), or null.",
    "context": "One line: what the article took from it.",
})  # fmt: skip


describe(ArticleCreate, {
    "slug": "URL-safe unique name; made from the title when absent. 409 when taken.",
    "title": "Headline.", "subtitle": "Standfirst under the headline.",
    "excerpt": "Short summary; derived from the body when absent.",
    "body_html": "The body as HTML; sanitised against an allow-list before it is stored.",
    "body_markdown": "The body as Markdown (CommonMark); rendered and sanitised. Give this "
    "or `body_html`, not both.",
    "lang": "BCP 47 language tag.", "canonical_url": "The canonical web page (http(s)).",
    "feature_image": "Lead image, or null.",
    "authors": "Author slugs, in byline order; each must exist (422 otherwise).",
    "tags": "Tag names or slugs, primary first; unknown tags are created.",
    "sources": "Citations, in order.",
    "actions": "Action slugs, in order; each must exist (422 otherwise).",
    "translation_of": "Make this a translation of another article (pages: of another "
    "page), by id or slug: it joins that one's translation group, one version per "
    "language (409 when the group has this `lang` already; 422 for an unknown id or slug "
    "or another kind). `null` leaves the group (the others stay grouped); left out, the "
    "group is unchanged.",
})  # fmt: skip


ArticleUpdate = update_model(ArticleCreate, "an article")


class ArticleAdmin(ArticlePublic):
    """An article as editors see it: any status, with its Markdown source and version."""

    status: Literal["draft", "scheduled", "published"] | None = Field(
        None, description="`scheduled` = published with a future `published_at`."
    )
    body_markdown: str | None = Field(None, description="The Markdown source, if written so.")
    created_at: datetime | None = Field(None, description="When it was created.")
    deleted_at: datetime | None = Field(
        None, description="When it was (soft) deleted; null while it exists."
    )
    version: int | None = Field(None, description=VERSION)
    translation_group: str | None = Field(
        None,
        description="The id its translations share (null: none); set with `translation_of`.",
    )


class PublishRequest(BaseModel):
    """When to publish: now when absent; a future time schedules the article."""

    model_config = ConfigDict(extra="forbid")

    published_at: Timestamp | None = Field(
        None,
        description=f"Publication time (RFC 3339 with an offset, {TIME_RANGE} in UTC); in "
        "the future = scheduled.",
    )

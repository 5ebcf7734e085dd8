"""GET /v1/articles/{slug}/jsonld: an article's schema.org NewsArticle."""

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from api.articles.models import ArticleKind
from api.articles.public import SlugPath
from api.articles.schemas import article_surrogate_keys
from api.articles.service import get_visible_article
from api.articles.translations import attach_translations
from api.core.db import NowDep, SessionDep, public_read
from api.core.errors import problem_responses
from api.core.http import base_url, dump_json, public_response, reject_unknown_query
from api.jsonld.service import JSONLD_RELATIONS, news_article
from api.site.service import load_site

router = APIRouter(
    prefix="/v1/articles", tags=["articles"], dependencies=[Depends(reject_unknown_query)]
)
MEDIA_TYPE = "application/ld+json"


@router.get(
    "/{slug}/jsonld",
    response_class=Response,
    responses={
        200: {
            "description": "The article as a schema.org `NewsArticle` (JSON-LD).",
            "content": {MEDIA_TYPE: {"schema": {"type": "object"}}},
        },
        **problem_responses(404, 422),
    },
    summary="An article's structured data (schema.org JSON-LD)",
)
@public_read
def get_article_jsonld(
    request: Request, session: SessionDep, now: NowDep, slug: SlugPath
) -> Response:
    """Ready to embed in the article's page as `<script type="application/ld+json">`:
    headline, dates, authors (`Person`), the publisher (`Organization` from the site
    settings, with its logo), `inLanguage`, `isAccessibleForFree`, one `citation` per cited
    source (a `CreativeWork` with the cited URL when the article names one), `correction`
    entries once the article has corrections, `url`/`mainEntityOfPage` on the frontend
    (the site's `article_url_template`), and its other language versions: the original (the
    version published first) lists them as `workTranslation`, a translation names it as
    `translationOfWork`. Also embeddable in the article's JSON with
    `?include=jsonld`. Drafts, scheduled, deleted articles and pages are a 404."""
    article = get_visible_article(session, now, slug, JSONLD_RELATIONS, ArticleKind.article)
    attach_translations(session, now, [article])  # `workTranslation`, `translationOfWork`
    site = load_site(session, base_url(request))
    return public_response(
        request,
        dump_json(news_article(article, site)),
        media_type=MEDIA_TYPE,
        surrogate_keys=[*article_surrogate_keys([article], JSONLD_RELATIONS), "site"],
    )

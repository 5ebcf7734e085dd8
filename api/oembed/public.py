"""GET /oembed: oEmbed cards of articles and of their calls to action, for sites that
embed a link to the publication's frontend."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from api.articles.models import ArticleKind
from api.articles.service import get_visible_article
from api.core.db import NowDep, SessionDep, public_read
from api.core.errors import NotFound, ProblemError, problem_responses
from api.core.http import base_url, json_response, reject_unknown_query
from api.core.settings import Settings
from api.oembed.links import OEMBED_PATH
from api.oembed.service import action_card, article_card, card_size, card_target
from api.site.service import load_site

router = APIRouter(tags=["oembed"], dependencies=[Depends(reject_unknown_query)])
CARD_RELATIONS = frozenset({"authors", "actions"})


class NotImplementedProblem(ProblemError):
    status, type_slug, title = 501, "not-implemented", "Not implemented"


class OEmbedCard(BaseModel):
    """An oEmbed 1.0 `rich` response: a card to insert as it is."""

    version: Literal["1.0"] = Field(description="oEmbed version, always `1.0`.")
    type: Literal["rich"] = Field(description="Always `rich`: `html` is the card.")
    title: str = Field(description="The article's headline, or the call to action's title.")
    author_name: str | None = Field(None, description="The article's bylines (articles).")
    author_url: str | None = Field(None, description="The first author's page (articles).")
    provider_name: str = Field(description="The publication (the site's title).")
    provider_url: str = Field(description="The publication's frontend URL.")
    cache_age: int = Field(description="Seconds the card may be cached.")
    html: str = Field(
        description="The card: sanitised HTML of text and links only, which loads nothing "
        "(no image, frame, script or style sheet), within `width` × `height`."
    )
    width: int = Field(description="The card's width in pixels, at most `maxwidth`.")
    height: int = Field(description="The card's height in pixels, at most `maxheight`.")


@router.get(
    OEMBED_PATH,
    response_model=OEmbedCard,
    responses=problem_responses(404, 422, 501),
    summary="oEmbed card of an article or a call to action",
)
@public_read
def get_oembed(
    request: Request,
    session: SessionDep,
    now: NowDep,
    url: Annotated[
        str,
        Query(
            min_length=1,
            max_length=2048,
            description="A published article's frontend URL (the site's `url` and "
            "`article_url_template`), or that URL with `#action-<slug>` for the card of "
            "a call to action shown in the article.",
        ),
    ],
    format: Annotated[
        Literal["json", "xml"],
        Query(description="`json`; `xml` is answered 501 (not implemented)."),
    ] = "json",
    maxwidth: Annotated[
        int | None, Query(ge=1, le=10_000, description="Widest card the consumer takes.")
    ] = None,
    maxheight: Annotated[
        int | None, Query(ge=1, le=10_000, description="Tallest card the consumer takes.")
    ] = None,
) -> Response:
    """The oEmbed provider (oembed.com): `type: rich` cards whose HTML is text and links
    only, sanitised, loading nothing from any host. Unknown URLs, drafts, pages and actions
    not shown in the article are a 404. Articles' `links.oembed` point here, for the
    discovery link in the frontend's page."""
    if format == "xml":
        raise NotImplementedProblem("Only format=json is served.")
    site = load_site(session, base_url(request))
    target = card_target(site, url)
    if target is None:
        raise NotFound("That URL is not an article's page on this publication's frontend.")
    article = get_visible_article(
        session, now, target.article_slug, CARD_RELATIONS, ArticleKind.article
    )
    kind = "article" if target.action_slug is None else "action"
    width, height = card_size(kind, maxwidth, maxheight)
    if target.action_slug is None:
        card = article_card(article, site, width, height)
    else:
        action = next((a for a in article.actions if a.slug == target.action_slug), None)
        if action is None:
            raise NotFound(f"The article shows no call to action `{target.action_slug}`.")
        card = action_card(article, action, site, width, height)
    settings: Settings = request.app.state.settings
    body = {
        "version": "1.0",
        "type": "rich",
        **card,
        "provider_name": site.title,
        "provider_url": site.url,
        "cache_age": settings.cache_max_age,
        "width": width,
        "height": height,
    }
    keys = ["oembed", f"article:{article.id}", "site", *(f"author:{a.id}" for a in article.authors)]
    if target.action_slug is not None:
        keys += [f"action:{a.id}" for a in article.actions if a.slug == target.action_slug]
    return json_response(request, body, surrogate_keys=keys)

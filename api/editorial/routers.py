"""Every admin router, in the order they are mounted under `/v1/admin`."""

from api.actions.admin import clicks_router as action_clicks_router
from api.actions.admin import router as actions_router
from api.articles.admin import pages_router
from api.articles.admin import router as articles_router
from api.auth.admin import router as tokens_router
from api.auth.dependencies import AdminRouter
from api.authors.admin import router as authors_router
from api.bundle.admin import router as bundle_router
from api.citations.admin import router as citations_router
from api.conversions.admin import router as conversion_reports_router
from api.corrections.admin import router as corrections_router
from api.editorial.audit import router as audit_router
from api.previews.admin import article_previews_router, page_previews_router
from api.site.admin import router as site_router
from api.sources.admin import router as sources_router
from api.subscriptions.admin import router as subscribers_router
from api.tags.admin import router as tags_router
from api.webhooks.admin import router as webhooks_router

ADMIN_ROUTERS: list[AdminRouter] = [
    articles_router,
    corrections_router,
    citations_router,
    article_previews_router,
    page_previews_router,
    pages_router,
    site_router,
    tags_router,
    sources_router,
    actions_router,
    authors_router,
    tokens_router,
    audit_router,
    bundle_router,
    subscribers_router,
    webhooks_router,
    action_clicks_router,
    conversion_reports_router,
]

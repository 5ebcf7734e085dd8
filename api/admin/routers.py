"""Every admin router, in the order they are mounted under `/v1/admin`."""

from api.actions.admin_clicks import router as action_clicks_router
from api.admin.articles import router as articles_router
from api.admin.operations import router as operations_router
from api.admin.resource_routes import routers as resource_routers
from api.auth.admin import router as tokens_router
from api.auth.dependencies import AdminRouter
from api.subscriptions.admin import router as subscribers_router
from api.webhooks.admin import router as webhooks_router

ADMIN_ROUTERS: list[AdminRouter] = [
    articles_router,
    *resource_routers,
    tokens_router,
    operations_router,
    subscribers_router,
    webhooks_router,
    action_clicks_router,
]

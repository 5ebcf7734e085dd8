"""create_app(): routers, middleware and error handlers; nothing else."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import HTMLResponse
from starlette.types import Receive, Scope, Send

from api.actions.public import router as actions_router
from api.articles.public import pages_router
from api.articles.public import router as articles_router
from api.auth.content_keys import ContentKeys
from api.auth.limits import make_auth_failure_limiter
from api.authors.public import router as authors_router
from api.changes.service import next_visibility_change
from api.citations.checker import link_checker_enabled, run_link_checker
from api.conversions.routers import router as conversions_router
from api.core.cache import CacheStats, ResponseCache, ResponseCacheMiddleware, serve_hit
from api.core.cors import CorsPolicy
from api.core.db import make_engine, make_sessionmaker, utcnow
from api.core.edge import Edge
from api.core.errors import Problem, install_error_handlers
from api.core.health import Metrics
from api.core.health import router as health_router
from api.core.limits import RequestLimits, document_request_limits
from api.core.logs import configure_logging
from api.core.openapi_doc import finish_document
from api.core.origin import ORIGIN, PublicOrigins
from api.core.overload import EXEMPT_PATHS, InFlightLimit, in_flight_limit
from api.core.root import router as root_router
from api.core.settings import Settings, get_settings
from api.editorial.routers import ADMIN_ROUTERS
from api.examples import install_examples
from api.feeds.public import router as feeds_router
from api.ghost.router import GHOST_ROUTERS
from api.jsonld.public import router as jsonld_router
from api.oembed.public import router as oembed_router
from api.previews.public import router as previews_router
from api.search.public import router as search_router
from api.site.public import router as site_router
from api.sitemaps.public import router as sitemaps_router
from api.sources.public import router as sources_router
from api.subscriptions.limits import make_limiter
from api.subscriptions.outbox import OutboxSender
from api.subscriptions.public import router as subscriptions_router
from api.sync.public import router as sync_router
from api.tags.public import router as tags_router
from api.webhooks.worker import run_webhook_worker
from api.websub.worker import run_websub_worker

log = logging.getLogger("masthead")
DOCS_STATIC = Path(fastapi_offline.__file__).parent / "static"
DESCRIPTION = """\
Masthead serves a campaigning publication's articles, tags, cited sources, calls to action
and authors as JSON. Public reads need no authentication (unless the deployment requires a
content key), are cacheable (strong `ETag`, `Cache-Control`, `Surrogate-Key`) and
keyset-paginated. Every error is an RFC 9457 `application/problem+json` document.
"""


def operation_id(route: APIRoute) -> str:
    return route.name


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Background work of this worker: the email outbox sender, the webhook dispatcher and
    the citation link checker (each when its setting is on; several workers share the work
    through row locks)."""
    settings: Settings = app.state.settings
    log.info(
        "worker started: %s environment, %s database, outbox sender %s, webhook worker %s",
        settings.environment,
        app.state.engine.dialect.name,
        "on" if settings.outbox_sender else "off",
        "on" if settings.webhook_worker else "off",
    )
    sender = None
    if settings.outbox_sender:
        sender = OutboxSender(app.state.sessionmaker, settings, lambda: app.state.clock())
        sender.start()
    app.state.outbox_sender = sender
    webhook_stop = asyncio.Event()
    webhook_task = (
        asyncio.create_task(run_webhook_worker(app, webhook_stop), name="masthead-webhooks")
        if settings.webhook_worker
        else None
    )
    websub_task = (
        asyncio.create_task(run_websub_worker(app, webhook_stop), name="masthead-websub")
        if settings.webhook_worker and settings.websub_hub
        else None
    )
    link_check_task = (
        asyncio.create_task(run_link_checker(app, webhook_stop), name="masthead-link-checker")
        if link_checker_enabled(settings)
        else None
    )
    try:
        yield
    finally:
        app.state.outbox_sender = None
        webhook_stop.set()
        if sender is not None:
            await sender.stop()
        if webhook_task is not None:
            await webhook_task
        if websub_task is not None:
            await websub_task
        if link_check_task is not None:
            await link_check_task


class Masthead(FastAPI):
    """FastAPI behind `api.core.edge` (request id, HEAD, OPTIONS and CORS, access log and
    metrics), with the response cache's fast path in front of all middleware and routing:
    a cache hit is answered there (see `api.core.cache`)."""

    response_cache: ResponseCache | None = None
    edge: Edge | None = None
    origins: PublicOrigins | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.edge is not None:
            if self.origins is not None:  # the one origin of this request's links
                origin = scope[ORIGIN] = self.origins.choose(scope)
                send = self.origins.announce(origin, scope, send)
            await self.edge(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)

    async def behind_edge(self, scope: Scope, receive: Receive, send: Send) -> None:
        cache = self.response_cache
        if cache is not None and await serve_hit(cache, scope, send):
            return
        await super().__call__(scope, receive, send)

    def openapi(self) -> dict[str, Any]:
        return build_openapi(self)


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> Masthead:
    settings = settings or get_settings()
    configure_logging(settings)
    app = Masthead(
        lifespan=lifespan,
        title="Masthead",
        version="1.0.0",
        summary="A headless JSON content API for campaigning journalism.",
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=operation_id,
    )
    app.state.settings = settings
    app.origins = app.state.origins = PublicOrigins.from_settings(settings)
    app.state.engine = engine or make_engine(settings)
    # Writers (requests other than GET, background workers) take SQLite's lock up front;
    # GET and HEAD requests read without it.
    app.state.sessionmaker = make_sessionmaker(app.state.engine, lock_first=True)
    app.state.query_sessionmaker = make_sessionmaker(app.state.engine)
    app.state.read_engine = (
        make_engine(settings, url=settings.read_database_url)
        if settings.read_database_url
        else None
    )
    app.state.read_sessionmaker = (
        make_sessionmaker(app.state.read_engine) if app.state.read_engine is not None else None
    )
    app.state.clock = utcnow
    app.state.signup_limiter = make_limiter(settings)
    app.state.auth_failures = make_auth_failure_limiter(settings)
    app.state.outbox_sender = None

    install_error_handlers(app)
    for router in (
        articles_router,
        pages_router,
        site_router,
        tags_router,
        sources_router,
        actions_router,
        authors_router,
        search_router,
        sync_router,
        feeds_router,
        jsonld_router,
        sitemaps_router,
        oembed_router,
        subscriptions_router,
        previews_router,
        conversions_router,
        health_router,
        root_router,
    ):
        app.include_router(router)
    for admin_router in ADMIN_ROUTERS:
        app.include_router(admin_router)
    for ghost_router in GHOST_ROUTERS:
        app.include_router(ghost_router)
    install_docs(app)
    if settings.examples:
        install_examples(app)

    # Added innermost first: routes < content keys < gzip < response cache < requests in
    # flight < request limits. Cache hits are answered before all of them, and the edge
    # (CORS, HEAD, OPTIONS, request id, metrics, access log) is around everything.
    app.add_middleware(ContentKeys)
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    app.state.cache_stats = CacheStats()
    app.state.metrics = Metrics(app.state.cache_stats)
    if settings.response_cache and not settings.content_keys_required:
        cache = ResponseCache(
            engine=lambda: app.state.engine,
            clock=lambda: app.state.clock(),
            stats=app.state.cache_stats,
            next_change=next_visibility_change,
            max_entries=settings.response_cache_entries,
        )
        app.response_cache = cache
        app.add_middleware(ResponseCacheMiddleware, cache=lambda: cache)
    app.add_middleware(InFlightLimit, limit=in_flight_limit(settings))
    app.add_middleware(
        RequestLimits,
        max_body_bytes=settings.max_body_bytes,
        max_query_length=settings.max_query_length,
    )
    app.edge = Edge(
        app.behind_edge,
        router=app.router,
        metrics=lambda: app.state.metrics,
        cors=CorsPolicy(settings.cors_origins),
        trusted_proxies=settings.trusted_proxies,
    )
    return app


def build_openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    from fastapi.openapi.utils import get_openapi

    schema = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault(
        "Problem", Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    )
    # FastAPI's own 422 shape is replaced by our problem documents.
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    document_request_limits(schema)  # NUL characters, bodies that are not JSON or too big
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            # Answered before or around every route: a long query string (every path);
            # overload, a busy or unreachable database (all but liveness and metrics).
            responses.setdefault("414", {"description": "Query string too long."})
            if path not in EXEMPT_PATHS:
                responses.setdefault(
                    "503",
                    {
                        "description": "Overloaded, or the database is busy or unreachable; "
                        "`Retry-After` says when to try again."
                    },
                )
            for code, response in responses.items():
                if code[0] in "45":
                    response["content"] = dict(problem)
            if "422" in responses:
                responses["422"]["description"] = "Invalid input (a problem document)."
    app.openapi_schema = finish_document(schema)  # shapes, names, headers, security
    return schema


def install_docs(app: FastAPI) -> None:
    """Interactive docs from files shipped in a Python package: no third-party CDN."""
    app.mount("/docs/static", StaticFiles(directory=DOCS_STATIC), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}/openapi.json",
            title="Masthead API",
            swagger_js_url=f"{root}/docs/static/swagger-ui-bundle.js",
            swagger_css_url=f"{root}/docs/static/swagger-ui.css",
            swagger_favicon_url=f"{root}/docs/static/favicon.png",
            # Its default shows a badge, an image from validator.swagger.io.
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}/openapi.json",
            title="Masthead API",
            redoc_js_url=f"{root}/docs/static/redoc.standalone.js",
            redoc_favicon_url=f"{root}/docs/static/favicon.png",
            with_google_fonts=False,
        )

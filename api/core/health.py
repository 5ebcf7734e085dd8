"""Liveness, readiness and Prometheus metrics."""

import hmac
import ipaddress
from typing import Any

from fastapi import APIRouter, Request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from pydantic import BaseModel, Field
from sqlalchemy import text
from starlette.responses import Response

from api.core.errors import Forbidden, ServiceUnavailable, Unauthorized, problem_responses
from api.core.settings import Settings

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: str = Field(description="`ok` when the check passed.")


class Metrics:
    """Per-app Prometheus collectors (a registry of its own, so apps never collide)."""

    def __init__(self, cache_stats: Any = None) -> None:
        self.registry = CollectorRegistry()
        if cache_stats is not None:
            hits = Gauge(
                "masthead_response_cache_hits",
                "Public responses answered from this worker's response cache.",
                registry=self.registry,
            )
            hits.set_function(lambda: cache_stats.hits)
            misses = Gauge(
                "masthead_response_cache_misses",
                "Cacheable public requests that had to be built.",
                registry=self.registry,
            )
            misses.set_function(lambda: cache_stats.misses)
        self.requests = Counter(
            "masthead_http_requests_total",
            "HTTP requests by route template, method and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "masthead_http_request_duration_seconds",
            "Time to produce a response, by route template.",
            ["method", "route"],
            registry=self.registry,
        )
        self.children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one response (label lookups are cached: they cost more than the count)."""
        key = (method, route, status)
        children = self.children.get(key)
        if children is None:
            children = (
                self.requests.labels(method, route, str(status)),
                self.latency.labels(method, route),
            )
            self.children[key] = children
        children[0].inc()
        children[1].observe(seconds)


@router.get("/healthz", response_model=Health, summary="Liveness")
def healthz() -> dict[str, str]:
    """The process is up. Does not touch the database."""
    return {"status": "ok"}


@router.get("/readyz", response_model=Health, responses=problem_responses(503), summary="Readiness")
def readyz(request: Request) -> Response:
    """Ready to serve: the database answers. A 503 problem (with `Retry-After`) when not."""
    try:
        with request.app.state.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        raise ServiceUnavailable(
            "The database is not reachable.", headers={"Retry-After": "5"}
        ) from None
    return Response(b'{"status":"ok"}', media_type="application/json")


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {}}, "description": "Prometheus text format."},
        **problem_responses(401, 403),
    },
)
def metrics(request: Request) -> Response:
    """Request counts and latencies by route, in the Prometheus text format. Restricted when
    `MASTHEAD_METRICS_TOKEN` (send it as a bearer token) or `MASTHEAD_METRICS_ALLOW`
    (client networks) is set."""
    _may_scrape(request, request.app.state.settings)
    return Response(
        generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST
    )


def _may_scrape(request: Request, settings: Settings) -> None:
    """401 without the metrics token (when one is set), 403 from outside the allowed networks
    (when they are set); the peer address is used, never a forwarded one."""
    if settings.metrics_allow:
        peer = request.client.host if request.client else ""
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            address = None
        networks = [ipaddress.ip_network(n, strict=False) for n in settings.metrics_allow]
        if address is None or not any(address in network for network in networks):
            raise Forbidden("Metrics are not served to this address.")
    if settings.metrics_token:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        expected = settings.metrics_token.encode()
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
            raise Unauthorized(
                "Send `Authorization: Bearer <MASTHEAD_METRICS_TOKEN>` to read the metrics.",
                headers={"WWW-Authenticate": 'Bearer realm="masthead-metrics"'},
            )

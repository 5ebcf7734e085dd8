"""Liveness, readiness and Prometheus metrics."""

import time
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from pydantic import BaseModel, Field
from sqlalchemy import text
from starlette.responses import Response

from api.core.errors import problem_response, problem_responses

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: str = Field(description="`ok` when the check passed.")


class Metrics:
    """Per-app Prometheus collectors (a registry of its own, so apps never collide)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
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


async def metrics_middleware(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    started = time.perf_counter()
    response = await call_next(request)
    route = request.scope.get("route")
    template = getattr(route, "path", None) or "unmatched"
    metrics: Metrics = request.app.state.metrics
    metrics.requests.labels(request.method, template, str(response.status_code)).inc()
    metrics.latency.labels(request.method, template).observe(time.perf_counter() - started)
    return response


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
        return problem_response(
            503,
            "The database is not reachable.",
            type_slug="unavailable",
            title="Service unavailable",
            headers={"Retry-After": "5"},
        )
    return Response(b'{"status":"ok"}', media_type="application/json")


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format."}},
)
def metrics(request: Request) -> Response:
    """Request counts and latencies by route, in the Prometheus text format."""
    return Response(
        generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST
    )

"""Typed errors, rendered in one place as RFC 9457 `application/problem+json`."""

import logging
from collections.abc import Iterable, Iterator
from http import HTTPStatus
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match, Mount
from starlette.types import Scope

from api.core.logs import REQUEST_ID

log = logging.getLogger("masthead")

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "https://masthead.dev/problems/"


class ProblemError(Exception):
    """Base of every error the API answers with a problem document."""

    status: int = 500
    type_slug: str = "internal"
    title: str = "Internal server error"

    def __init__(
        self,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}


class BadRequest(ProblemError):
    status, type_slug, title = 400, "bad-request", "Bad request"


class Unauthorized(ProblemError):
    status, type_slug, title = 401, "unauthorized", "Authentication required"


class Forbidden(ProblemError):
    status, type_slug, title = 403, "forbidden", "Not permitted"


class NotFound(ProblemError):
    status, type_slug, title = 404, "not-found", "Not found"


class Conflict(ProblemError):
    status, type_slug, title = 409, "conflict", "Conflict"


class PreconditionFailed(ProblemError):
    status, type_slug, title = 412, "precondition-failed", "Precondition failed"


class Unprocessable(ProblemError):
    status, type_slug, title = 422, "validation", "Invalid input"


class PreconditionRequired(ProblemError):
    status, type_slug, title = 428, "precondition-required", "Precondition required"


class TooManyRequests(ProblemError):
    status, type_slug, title = 429, "rate-limited", "Too many requests"


class ServiceUnavailable(ProblemError):
    status, type_slug, title = 503, "unavailable", "Service unavailable"


class DatabaseBusy(ServiceUnavailable):
    """SQLite's write lock stayed taken past the busy timeout: retry, nothing was written."""

    type_slug, title = "busy", "Database busy"


class ValidationIssue(BaseModel):
    loc: list[str | int] = Field(description="Where the problem is: `query`, `body`, then names.")
    msg: str = Field(description="What is wrong, for a developer.")


class Problem(BaseModel):
    """An RFC 9457 problem document; every error response has this shape."""

    type: str = Field(description="A URI naming the kind of problem.")
    title: str = Field(description="A short summary of the kind of problem.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong with this request, for a developer.")
    errors: list[ValidationIssue] | None = Field(
        None, description="For validation problems: each invalid input and why."
    )
    request_id: str | None = Field(
        None,
        description="This request's id (also its `X-Request-ID` header): quote it when "
        "reporting a problem, it finds the request's lines in the server's log.",
    )


def problem_response(
    status: int,
    detail: str,
    *,
    type_slug: str | None = None,
    title: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + type_slug if type_slug else "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    request_id = REQUEST_ID.get()
    if request_id is not None:
        body["request_id"] = request_id
    response = Response(orjson.dumps(body), status_code=status, media_type=PROBLEM_MEDIA_TYPE)
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _clean_loc(loc: tuple[Any, ...] | list[Any]) -> list[str | int]:
    return [part if isinstance(part, int) else str(part) for part in loc]


def validation_errors(raw: list[Any]) -> list[dict[str, Any]]:
    """Pydantic/FastAPI error dicts reduced to `{loc, msg}` (no echoed input)."""
    return [{"loc": _clean_loc(e.get("loc", ())), "msg": str(e.get("msg", ""))} for e in raw]


async def _problem_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    return problem_response(
        exc.status,
        exc.detail,
        type_slug=exc.type_slug,
        title=exc.title,
        errors=exc.errors,
        headers=exc.headers,
    )


async def _validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = validation_errors(list(exc.errors()))
    where = ", ".join(".".join(str(p) for p in e["loc"]) for e in errors[:3])
    return problem_response(
        422,
        f"Invalid input: {where}." if where else "Invalid input.",
        type_slug="validation",
        title="Invalid input",
        errors=errors,
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    if exc.status_code == 404 and detail == "Not Found":
        detail = "No such resource or route."
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request.app.router.routes, request.scope))
    return problem_response(
        exc.status_code, detail, type_slug=HTTP_ERROR_TYPES.get(exc.status_code), headers=headers
    )


# Framework errors get the same problem types as ours (a malformed JSON body is a 400).
HTTP_ERROR_TYPES = {
    400: BadRequest.type_slug,
    401: Unauthorized.type_slug,
    404: NotFound.type_slug,
    405: "method-not-allowed",
    413: "payload-too-large",
}


def _routes(routes: Iterable[Any]) -> Iterator[Any]:
    """The routes themselves, inside the routers FastAPI includes (their paths are whole)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _routes(inner.routes)
        else:
            yield route


def path_methods(routes: Iterable[Any], scope: Scope) -> tuple[list[str], str | None]:
    """Every method of every route on this path (Starlette names only the first route's):
    HEAD wherever GET is, OPTIONS wherever anything is (see `api.core.edge`); and the path
    template of the first such route."""
    methods: set[str] = set()
    template = None
    probe = {**scope, "method": "GET"}
    for route in _routes(routes):
        if isinstance(route, Mount):  # static files: GET and HEAD
            if route.matches(probe)[0] is Match.FULL:
                methods.add("GET")
                template = template or route.path + "/{path}"
            continue
        if not hasattr(route, "methods"):
            continue
        match, _ = route.matches(probe)
        if match is not Match.NONE:
            methods.update(route.methods or ())
            template = template or route.path
    if "GET" in methods:
        methods.add("HEAD")
    if methods:
        methods.add("OPTIONS")
    return sorted(methods), template


def allowed_methods(routes: Iterable[Any], scope: Scope) -> list[str]:
    return path_methods(routes, scope)[0]


def _is_sqlite_busy(exc: Exception) -> bool:
    message = str(getattr(exc, "orig", exc)).lower()
    return "database is locked" in message or "database is busy" in message


async def _database_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, OperationalError) and _is_sqlite_busy(exc):
        log.warning("database busy: the write lock was not free within the busy timeout")
        busy = DatabaseBusy(
            "The database is busy with other writes; nothing was changed. Retry shortly.",
            headers={"Retry-After": "1"},
        )
        return await _problem_error(request, busy)
    if isinstance(exc, SQLAlchemyTimeoutError):
        log.warning("no database connection free within the pool timeout")
        saturated = ServiceUnavailable(
            "Every database connection is in use; retry shortly.", headers={"Retry-After": "1"}
        )
        return await _problem_error(request, saturated)
    log.error("database unavailable: %s", exc.__class__.__name__)
    unavailable = ServiceUnavailable(
        "The database is not reachable; try again shortly.", headers={"Retry-After": "5"}
    )
    return await _problem_error(request, unavailable)


async def _unexpected_error(_request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", exc_info=exc)
    return problem_response(500, "An unexpected error occurred; it has been logged.")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ProblemError, _problem_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(OperationalError, _database_error)
    app.add_exception_handler(InterfaceError, _database_error)
    app.add_exception_handler(SQLAlchemyTimeoutError, _database_error)
    app.add_exception_handler(Exception, _unexpected_error)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` declaration for an endpoint's error statuses."""
    return {
        status: {
            "model": Problem,
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }

"""Errors in Ghost's shape: `{"errors": [{"message", "type", "context", ...}]}`.

Ghost routes raise the project's typed errors (`NotFound("Post not found.")`) or a
`GhostProblem` when Ghost names the error differently; `GhostRoute` renders whatever a route
raises (database outages included, through the app's own handlers) in Ghost's shape, with
the status and `Retry-After` the problem document would have had.
"""

import uuid
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.responses import Response

from api.core.db import mark_failed
from api.core.errors import ProblemError

GHOST_TYPES = {
    400: "BadRequestError",
    401: "UnauthorizedError",
    403: "NoPermissionError",
    404: "NotFoundError",
    405: "MethodNotAllowedError",
    409: "ConflictError",
    413: "RequestEntityTooLargeError",
    414: "RequestEntityTooLargeError",
    422: "ValidationError",
    429: "TooManyRequestsError",
    500: "InternalServerError",
    503: "MaintenanceError",
}
KEPT_HEADERS = ("retry-after", "allow")


class GhostProblem(ProblemError):
    """An error with Ghost's own message, type and context (the filter's parse error, the
    key Ghost does not know)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        context: str | None = None,
        code: str | None = None,
        ghost_type: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.context = context
        self.code = code
        self.ghost_type = ghost_type or GHOST_TYPES.get(status, "InternalServerError")


class GhostErrorItem(BaseModel):
    message: str = Field(description="What went wrong.")
    context: str | None = Field(description="More about it, or null.")
    type: str = Field(description="Ghost's error class, e.g. `NotFoundError`.")
    details: None = Field(description="Always null.")
    property: None = Field(description="Always null.")
    help: None = Field(description="Always null.")
    code: str | None = Field(description="A machine-readable code, or null.")
    id: str = Field(description="This error's id (a UUID).")
    ghostErrorCode: None = Field(description="Always null.")


class GhostErrors(BaseModel):
    """Ghost's error document."""

    errors: list[GhostErrorItem] = Field(description="One error.")


def ghost_error_response(
    status: int,
    message: str,
    *,
    context: str | None = None,
    code: str | None = None,
    ghost_type: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    error = {
        "message": message,
        "context": context,
        "type": ghost_type or GHOST_TYPES.get(status, "InternalServerError"),
        "details": None,
        "property": None,
        "help": None,
        "code": code,
        "id": str(uuid.uuid4()),
        "ghostErrorCode": None,
    }
    response = Response(
        orjson.dumps({"errors": [error]}), status_code=status, media_type="application/json"
    )
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def ghost_error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` declaration of Ghost routes' errors."""
    return {
        status: {"model": GhostErrors, "description": GHOST_TYPES[status]} for status in statuses
    }


def _handler(request: Request, exc: Exception) -> Any:
    handlers = request.app.exception_handlers
    for cls in type(exc).__mro__:
        if cls in handlers:
            return handlers[cls]
    return None


async def as_ghost_error(request: Request, exc: Exception) -> Response:
    """The Ghost-shaped answer to an exception a Ghost route raised."""
    if isinstance(exc, GhostProblem):
        return ghost_error_response(
            exc.status, exc.detail, context=exc.context, code=exc.code, ghost_type=exc.ghost_type
        )
    if isinstance(exc, RequestValidationError):
        return ghost_error_response(422, "Validation error, cannot read request.")
    handler = _handler(request, exc)
    if handler is None:
        raise exc
    problem: Response = await handler(request, exc)
    try:
        detail = str(orjson.loads(bytes(problem.body)).get("detail", ""))
    except (orjson.JSONDecodeError, AttributeError):
        detail = ""
    kept = {k: v for k, v in problem.headers.items() if k.lower() in KEPT_HEADERS}
    return ghost_error_response(problem.status_code, detail or "Error", headers=kept)


class GhostRoute(APIRoute):
    """Every error a Ghost route answers is in Ghost's shape."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def ghost_handler(request: Request) -> Response:
            try:
                return await original(request)
            except Exception as exc:
                mark_failed(request)
                return await as_ghost_error(request, exc)

        return ghost_handler

"""Bearer authentication for the admin API, applied through `require_role` on every route.

`AdminRouter` refuses (at import, i.e. application start-up) any route that does not declare
a role requirement, so no admin endpoint can be mounted unguarded by accident.
"""

import hashlib
import logging
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from api.auth.models import ROLE_RANK, Role
from api.auth.service import Principal, find_usable_token, last_use_is_stale, record_last_use
from api.core.db import NowDep, SessionDep, mark_failed
from api.core.errors import Forbidden, TooManyRequests, Unauthorized, problem_responses
from api.core.limits import NUL_AT, nul_problem
from api.editorial.http import ADMIN_CACHE_CONTROL

BEARER_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="masthead-admin"'}
ROLE_MARK = "_masthead_required_role"
log = logging.getLogger("masthead.auth")


def _note_last_use(factory: sessionmaker[Session], token_id: str, now: datetime) -> None:
    """After the answer, in a short transaction of its own; a failure only loses the note."""
    try:
        with factory() as session, session.begin():
            record_last_use(session, token_id, now)
    except SQLAlchemyError as exc:
        log.warning("token %s: last use not recorded: %s", token_id, type(exc).__name__)


def authenticate(
    request: Request, session: SessionDep, now: NowDep, background: BackgroundTasks
) -> Principal:
    """The caller behind `Authorization: Bearer …`, or 401 (missing, bad, revoked, expired)."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise Unauthorized(
            "Send `Authorization: Bearer <token>` to use the admin API.",
            headers=BEARER_CHALLENGE,
        )
    limiter = request.app.state.auth_failures
    limiter.check(request, now)
    token = find_usable_token(session, credentials.strip(), now)
    if token is None:
        limiter.failed(request, now)
        raise Unauthorized(
            "The token is unknown, revoked or expired.",
            headers={"WWW-Authenticate": BEARER_CHALLENGE["WWW-Authenticate"]
                     + ', error="invalid_token"'},
        )  # fmt: skip
    if last_use_is_stale(token, now):
        background.add_task(_note_last_use, request.app.state.sessionmaker, token.id, now)
    return Principal(token.id, token.name, Role(token.role))


def require_role(minimum: Role) -> Any:
    """A dependency: the caller holds `minimum` or a stronger editorial role, else 403.

    Content keys are refused everywhere in the admin API."""
    if minimum not in ROLE_RANK:
        raise ValueError(f"{minimum} is not an editorial role")

    def check_role(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        return permitted(principal, minimum)

    setattr(check_role, ROLE_MARK, minimum)
    return Depends(check_role)


def permitted(principal: Principal, minimum: Role) -> Principal:
    """`principal`, when it holds `minimum` or a stronger editorial role; else 403."""
    if principal.role not in ROLE_RANK:
        raise Forbidden("Content keys read the public API only; use an editorial token.")
    if ROLE_RANK[principal.role] < ROLE_RANK[minimum]:
        raise Forbidden(f"This needs the `{minimum}` role; the token is `{principal.role}`.")
    return principal


def required_role(route: APIRoute) -> Role | None:
    """The role a route declares (the strongest, if several), or None when unguarded."""

    def walk(dependant: Dependant) -> list[Role]:
        found = [getattr(dependant.call, ROLE_MARK)] if hasattr(dependant.call, ROLE_MARK) else []
        for sub in dependant.dependencies:
            found.extend(walk(sub))
        return found

    roles = walk(route.dependant)
    return max(roles, key=lambda r: ROLE_RANK[r]) if roles else None


class UnguardedRoute(RuntimeError):
    """An admin route was declared without a role requirement."""


class AdminRoute(APIRoute):
    """Every admin response, errors included, is private and carries an ETag."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()
        minimum = required_role(self)

        async def private_handler(request: Request) -> Response:
            try:
                nul_at = request.scope.get(NUL_AT)
                if nul_at is not None:  # refused before routing, answered after authentication
                    refusal = await _authentication_refusal(request, minimum)
                    if refusal is not None:
                        raise refusal
                    response = nul_problem(nul_at)
                else:
                    response = await original(request)
            except Exception as error:
                exc = error
                if _raised_before_authentication(exc):
                    exc = await _authentication_refusal(request, minimum) or exc
                handler = _exception_handler(request, exc)
                if handler is None:
                    raise
                mark_failed(request)
                response = await handler(request, exc)
            response.headers["Cache-Control"] = ADMIN_CACHE_CONTROL
            body = getattr(response, "body", b"")
            if "etag" not in response.headers and body:
                digest = hashlib.blake2b(bytes(body), digest_size=16).hexdigest()
                response.headers["ETag"] = f'"{digest}"'
            return response

        return private_handler


def _raised_before_authentication(exc: Exception) -> bool:
    """A body FastAPI could not decode: it refuses it before solving any dependency, so
    before the caller is authenticated."""
    if isinstance(exc, RequestValidationError):
        return all(e.get("type") == "json_invalid" for e in exc.errors())
    return isinstance(exc, StarletteHTTPException) and exc.status_code == 400


async def _authentication_refusal(request: Request, minimum: Role | None) -> Exception | None:
    """What the route's authentication would answer (401, 403, 429), or None when the caller
    may use it: an unauthenticated request learns nothing about the body it sent."""
    state = request.app.state

    def check() -> None:
        with state.query_sessionmaker() as session:
            principal = authenticate(request, session, state.clock(), BackgroundTasks())
        if minimum is not None:
            permitted(principal, minimum)

    try:
        await run_in_threadpool(check)
    except (Unauthorized, Forbidden, TooManyRequests) as refusal:
        return refusal
    return None


def _exception_handler(request: Request, exc: Exception) -> Any:
    handlers = request.app.exception_handlers
    for cls in type(exc).__mro__:
        if cls in handlers:
            return handlers[cls]
    return None


class AdminRouter(APIRouter):
    """An APIRouter whose every route must declare `require_role(...)`."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("route_class", AdminRoute)
        kwargs.setdefault("responses", {})
        kwargs["responses"] = {**problem_responses(401, 403, 429), **kwargs["responses"]}
        super().__init__(**kwargs)

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().add_api_route(path, endpoint, **kwargs)
        route = self.routes[-1]
        assert isinstance(route, APIRoute)
        if required_role(route) is None:
            self.routes.pop()
            raise UnguardedRoute(
                f"{sorted(route.methods or ())} {route.path} declares no role: add "
                "`dependencies=[require_role(Role.…)]` (or a Principal parameter)."
            )

    def include_router(self, router: APIRouter, **kwargs: Any) -> None:
        """Only routers whose every route declares a role may be mounted inside."""
        for route in router.routes:
            if isinstance(route, APIRoute) and required_role(route) is None:
                raise UnguardedRoute(
                    f"{sorted(route.methods or ())} {route.path} declares no role."
                )
        super().include_router(router, **kwargs)


ContributorDep = Annotated[Principal, require_role(Role.contributor)]
EditorDep = Annotated[Principal, require_role(Role.editor)]
AdminDep = Annotated[Principal, require_role(Role.admin)]

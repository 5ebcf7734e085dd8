"""Content keys: when `MASTHEAD_CONTENT_KEYS_REQUIRED=true`, the public API (`/v1`, not the
admin API) needs a live `content` key, sent as `?key=` or `X-Masthead-Key`; each use is
counted on the key. The inbound hooks (`/v1/hooks`) are not the content API: each checks
its provider's own credentials. One ASGI middleware, so no public router has to remember it."""

from urllib.parse import parse_qs

from anyio import to_thread
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from api.auth.models import Role
from api.auth.service import count_content_key_use, find_usable_token
from api.core.errors import TooManyRequests, problem_response


class ContentKeys:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._guarded(scope):
            await self.app(scope, receive, send)
            return
        key = self._key(scope)
        try:
            # Failed keys are limited per client address like bearer tokens (429).
            usable = key is not None and await to_thread.run_sync(self._check, scope, key)
        except TooManyRequests as refused:
            response = problem_response(
                refused.status,
                refused.detail,
                type_slug=refused.type_slug,
                title=refused.title,
                headers=refused.headers,
            )
            await response(scope, receive, send)
            return
        if not usable:
            response = problem_response(
                401,
                "This API needs a content key: pass `?key=` or the `X-Masthead-Key` header.",
                type_slug="unauthorized",
                title="Content key required",
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    @classmethod
    def _check(cls, scope: Scope, key: str) -> bool:
        """Whether `key` is a live content key (its use counted); 429 while this client is
        over the failed-authentication limit, and a failure counted against it."""
        state = scope["app"].state
        limiter = state.auth_failures
        request = Request(scope)
        now = state.clock()
        limiter.check(request, now)
        if cls._use(scope, key):
            return True
        limiter.failed(request, now)
        return False

    @staticmethod
    def _guarded(scope: Scope) -> bool:
        path: str = scope.get("path", "")
        if not path.startswith("/v1/") or path.startswith(("/v1/admin", "/v1/hooks")):
            return False
        return bool(scope["app"].state.settings.content_keys_required)

    @staticmethod
    def _key(scope: Scope) -> str | None:
        for name, value in scope.get("headers", []):
            if name == b"x-masthead-key":
                return value.decode("latin-1").strip() or None
        values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("key")
        return values[0] if values else None

    @staticmethod
    def _use(scope: Scope, key: str) -> bool:
        """Check the key and count its use, in one short transaction of its own."""
        state = scope["app"].state
        with state.sessionmaker() as session, session.begin():
            token = find_usable_token(session, key, state.clock())
            if token is None or token.role != Role.content:
                return False
            count_content_key_use(session, token.id, state.clock())
            return True

"""Guards applied before routing: query-string length, NUL in the URL, body size (413 early)."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.core.errors import problem_response


class RequestLimits:
    """Refuse over-long query strings (414) and bodies over the limit (413) before parsing."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_query_length: int) -> None:
        self.app = app
        self.max_body = max_body_bytes
        self.max_query = max_query_length

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if len(scope.get("query_string", b"")) > self.max_query:
            response = problem_response(
                414,
                f"The query string is longer than {self.max_query} bytes.",
                type_slug="uri-too-long",
            )
            await response(scope, receive, send)
            return
        if _has_nul(scope):
            response = problem_response(
                400,
                "The URL contains a NUL character (%00), which no parameter or slug allows.",
                type_slug="bad-request",
            )
            await response(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > self.max_body
            except ValueError:
                too_big = True
            if too_big:
                await self._too_large(scope, receive, send)
                return
        if declared is not None or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            # The declared length was checked; the server enforces it for the body.
            await self.app(scope, receive, send)
            return
        # No Content-Length (chunked): read the body here, up to the limit, then replay it.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, receive, send)
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_body:
                await self._too_large(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            413,
            f"The request body is larger than {self.max_body} bytes.",
            type_slug="payload-too-large",
        )
        await response(scope, receive, send)


def _has_nul(scope: Scope) -> bool:
    """NUL reaches PostgreSQL as an error (text cannot hold it), so refuse it up front."""
    query = scope.get("query_string", b"")
    return "\x00" in scope.get("path", "") or b"%00" in query or b"\x00" in query

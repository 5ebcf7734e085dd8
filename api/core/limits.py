"""Guards applied before routing: query-string length and request-body size (413 early)."""

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
        received = 0
        refused = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    refused = True
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, counting_receive, send)
        except BodyTooLarge:
            await self._too_large(scope, receive, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            413,
            f"The request body is larger than {self.max_body} bytes.",
            type_slug="payload-too-large",
        )
        await response(scope, receive, send)


class BodyTooLarge(Exception):
    pass

"""Guards applied before routing: query-string length, NUL in the URL or in a JSON body,
body size (413 early)."""

from typing import Any

import orjson
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.core.errors import problem_response

JSON_NUL = b"\\u0000"
ADMIN_PREFIX = "/v1/admin/"
# Where a NUL character is in an admin request's body (set in the scope, see `RequestLimits`).
NUL_AT = "masthead.nul_at"


def nul_problem(where: list[str | int]) -> Response:
    """422: a string of the JSON body, at `where`, holds NUL (PostgreSQL cannot store it)."""
    return problem_response(
        422,
        "A string contains a NUL character (\\u0000), which no field allows.",
        type_slug="validation",
        title="Invalid input",
        errors=[{"loc": ["body", *where], "msg": "NUL characters are not allowed"}],
    )


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
        json_body = b"json" in headers.get(b"content-type", b"")
        if scope["method"] in ("GET", "HEAD", "OPTIONS") or (
            declared is not None and not json_body
        ):
            # The declared length was checked; the server enforces it for the body.
            await self.app(scope, receive, send)
            return
        # A JSON body, or no Content-Length (chunked): read the body here, up to the limit,
        # check it, then replay it.
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
        if json_body and JSON_NUL in body:
            where = _nul_location(body)
            if where is not None and scope.get("path", "").startswith(ADMIN_PREFIX):
                # The admin route answers this once the caller is authenticated.
                scope[NUL_AT] = where
            elif where is not None:
                await nul_problem(where)(scope, receive, send)
                return
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


def _nul_location(body: bytes) -> list[str | int] | None:
    """Where the first string holding NUL is in a JSON document (a key counts as its
    value's place), or None when the body is not JSON (the route reports that)."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None

    def walk(value: Any, path: list[str | int]) -> list[str | int] | None:
        if isinstance(value, str):
            return path if "\x00" in value else None
        if isinstance(value, list):
            for index, item in enumerate(value):
                found = walk(item, [*path, index])
                if found is not None:
                    return found
        elif isinstance(value, dict):
            for key, item in value.items():
                if "\x00" in key:
                    return [*path, key]
                found = walk(item, [*path, key])
                if found is not None:
                    return found
        return None

    return walk(document, [])


# What `RequestLimits` refuses, stated in the OpenAPI document (`document_request_limits`).
NO_NUL = r"^[^\x00]*$"  # any string without U+0000, in ECMA-262 and Python syntax alike
NUL_IN_URL = "The URL holds a NUL character (%00), which no parameter or path allows"
COMPONENTS = "#/components/schemas/"
SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
SCHEMA_VALUES = ("items", "additionalProperties", "contains")


def forbid_nul(schema: Any, components: dict[str, Any], seen: set[str]) -> None:
    """Give every string of a request's JSON Schema that no pattern, format or enum already
    confines the pattern "no NUL", in place: nested properties, items, alternatives and the
    components it refers to (each once: `seen`). Responses keep theirs: a problem document
    quotes the offending key, NUL included."""
    if not isinstance(schema, dict):
        return
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(COMPONENTS):
        name = ref.removeprefix(COMPONENTS)
        if name not in seen and name in components:
            seen.add(name)
            forbid_nul(components[name], components, seen)
        return
    types = schema.get("type")
    is_string = types == "string" or (isinstance(types, list) and "string" in types)
    if is_string and not {"pattern", "format", "enum", "const"} & schema.keys():
        schema["pattern"] = NO_NUL
    for prop in (schema.get("properties") or {}).values():
        forbid_nul(prop, components, seen)
    for key in SCHEMA_LISTS:
        for branch in schema.get(key) or ():
            forbid_nul(branch, components, seen)
    for key in SCHEMA_VALUES:
        forbid_nul(schema.get(key), components, seen)


def document_request_limits(document: dict[str, Any]) -> None:
    """Declare in an OpenAPI document what `RequestLimits` answers before any route: no
    string of a request may hold NUL (in the URL a 400 on every operation, in a JSON body a
    422), a body that is not JSON is a 400 and one over the size limit a 413."""
    components = document.get("components", {}).get("schemas", {})
    seen: set[str] = set()
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for parameter in operation.get("parameters", ()):
                if parameter.get("in") in ("path", "query"):
                    forbid_nul(parameter.get("schema"), components, seen)
            responses = operation["responses"]
            body = operation.get("requestBody")
            if body is None:
                responses.setdefault("400", {"description": f"{NUL_IN_URL}."})
                continue
            for media in body.get("content", {}).values():
                forbid_nul(media.get("schema"), components, seen)
            responses.setdefault("400", {"description": f"{NUL_IN_URL}, or the body is not JSON."})
            responses.setdefault("413", {"description": "The body is over the size limit."})
            responses.setdefault("422", {"description": "Invalid input (NUL in a string too)."})

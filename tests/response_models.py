"""Every JSON response the test suite receives is checked against the model its route declares.

The bodies are built by hand (dicts and orjson) for speed; the routes' `response_model`s
only document them (and make the OpenAPI document). This plugin of the root conftest keeps
the two from drifting apart:

- `ResponseModelCheck` wraps an ASGI app: it passes every message through untouched,
  captures the status, headers and body, and once the body is complete validates it:
  a JSON 2xx against the matched route's declared model (`responses={status: {"model"}}`
  first, else `response_model`), an `application/problem+json` document against `Problem`.
  An error in JSON that is no problem document is checked against the model its route
  declares for that status (Ghost's error shape); without one it is a mismatch.
  Validation is strict (no coercion: a string is no number, null is no string, a missing
  required field fails) and keys the model does not declare fail too (pydantic would only
  ignore them).
- The plugin installs it around `Masthead.__call__` for the whole session, so it sees every
  request to every app a test builds, through any client, including the cache fast path.
- A mismatch is recorded, not raised (the app would turn an exception into a 500, and the
  test client swallows it); the phase of the test that received it (setup, call or
  teardown) then fails with method, path, status, model and the pydantic error.

Cache hits are answered before routing, so they carry no `scope["route"]`; the cache leaves
the route's path in `scope["masthead.route"]` instead. They are matched by that path to the
route this app served it with on the miss that filled the entry, and validated like any
other response (the bytes replayed may be a gzip variant; both are checked).

A sparse fieldset (`fields=`) is a documented projection of the model: it may leave out an
item's fields it did not ask for (`id` is always there), so missing fields of `data` items
that were not asked for are not drift; every other error still is (the check for keys the
model does not declare needs a valid value, so it is not made for such a projection).

Skipped and counted: bodiless responses (HEAD, 204, 304, redirects), bodies that are no
JSON (feeds in XML, CSV, HTML, metrics), JSON from no API route (`/openapi.json`) and from
routes that declare no model (the JSON Feed, the bundle export and import). The counts are
in the terminal summary (added up over xdist workers).
"""

import gzip
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from functools import partial
from typing import Any
from urllib.parse import parse_qs
from weakref import WeakKeyDictionary

import orjson
import pytest
from fastapi.routing import APIRoute
from pydantic import TypeAdapter, ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.core.errors import PROBLEM_MEDIA_TYPE, Problem
from api.main import Masthead

Call = Callable[[Scope, Receive, Send], Awaitable[None]]


def media_type(headers: dict[str, str]) -> str:
    return headers.get("content-type", "").split(";")[0].strip().lower()


def is_json(media: str) -> bool:
    return media == "application/json" or media.endswith("+json")


def declared_model(route: APIRoute, status: int) -> Any:
    """The model a route declares for a 2xx status: its `responses` entry, else its
    `response_model` (None when it declares none)."""
    for key in (status, str(status)):
        extra = route.responses.get(key)
        if isinstance(extra, dict) and extra.get("model") is not None:
            return extra["model"]
    return route.response_model


def undeclared_keys(body: Any, dumped: Any, where: str = "") -> Iterator[str]:
    """Keys of the body that the model does not have (`dumped` is the validated value
    dumped back to JSON by the model, so it has exactly the keys the model declares)."""
    if isinstance(body, dict) and isinstance(dumped, dict):
        for key, value in body.items():
            if key not in dumped:
                yield f"{where}.{key}" if where else key
            else:
                yield from undeclared_keys(value, dumped[key], f"{where}.{key}" if where else key)
    elif isinstance(body, list) and isinstance(dumped, list):
        for index, (item, back) in enumerate(zip(body, dumped, strict=False)):
            yield from undeclared_keys(item, back, f"{where}[{index}]")


def sparse_fieldset(scope: Scope) -> frozenset[str] | None:
    """The fields a `fields=` request asked for (plus `id`, always returned), or None."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    if "fields" not in query:
        return None
    return frozenset(n.strip() for v in query["fields"] for n in v.split(",")) | {"id"}


def left_out(error: Any, wanted: frozenset[str]) -> bool:
    """A missing field of an item (`data.<field>`, `data.<n>.<field>`) that a sparse
    fieldset did not ask for: the documented projection, not drift."""
    loc = error["loc"]
    item_field = (len(loc) == 2 or (len(loc) == 3 and isinstance(loc[1], int))) and loc[0] == "data"
    return error["type"] == "missing" and item_field and loc[-1] not in wanted


def model_name(model: Any) -> str:
    return getattr(model, "__name__", None) or repr(model)


class ResponseModelCheck:
    """Validates responses; keeps the mismatches found and counts of what it did."""

    def __init__(self) -> None:
        self.adapters: dict[Any, TypeAdapter[Any]] = {}
        self.mismatches: list[str] = []
        self.counts: Counter[str] = Counter()
        # app -> route path -> the route that served it (to match cache hits by path).
        self.served: WeakKeyDictionary[Any, dict[str, APIRoute]] = WeakKeyDictionary()

    def wrap(self, app: Any) -> ASGIApp:
        """`app` as an ASGI app whose responses are checked (the plugin wraps `Masthead`
        instead; this is for apps built by a test)."""

        async def checked(scope: Scope, receive: Receive, send: Send) -> None:
            await self.run(app, app, scope, receive, send)

        return checked

    def take(self) -> list[str]:
        found, self.mismatches = self.mismatches, []
        return found

    def adapter(self, model: Any) -> TypeAdapter[Any]:
        # Keyed by the model: routes are rebuilt with every app, their models are not.
        adapter = self.adapters.get(model)
        if adapter is None:
            adapter = self.adapters[model] = TypeAdapter(model)
        return adapter

    async def run(self, app: Any, call: Call, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await call(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def capturing_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    self.check(app, scope, start, b"".join(chunks))
            await send(message)

        await call(scope, receive, capturing_send)

    def check(self, app: Any, scope: Scope, start: Message, body: bytes) -> None:
        status: int = start["status"]
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in start.get("headers", [])
        }
        media = media_type(headers)
        if not body:
            self.counts["skipped: no body (HEAD, 204, 304, redirects)"] += 1
            return
        if not is_json(media):
            self.counts[f"skipped: not JSON ({media or 'no content type'})"] += 1
            return
        if headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        route = scope.get("route")
        how = "routed"
        if isinstance(route, APIRoute):
            self.served.setdefault(app, {})[route.path] = route
        elif scope.get("masthead.route") is not None:
            how = "cache hit"
            route = self.served.get(app, {}).get(scope["masthead.route"])
        if media == PROBLEM_MEDIA_TYPE:
            model: Any = Problem
        elif status >= 400:
            # Only a route that declares another error shape for this status (Ghost's
            # Content API) may answer an error that is no problem document.
            model = declared_model(route, status) if isinstance(route, APIRoute) else None
            if model is None or model is Problem or model is route.response_model:
                self.record(scope, status, "an error answered as JSON, not as a problem document")
                return
        elif not isinstance(route, APIRoute):
            self.counts[f"skipped: JSON from no API route ({scope['path']})"] += 1
            return
        else:
            model = declared_model(route, status)
            if model is None:
                self.counts[f"skipped: no declared model ({scope['method']} {route.path})"] += 1
                return
        self.validate(scope, status, model, body, how)

    def validate(self, scope: Scope, status: int, model: Any, body: bytes, how: str) -> None:
        adapter = self.adapter(model)
        try:
            value = adapter.validate_json(body, strict=True)
        except ValidationError as error:
            wanted = sparse_fieldset(scope) if model is not Problem else None
            if wanted is not None and all(left_out(e, wanted) for e in error.errors()):
                self.counts[f"validated: declared response models, sparse fieldset ({how})"] += 1
                return
            self.record(scope, status, f"does not match {model_name(model)}:\n{error}")
            return
        dumped = adapter.dump_python(value, mode="json", by_alias=True, warnings=False)
        extra = list(undeclared_keys(orjson.loads(body), dumped))
        if extra:
            self.record(
                scope,
                status,
                f"does not match {model_name(model)}: keys it does not declare: "
                + ", ".join(extra[:10]),
            )
            return
        kind = "problem documents" if model is Problem else "declared response models"
        self.counts[f"validated: {kind} ({how})"] += 1

    def record(self, scope: Scope, status: int, what: str) -> None:
        query = scope.get("query_string", b"").decode("latin-1")
        target = scope["path"] + (f"?{query}" if query else "")
        self.mismatches.append(f"{scope['method']} {target} -> {status}: response {what}")
        self.counts["mismatches"] += 1


CHECK = ResponseModelCheck()
ORIGINAL_CALL = pytest.StashKey[Any]()
COUNTS_KEY = "masthead_response_models"


def pytest_configure(config: pytest.Config) -> None:
    original = Masthead.__call__

    async def checked_call(self: Masthead, scope: Scope, receive: Receive, send: Send) -> None:
        await CHECK.run(self, partial(original, self), scope, receive, send)

    config.stash[ORIGINAL_CALL] = original
    setattr(Masthead, "__call__", checked_call)  # noqa: B010 (mypy: no method assignment)


def pytest_unconfigure(config: pytest.Config) -> None:
    original = config.stash.get(ORIGINAL_CALL, None)
    if original is not None:
        setattr(Masthead, "__call__", original)  # noqa: B010


def fail_on_mismatches() -> Iterator[None]:
    """The body of a phase wrapper: the phase fails if a response in it did not match (a
    phase that failed anyway gets the mismatches as a note)."""
    CHECK.take()  # nothing can be pending between phases; this makes sure
    try:
        yield
    except BaseException as error:
        found = CHECK.take()
        if found:
            error.add_note("Responses that do not match their models:\n" + "\n".join(found))
        raise
    found = CHECK.take()
    if found:
        pytest.fail(
            "Responses that do not match their declared models:\n\n" + "\n\n".join(found),
            pytrace=False,
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    return (yield from fail_on_mismatches())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    return (yield from fail_on_mismatches())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    return (yield from fail_on_mismatches())


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand the counts to the controller
        workeroutput[COUNTS_KEY] = dict(CHECK.counts)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    CHECK.counts.update(getattr(node, "workeroutput", {}).get(COUNTS_KEY, {}))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    counts = CHECK.counts
    if not counts:
        return
    validated = sum(n for what, n in counts.items() if what.startswith("validated"))
    terminalreporter.write_sep("-", "responses checked against their declared models")
    terminalreporter.write_line(f"{validated} responses validated")
    for what, n in sorted(counts.items()):
        terminalreporter.write_line(f"  {n:7d}  {what}")

"""The benchmark's baseline: a bare ASGI app answering every request with a fixed ~5 KB JSON body.

It shows what uvicorn alone can do on this machine with the same worker count, so Masthead's
numbers can be read as a fraction of that ceiling. Served by bench/run.py as
`uvicorn baseline:app --app-dir bench`.

`GET /spin?ms=N` first burns N ms of CPU: a stand-in for an app whose every request costs
that much, to tell queueing in the server and load generator from the app's own tail
latency (see BENCHMARKS.md).
"""

import json
import time

_ITEMS = [
    {
        "slug": f"article-{i}",
        "title": "Lorem ipsum dolor sit amet, consectetur adipiscing elit",
        "excerpt": "Sed do eiusmod tempor incididunt ut labore et dolore magna aliqua ut enim.",
        "published_at": "2024-01-01T00:00:00Z",
        "tags": [{"slug": "tag-1", "name": "Example"}],
    }
    for i in range(19)
]
BODY = json.dumps({"data": _ITEMS, "meta": {"limit": 19, "next_cursor": None}}).encode()
HEADERS = [
    (b"content-type", b"application/json"),
    (b"content-length", str(len(BODY)).encode()),
    (b"etag", b'"baseline"'),
    (b"cache-control", b"public, max-age=60"),
]


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    if scope["path"] == "/spin":
        query = dict(part.split("=", 1) for part in scope["query_string"].decode().split("&"))
        end = time.process_time() + float(query.get("ms", "1")) / 1000
        while time.process_time() < end:
            pass
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})

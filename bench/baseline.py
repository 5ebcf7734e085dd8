"""The benchmark's baseline: a bare ASGI app answering every request with a fixed ~5 KB JSON body.

It shows what uvicorn alone can do on this machine with the same worker count, so Masthead's
numbers can be read as a fraction of that ceiling. Served by bench/run.py as
`uvicorn baseline:app --app-dir bench`.
"""

import json

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
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})

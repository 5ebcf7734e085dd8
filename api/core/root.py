"""GET /: what this API offers, with links (feeds included) for discovery."""

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from api.core.http import base_url, json_response

router = APIRouter(tags=["operations"])


class ApiIndex(BaseModel):
    name: str = Field(description="The API's name.")
    version: str = Field(description="The API's version.")
    links: dict[str, Any] = Field(
        description="Entry points: resources, search, feeds, documentation."
    )


@router.get("/", response_model=ApiIndex, summary="API index")
def api_index(request: Request) -> Any:
    """Entry points of the API, including the RSS, Atom and JSON feeds."""
    base = base_url(request)
    links: dict[str, Any] = {
        name: f"{base}/v1/{name}" for name in ("articles", "tags", "sources", "actions", "authors")
    }
    links |= {
        "search": f"{base}/v1/search?q={{query}}",
        "feeds": {
            "rss": f"{base}/feeds/rss.xml",
            "atom": f"{base}/feeds/atom.xml",
            "json": f"{base}/feeds/feed.json",
        },
        "docs": f"{base}/docs",
        "redoc": f"{base}/redoc",
        "openapi": f"{base}/openapi.json",
    }
    return json_response(
        request, {"name": "Masthead", "version": request.app.version, "links": links}
    )

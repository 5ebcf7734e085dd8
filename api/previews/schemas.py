from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.articles.schemas import ArticlePublic
from api.previews.service import DEFAULT_LIFETIME, MAX_LIFETIME


class PreviewRequest(BaseModel):
    """How long the link should work."""

    model_config = ConfigDict(extra="forbid")

    expires_in: int = Field(
        int(DEFAULT_LIFETIME.total_seconds()),
        ge=60,
        le=int(MAX_LIFETIME.total_seconds()),
        description="The link's lifetime in seconds: 60 to 2592000 (30 days); default 86400 "
        "(24 hours).",
    )


class PreviewLinkPublic(BaseModel):
    """A preview link: whoever holds it sees the item's current state until it expires or
    its previews are revoked."""

    kind: str = Field(description="What is previewed: `article` (or `page`).")
    item_id: str = Field(description="The previewed item's id.")
    url: str = Field(
        description="The API URL (`/v1/preview/{token}`) answering the item's current state."
    )
    frontend_url: str | None = Field(
        description="The frontend's preview page carrying the token, when the site settings "
        "have a `preview_url_template`; else null."
    )
    token: str = Field(description="The signed token in `url`, for frontends that build URLs.")
    expires_at: datetime = Field(description="When the link stops working (RFC 3339, UTC).")


class PreviewMeta(BaseModel):
    """What the preview is of, beside the item itself."""

    kind: str = Field(description="What is previewed: `article` (or `page`).")
    status: Literal["draft", "scheduled", "published"] = Field(
        description="The item's state now: a preview shows drafts and scheduled items too."
    )
    expires_at: datetime = Field(description="When the link stops working (RFC 3339, UTC).")


class PreviewEnvelope(BaseModel):
    """The previewed item in its public shape, as it is now, and what the preview is."""

    data: ArticlePublic = Field(description="The item, as the public API would show it.")
    meta: PreviewMeta = Field(description="The item's state and the link's expiry.")

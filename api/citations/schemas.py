"""What editors see of cited links and of the citations that need a fix."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.core.urls import HttpUrlStr
from api.editorial.schemas import VERSION
from api.sources.schemas import SourceRef

StatusName = Literal["ok", "broken", "unchecked"]


class CitedLinkAdmin(BaseModel):
    """One cited URL (however many articles cite it): what the link checker last found,
    and the archived copy shown with every citation of it."""

    id: str = Field(description="Stable opaque identifier (derived from `url`).")
    url: str = Field(
        description="The cited URL as checked: scheme and host lower-cased, no fragment."
    )
    status: StatusName = Field(
        description="`ok` (answered 2xx), `broken` (404/410, or failing check after check) "
        "or `unchecked` (no answer yet). Public citations show it."
    )
    last_status_code: int | None = Field(
        description="The HTTP status of the last check's final answer, or null (no answer)."
    )
    last_error: str | None = Field(
        description="Why the last check failed (an error status, `timed out`, `refused: …`, "
        "too many redirects, …), or null when it succeeded."
    )
    last_checked_at: datetime | None = Field(
        description="When it was last checked (RFC 3339, UTC), or null."
    )
    first_failed_at: datetime | None = Field(
        description="When the failures going on now began, or null while it answers."
    )
    consecutive_failures: int = Field(description="Failed checks in a row, 0 after a success.")
    next_check_at: datetime = Field(description="When it is due to be checked again.")
    archived_url: str | None = Field(
        description="The archived copy an editor attached (absolute http(s)), or null."
    )
    version: int = Field(description=VERSION)


class CitingArticle(BaseModel):
    """The article (or page) a citation is in."""

    id: str = Field(description="The article's id.")
    kind: Literal["article", "page"] = Field(description="`article` or `page`.")
    slug: str = Field(description="The article's slug.")
    title: str = Field(description="Headline.")
    published_at: datetime | None = Field(description="Publication time, or null (a draft).")


class CitationAdmin(BaseModel):
    """One citation of a checked URL, with the article it is in."""

    id: str = Field(
        description="The citation's id (a new one each time the article is saved: follow "
        "`link.id` to act on the URL)."
    )
    article: CitingArticle = Field(description="Where the citation is.")
    source: SourceRef = Field(description="The cited source.")
    cited_url: str = Field(description="The URL as the article cites it.")
    context: str | None = Field(description="What the article took from it.")
    position: int = Field(description="Order of the citation within the article, from 0.")
    link: CitedLinkAdmin = Field(description="The cited URL's checks and archived copy.")


class CitedLinkUpdate(BaseModel):
    """What an editor may change on a cited link."""

    model_config = ConfigDict(extra="forbid")

    archived_url: HttpUrlStr | None = Field(
        None,
        description="An archived copy of the page (absolute http(s) URL, e.g. "
        "`https://web.archive.org/web/2017/https://…`), or null to remove it. Left out: "
        "unchanged.",
    )


def cited_link_admin(link: Any, version: int) -> dict[str, Any]:
    """A link row (ORM or Core, columns named as on `cited_links`) as editors see it."""
    return {
        "id": link.id,
        "url": link.url,
        "status": link.status,
        "last_status_code": link.last_status_code,
        "last_error": link.last_error,
        "last_checked_at": link.last_checked_at,
        "first_failed_at": link.first_failed_at,
        "consecutive_failures": link.consecutive_failures,
        "next_check_at": link.next_check_at,
        "archived_url": link.archived_url,
        "version": version,
    }

"""What the corrections API accepts and shows, and a correction's place in the bundle."""

import html
from datetime import datetime
from typing import Annotated, Any, Literal, Protocol

import nh3
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from api.core.timestamps import RANGE as TIME_RANGE
from api.core.timestamps import Timestamp

MAX_TEXT = 5000
MAX_PER_ARTICLE = 100
# A note is a sentence or two: inline markup and links, no blocks, no images.
TEXT_TAGS = {"a", "b", "cite", "code", "em", "i", "q", "strong"}
TEXT_ATTRIBUTES = {"a": {"href", "title"}, "q": {"cite"}}
TEXT_SCHEMES = {"http", "https", "mailto"}
KIND = Literal["correction", "clarification", "retraction"]
KIND_DESCRIPTION = (
    "`correction` (something was wrong and has been put right), `clarification` (something "
    "was unclear), or `retraction` (the article is withdrawn: it stays readable, marked "
    "`retracted`)."
)
TEXT_DESCRIPTION = (
    f"The note readers see, up to {MAX_TEXT} characters: plain text or inline HTML (`a`, "
    "`em`, `strong`, `i`, `b`, `q`, `cite`, `code`), sanitised before it is stored."
)
AT_DESCRIPTION = (
    f"When the note was made public (RFC 3339 with an offset, {TIME_RANGE} in UTC): not in "
    "the future, nor before the article's publication; now when absent."
)


def sanitise_text(raw: str) -> str:
    """Inline HTML only, links kept safe; blank once sanitised is refused."""
    text = nh3.clean(
        raw,
        tags=TEXT_TAGS,
        attributes=TEXT_ATTRIBUTES,
        url_schemes=TEXT_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    ).strip()
    if not plain_text(text):
        raise ValueError("must say something once HTML is sanitised")
    return text


def plain_text(text: str) -> str:
    """The note without its markup (feed summaries, titles)."""
    return " ".join(html.unescape(nh3.clean(text, tags=set())).split())


NoteText = Annotated[str, Field(min_length=1, max_length=MAX_TEXT), AfterValidator(sanitise_text)]


class CorrectionCreate(BaseModel):
    """A new correction, clarification or retraction of an article."""

    model_config = ConfigDict(extra="forbid")

    kind: KIND = Field(description=KIND_DESCRIPTION)
    text: NoteText = Field(description=TEXT_DESCRIPTION)
    at: Timestamp | None = Field(None, description=AT_DESCRIPTION)


class CorrectionUpdate(BaseModel):
    """An amendment: any of the fields; the change is dated (`amended_at`) and audited."""

    model_config = ConfigDict(extra="forbid")

    kind: KIND | None = Field(None, description=KIND_DESCRIPTION)
    text: NoteText | None = Field(None, description=TEXT_DESCRIPTION)
    at: Timestamp | None = Field(None, description=AT_DESCRIPTION)


class CorrectionPublic(BaseModel):
    """A note on the article: what was corrected, clarified or retracted, and when."""

    id: str = Field(description="Stable opaque identifier.")
    kind: KIND = Field(description=KIND_DESCRIPTION)
    text: str = Field(description="The note, as sanitised HTML (inline elements only).")
    at: datetime = Field(description="When the note was made public (RFC 3339, UTC).")
    amended_at: datetime | None = Field(
        description="When the note's wording was last amended; null if never."
    )


class CorrectionAdmin(CorrectionPublic):
    """A note as editors see it, with who made it."""

    article_id: str = Field(description="The corrected article's id.")
    created_at: datetime = Field(description="When the note was entered.")
    token_name: str = Field(description="Name of the token that entered it.")


class CorrectionItem(BaseModel):
    """A correction in the content bundle."""

    model_config = ConfigDict(extra="forbid")

    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")] | None = Field(
        None, description="The note's id; kept on import when given."
    )
    kind: KIND = Field(description=KIND_DESCRIPTION)
    text: NoteText = Field(description=TEXT_DESCRIPTION)
    at: Timestamp = Field(description="When the note was made public; not in the future.")
    amended_at: Timestamp | None = Field(None, description="When it was last amended.")


class Note(Protocol):
    """A correction as rows and ORM objects both answer it."""

    id: str
    kind: str
    text: str
    published_at: datetime
    amended_at: datetime | None


def correction_public(note: Note) -> dict[str, Any]:
    return {
        "id": note.id,
        "kind": note.kind,
        "text": note.text,
        "at": note.published_at,
        "amended_at": note.amended_at,
    }


def is_retracted(notes: Any) -> bool:
    return any(note.kind == "retraction" for note in notes)

"""Write models of the admin API, built on the bundle's item models (one set of rules).

Create models refuse unknown fields and server-owned ones (`id`, `status`, timestamps);
Update models take any subset of the writable fields, and the merged result is validated
again with the Create model, so cross-field rules (one body, an action's window) still hold.
"""

from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    create_model,
)
from pydantic.json_schema import SkipJsonSchema

from api.actions.schemas import ActionPublic
from api.articles.schemas import ArticlePublic
from api.authors.schemas import AuthorPublic
from api.bundle.schemas import (
    ActionItem,
    ArticleItem,
    AuthorItem,
    CitationItem,
    FeatureImageItem,
    SourceItem,
    TagItem,
)
from api.core.errors import Unprocessable, validation_errors
from api.sources.schemas import SourceRef
from api.tags.schemas import TagRef


def _server_owned(_value: object) -> None:
    raise ValueError("this field is set by the server and cannot be written")


M = TypeVar("M", bound=BaseModel)
ServerOwned = Annotated[SkipJsonSchema[None], BeforeValidator(_server_owned)]
TagName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


def describe(model: type[BaseModel], descriptions: dict[str, str]) -> None:
    """Document an item model's fields (the bundle models carry no OpenAPI descriptions)."""
    for name, text in descriptions.items():
        model.model_fields[name].description = text
    model.model_rebuild(force=True)


class ServerStamped(BaseModel):
    """Refuses the identity and timestamps a bundle item may carry: the server sets them."""

    id: ServerOwned = None
    created_at: ServerOwned = None
    updated_at: ServerOwned = None


SLUG = "URL-safe unique name (`[a-z0-9-]`); made from the name when absent. 409 when taken."


class AuthorCreate(ServerStamped, AuthorItem):
    """A new author."""


class TagCreate(ServerStamped, TagItem):
    """A new tag."""


class SourceCreate(ServerStamped, SourceItem):
    """A new source (outlet, organisation, person...)."""


class ActionCreate(ServerStamped, ActionItem):
    """A new call to action."""


class FeatureImageIn(FeatureImageItem):
    """The lead image."""


class CitationIn(CitationItem):
    """One citation: which source (by slug), the exact page, what was taken from it."""


class ArticleCreate(ServerStamped, ArticleItem):
    """A new article; it starts as a draft (publish it with `/publish`)."""

    status: ServerOwned = None  # type: ignore[assignment]
    published_at: ServerOwned = None
    deleted_at: ServerOwned = None
    feature_image: FeatureImageIn | None = None
    tags: list[TagName] = Field(default_factory=list, max_length=50)
    sources: list[CitationIn] = Field(default_factory=list, max_length=500)


describe(AuthorCreate, {
    "slug": SLUG, "name": "Display name.", "bio": "Short biography (plain text).",
    "url": "The author's own page (absolute http(s) URL).",
})  # fmt: skip
describe(TagCreate, {
    "slug": SLUG, "name": "Display name.",
    "hashtag": "Hashtag form, e.g. `#ChechenAntiGayPurge`; made from the name when absent.",
    "description": "What the tag is about (plain text).",
})  # fmt: skip
describe(SourceCreate, {
    "slug": SLUG, "name": "Display name.", "kind": "What sort of source this is.",
    "url": "Home page (absolute http(s) URL).", "country": "ISO 3166-1 alpha-2 code.",
    "description": "Who the source is (plain text).",
})  # fmt: skip
describe(ActionCreate, {
    "slug": SLUG, "kind": "What the reader is asked to do.", "title": "The call to action.",
    "description": "Longer explanation (plain text).",
    "url": "Where the action happens (absolute http(s) URL).",
    "organisation": "Who runs it.", "starts_at": "Start of the window (RFC 3339).",
    "ends_at": "End of the window (RFC 3339); null = open-ended.",
})  # fmt: skip
describe(FeatureImageIn, {
    "url": "Image URL (absolute http(s)).", "alt": "Alternative text.",
    "caption": "Caption or credit.",
})  # fmt: skip
describe(CitationIn, {
    "source": "The cited source's slug (it must exist; 422 otherwise).",
    "cited_url": "The exact page cited (absolute http(s) URL), or null.",
    "context": "One line: what the article took from it.",
})  # fmt: skip
describe(ArticleCreate, {
    "slug": "URL-safe unique name; made from the title when absent. 409 when taken.",
    "title": "Headline.", "subtitle": "Standfirst under the headline.",
    "excerpt": "Short summary; derived from the body when absent.",
    "body_html": "The body as HTML; sanitised against an allow-list before it is stored.",
    "body_markdown": "The body as Markdown (CommonMark); rendered and sanitised. Give this "
    "or `body_html`, not both.",
    "lang": "BCP 47 language tag.", "canonical_url": "The canonical web page (http(s)).",
    "feature_image": "Lead image, or null.", "authors": "Author slugs, in byline order.",
    "tags": "Tag names or slugs, primary first; unknown tags are created.",
    "sources": "Citations, in order.", "actions": "Action slugs, in order.",
})  # fmt: skip

WRITE_ONLY = {"id", "created_at", "updated_at", "status", "published_at", "deleted_at"}


def writable_fields(create: type[BaseModel]) -> list[str]:
    return [name for name in create.model_fields if name not in WRITE_ONLY]


def update_model(create: type[BaseModel], what: str) -> type[BaseModel]:
    """Every writable field of `create`, optional: a PATCH body."""
    fields: dict[str, Any] = {}
    for name in writable_fields(create):
        info = create.model_fields[name]
        annotation = (
            Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
        )
        fields[name] = (annotation | None, Field(None, description=info.description))
    model = create_model(  # type: ignore[call-overload]
        create.__name__.replace("Create", "Update"),
        __config__=ConfigDict(extra="forbid"),
        __doc__=f"Changes to {what}: any subset of the writable fields.",
        **fields,
    )
    return model  # type: ignore[no-any-return]


AuthorUpdate = update_model(AuthorCreate, "an author")
TagUpdate = update_model(TagCreate, "a tag")
SourceUpdate = update_model(SourceCreate, "a source")
ActionUpdate = update_model(ActionCreate, "an action")
ArticleUpdate = update_model(ArticleCreate, "an article")


def merged(create: type[M], current: dict[str, Any], patch: BaseModel) -> M:
    """Validate `current` with the PATCH applied, as a whole (422 naming the bad fields)."""
    changes = patch.model_dump(exclude_unset=True)
    base = dict(current)
    if "body_html" in changes or "body_markdown" in changes:
        base.pop("body_html", None)
        base.pop("body_markdown", None)
    try:
        return create.model_validate({**base, **changes})
    except ValidationError as exc:
        errors = validation_errors(list(exc.errors()))
        for error in errors:
            error["loc"] = ["body", *error["loc"]]
        where = ", ".join(".".join(str(p) for p in e["loc"]) for e in errors[:3])
        raise Unprocessable(f"Invalid input: {where}.", errors=errors) from None


VERSION = "Edit counter; part of the ETag that `If-Match` must carry."


class Stamped(BaseModel):
    created_at: datetime = Field(description="When it was created (RFC 3339, UTC).")
    updated_at: datetime = Field(description="Last change (RFC 3339, UTC).")
    version: int = Field(description=VERSION)


class AuthorAdmin(AuthorPublic, Stamped):
    """An author, as editors see it."""


class TagAdmin(TagRef, Stamped):
    """A tag, as editors see it."""

    description: str | None = Field(None, description="What the tag is about (plain text).")


class SourceAdmin(SourceRef, Stamped):
    """A source, as editors see it."""

    country: str | None = Field(None, description="ISO 3166-1 alpha-2 country code, or null.")
    description: str | None = Field(None, description="Who the source is (plain text).")


class ActionAdmin(ActionPublic, Stamped):
    """An action, as editors see it."""


class ArticleAdmin(ArticlePublic):
    """An article as editors see it: any status, with its Markdown source and version."""

    status: Literal["draft", "scheduled", "published"] | None = Field(
        None, description="`scheduled` = published with a future `published_at`."
    )
    body_markdown: str | None = Field(None, description="The Markdown source, if written so.")
    created_at: datetime | None = Field(None, description="When it was created.")
    deleted_at: datetime | None = Field(
        None, description="When it was (soft) deleted; null while it exists."
    )
    version: int | None = Field(None, description=VERSION)


class PublishRequest(BaseModel):
    """When to publish: now when absent; a future time schedules the article."""

    model_config = ConfigDict(extra="forbid")

    published_at: datetime | None = Field(
        None, description="Publication time (RFC 3339); in the future = scheduled."
    )


class RevisionPublic(BaseModel):
    """One saved state of an article."""

    number: int = Field(description="Revision number, from 1.")
    token_name: str = Field(description="Name of the token that saved it.")
    created_at: datetime = Field(description="When it was saved.")
    snapshot: dict[str, Any] = Field(description="The article's fields as saved.")


class AuditEntryPublic(BaseModel):
    """Who did what to which entity, and when."""

    id: str = Field(description="Opaque identifier, time-ordered.")
    token_name: str = Field(description="The token's name (never the token).")
    action: str = Field(description="What was done, e.g. `article.publish`.")
    entity_type: str = Field(description="`article`, `tag`, `source`, `action`, `author`, ...")
    entity_id: str = Field(description="The entity's id.")
    created_at: datetime = Field(description="When (RFC 3339, UTC).")

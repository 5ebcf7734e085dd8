"""What every resource's admin write models share: server-owned fields, PATCH models, merging.

Each domain's `schemas.py` builds its write models on the bundle's item models (one set of
rules). Create models refuse unknown fields and server-owned ones (`id`, `status`, timestamps);
Update models take any subset of the writable fields, and the merged result is validated
again with the Create model, so cross-field rules (one body, an action's window) still hold.
"""

from datetime import datetime
from types import NoneType, UnionType
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
)
from pydantic.json_schema import SkipJsonSchema

from api.core.errors import Unprocessable, validation_errors


def _server_owned(_value: object) -> None:
    raise ValueError("this field is set by the server and cannot be written")


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


M = TypeVar("M", bound=BaseModel)
ServerOwned = Annotated[SkipJsonSchema[None], BeforeValidator(_server_owned)]


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


WRITE_ONLY = {"id", "created_at", "updated_at", "status", "published_at", "deleted_at"}


def writable_fields(create: type[BaseModel]) -> list[str]:
    return [name for name in create.model_fields if name not in WRITE_ONLY]


def _nullable(annotation: Any) -> bool:
    if annotation is None or annotation is NoneType:
        return True
    origin = get_origin(annotation)
    if origin is Union or origin is UnionType:
        return any(_nullable(arg) for arg in get_args(annotation))
    if origin is Annotated:
        return _nullable(get_args(annotation)[0])
    return False


def update_model(create: type[BaseModel], what: str) -> type[BaseModel]:
    """Every writable field of `create`, optional: a PATCH body. A field that cannot be null
    in `create` is not nullable here either (null is refused when the PATCH is merged), so
    the document does not offer `null` for it; leaving the field out leaves it unchanged."""
    fields: dict[str, Any] = {}
    for name in writable_fields(create):
        info = create.model_fields[name]
        # Annotations built at run time from the Create model's (Any: mypy cannot follow).
        annotation: Any = (
            Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
        )
        if _nullable(info.annotation):
            fields[name] = (annotation, Field(None, description=info.description))
            continue
        # Left out is unchanged, so the default is None; it is never validated, and null is
        # not offered (a bad value's error then points at the field, not at a union member).
        fields[name] = (
            annotation,
            Field(None, description=info.description, json_schema_extra=_no_default),
        )
    model = create_model(  # type: ignore[call-overload]
        create.__name__.replace("Create", "Update"),
        __config__=ConfigDict(extra="forbid"),
        __doc__=f"Changes to {what}: any subset of the writable fields.",
        **fields,
    )
    return model  # type: ignore[no-any-return]


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


class RevisionPublic(BaseModel):
    """One saved state of an article."""

    number: int = Field(description="Revision number, from 1.")
    token_name: str = Field(description="Name of the token that saved it.")
    created_at: datetime = Field(description="When it was saved.")
    snapshot: dict[str, Any] = Field(description="The article's fields as saved.")

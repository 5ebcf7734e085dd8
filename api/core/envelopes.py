"""The response envelopes every endpoint answers in: `{"data", "meta", "links"}` and `{"data"}`."""

from typing import Generic, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")


class ListMeta(BaseModel):
    limit: int = Field(description="The page size used.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )
    total: int | None = Field(
        None, description="Number of matching items; present only with `count=true`."
    )


class ListLinks(BaseModel):
    self: str = Field(description="This page's URL.")
    next: str | None = Field(description="The next page's URL, or null on the last page.")


class ListEnvelope(BaseModel, Generic[T]):
    """A page of a list: the items, paging metadata and links."""

    data: list[T] = Field(description="The items of this page, in the requested order.")
    meta: ListMeta = Field(description="Paging metadata.")
    links: ListLinks = Field(description="Links to this page and the next one.")


class ItemEnvelope(BaseModel, Generic[T]):
    """One item."""

    data: T = Field(description="The item.")

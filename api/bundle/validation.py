"""Checking a content bundle before anything is written: shapes, unique slugs, references."""

from typing import Any

from pydantic import ValidationError

from api.bundle.schemas import Bundle, BundleItem, describe_location
from api.core.errors import Unprocessable
from api.core.slugs import make_slug

KINDS = ("authors", "tags", "sources", "actions", "articles")


class BundleError(Unprocessable):
    """The bundle is refused whole; `detail` names the offending item, `errors` its place."""

    def __init__(
        self,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        loc: list[str | int] | None = None,
        msg: str = "",
    ) -> None:
        if loc is not None:  # the place in the bundle, as the import route's body
            errors = [{"loc": ["body", *loc], "msg": msg}]
        super().__init__(detail, errors=errors)


def parse_bundle(raw: Any) -> Bundle:
    """Validate a decoded bundle, or raise BundleError naming the first bad item."""
    try:
        bundle = Bundle.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        where = describe_location(raw, tuple(first["loc"]))
        raise BundleError(
            f"Bundle refused, nothing was imported: {where}: {first['msg']}.",
            errors=[
                {
                    "loc": ["body", *e["loc"]],
                    "msg": f"{describe_location(raw, tuple(e['loc']))}: {e['msg']}",
                }
                for e in errors[:20]
            ],
        ) from None
    check_references(bundle)
    return bundle


def bundle_slug(item: BundleItem, fallback: str) -> str:
    """The item's slug, or one made from its name (a short id when the name has no letters)."""
    return item.slug or make_slug(fallback)


def check_references(bundle: Bundle) -> None:
    """Slugs are unique per kind and every reference resolves; raise naming the item."""
    kinds: dict[str, set[str]] = {}
    for kind, items, name_of in (
        ("authors", bundle.authors, lambda i: i.name),
        ("tags", bundle.tags, lambda i: i.name),
        ("sources", bundle.sources, lambda i: i.name),
        ("actions", bundle.actions, lambda i: i.title),
        ("articles", bundle.articles, lambda i: i.title),
    ):
        seen: set[str] = set()
        ids: set[str] = set()
        for index, item in enumerate(items):
            item.slug = bundle_slug(item, name_of(item))
            if item.slug in seen:
                raise BundleError(
                    f"Bundle refused, nothing was imported: {kind}[{index}] "
                    f"(slug {item.slug!r}): the slug is used twice.",
                    loc=[kind, index, "slug"],
                    msg="slug used twice in the bundle",
                )
            if item.id and item.id in ids:
                raise BundleError(
                    f"Bundle refused, nothing was imported: {kind}[{index}] "
                    f"(slug {item.slug!r}): the id is used twice.",
                    loc=[kind, index, "id"],
                    msg="id used twice in the bundle",
                )
            seen.add(item.slug)
            if item.id:
                ids.add(item.id)
        kinds[kind] = seen
    for index, article in enumerate(bundle.articles):
        label = f"articles[{index}] (slug {article.slug!r})"
        for kind, slugs in (
            ("authors", article.authors),
            ("tags", article.tags),
            ("actions", article.actions),
            ("sources", [c.source for c in article.sources]),
        ):
            missing = [s for s in slugs if s not in kinds[kind]]
            if missing:
                raise BundleError(
                    f"Bundle refused, nothing was imported: {label}: {kind} refers to "
                    f"unknown slug {missing[0]!r}.",
                    loc=["articles", index, kind],
                    msg=f"unknown slug {missing[0]!r}: not in the bundle",
                )

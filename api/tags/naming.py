"""How a tag's hashtag is made from its name when none is given."""

import re

from pydantic import TypeAdapter, ValidationError

from api.bundle.schemas import Hashtag

HASHTAG = TypeAdapter(Hashtag)


def _valid(hashtag: str) -> bool:
    try:
        HASHTAG.validate_python(hashtag)
    except ValidationError:
        return False
    return True


def hashtag_for(name: str) -> str | None:
    """`Chechen anti-gay purge` -> `#ChechenAntiGayPurge`: each word capitalised, joined.

    Only characters the bundle's hashtag rule accepts are kept (Python's and the validator's
    idea of a word character differ at the edges), so a derived hashtag always survives an
    export and import; None when nothing is left (`💥` has no hashtag form)."""
    words = "".join(part[:1].upper() + part[1:] for part in re.findall(r"\w+", name))[:200]
    if words and _valid("#" + words):
        return "#" + words
    kept = "".join(char for char in words if _valid("#" + char))
    return "#" + kept if kept else None

"""Slugs made from names: lowercase ASCII `[a-z0-9-]`, never empty.

A name with no letters or digits that transliterate (`💥`, `???`) gets a short slug derived
from the name itself, so the same name always gives the same slug (imports stay idempotent)
and the admin API and the bundle importer agree on it.
"""

import hashlib

from slugify import slugify

MAX_SLUG_LENGTH = 200


def make_slug(name: str) -> str:
    """`Chechen anti-gay purge` -> `chechen-anti-gay-purge`; `💥` -> `n-1b7a0f3c2d`."""
    slug = slugify(name, max_length=MAX_SLUG_LENGTH, word_boundary=True)
    if slug:
        return str(slug)
    return "n-" + hashlib.blake2b(name.encode(), digest_size=5).hexdigest()

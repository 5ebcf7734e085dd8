"""A reader's language preference: `?lang=de,en` or `Accept-Language`, made one ordered chain
of BCP 47 tags (RFC 4647 lookup: `de-CH` is tried, then `de`).

A chain either stops at its last language (strict: `?lang=de,en` shows only those) or ends in
`*` (anything, each story then in its original language): `Accept-Language` always reads as
ending in `*`, since a browser's language must never empty a publication's lists.
"""

import functools
import re
from dataclasses import dataclass
from typing import Any

from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from api.core.errors import Unprocessable

# Longer chains are cut: what follows would hardly ever decide, and each length is one
# more statement shape to build.
MAX_CHAIN = 8
# Accept-Language headers longer than this are read up to here (browsers send < 100 bytes).
MAX_HEADER = 512
TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
TAG_PATTERN = r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*"
# What `?lang=` takes: tags or `*`, comma-separated.
LANG_LIST_PATTERN = rf"^(\*|{TAG_PATTERN})(,(\*|{TAG_PATTERN}))*$"


def canonical_tag(tag: str) -> str:
    """BCP 47's case conventions (RFC 5646 §2.1.1): `en-GB`, `zh-Hant-TW`, `sr-Latn`."""
    parts = tag.split("-")
    out = [parts[0].lower()]
    singleton = False  # after an extension or private-use singleton, everything is lower
    for part in parts[1:]:
        if singleton or len(part) == 1:
            singleton = True
            out.append(part.lower())
        elif len(part) == 2:
            out.append(part.upper())
        elif len(part) == 4 and part.isalpha():
            out.append(part.title())
        else:
            out.append(part.lower())
    return "-".join(out)


def _with_fallbacks(tags: list[str]) -> tuple[str, ...]:
    """Each tag followed by its truncations, as RFC 4647 lookup tries them (`de-CH-1996`,
    `de-CH`, `de`), duplicates dropped, at most MAX_CHAIN."""
    chain: dict[str, None] = {}
    for tag in tags:
        parts = tag.split("-")
        while parts:
            chain.setdefault("-".join(parts))
            parts.pop()
            if parts and len(parts[-1]) == 1:  # never end on a singleton (`x`, `u`)
                parts.pop()
    return tuple(chain)[:MAX_CHAIN]


@dataclass(frozen=True)
class LanguagePreference:
    """Languages in order of preference; `anything`: stories in none of them are still shown
    (in their original language)."""

    chain: tuple[str, ...] = ()
    anything: bool = True

    @property
    def shape(self) -> str:
        """What a statement depends on (the values are bound): `languages:2*`."""
        return f"languages:{len(self.chain)}{'*' if self.anything else ''}"

    def params(self) -> dict[str, Any]:
        return {f"language_{n}": tag for n, tag in enumerate(self.chain)}

    @property
    def first(self) -> str | None:
        return self.chain[0] if self.chain else None


NO_PREFERENCE = LanguagePreference()


def parse_lang_param(raw: str) -> LanguagePreference:
    """`?lang=de,en` (strict) or `?lang=de,*`; a 422 for what is not a tag list."""
    names = [name.strip() for name in raw.split(",") if name.strip()]
    bad = [name for name in names if name != "*" and not TAG.match(name)]
    if bad or not names:
        raise Unprocessable(
            "`lang` takes BCP 47 language tags (or `*`), comma-separated, e.g. `de,en`.",
            errors=[{"loc": ["query", "lang"], "msg": f"not a language tag: {n!r}"} for n in bad]
            or [{"loc": ["query", "lang"], "msg": "no language named"}],
        )
    tags = [canonical_tag(name) for name in names if name != "*"]
    return LanguagePreference(_with_fallbacks(tags), anything="*" in names)


@functools.lru_cache(maxsize=512)
def parse_accept_language(header: str) -> tuple[str, ...]:
    """The tags of an `Accept-Language` header by quality (RFC 9110 §12.5.4), with their
    lookup fallbacks; `q=0`, `*` and what is not a tag are dropped, a malformed header
    reads as none. Kept per distinct header: the response cache keys on it."""
    accepted = parse_accept_header(header[:MAX_HEADER], LanguageAccept)
    tags = [canonical_tag(value) for value, quality in accepted if quality > 0 and TAG.match(value)]
    return _with_fallbacks(tags)


def language_preference(lang: str | None, accept_language: str | None) -> LanguagePreference:
    """`?lang` when given (the header is then ignored), else `Accept-Language`, else none:
    each story in its original language."""
    if lang is not None:
        return parse_lang_param(lang)
    if accept_language:
        return LanguagePreference(parse_accept_language(accept_language))
    return NO_PREFERENCE


def preference_headers(
    preference: LanguagePreference, lang_given: bool, content_language: str | None = None
) -> dict[str, str]:
    """`Vary: Accept-Language` whenever the header decided (also by its absence: a shared
    cache must not hand a no-preference answer to a reader who has one), and
    `Content-Language` for one item."""
    headers: dict[str, str] = {}
    if not lang_given:
        headers["Vary"] = "Accept-Encoding, X-Masthead-Key, Accept-Language"
    if content_language:
        headers["Content-Language"] = content_language
    return headers


def cache_key_part(accept_language: bytes | None) -> tuple[str, ...]:
    """What of a request's `Accept-Language` can change an answer: the response cache keys
    on this, so `de-DE,de;q=0.9` and `de-DE, de;q=0.9` share one entry."""
    if not accept_language:
        return ()
    return parse_accept_language(accept_language.decode("latin-1"))

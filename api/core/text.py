"""One-line text fields (names, titles): what the document promises is what is checked.

Pydantic's `strip_whitespace` strips before it checks the lengths and the pattern, so a
301-character title with a trailing space passed a `maxLength` of 300 and a title of spaces
failed a `minLength` of 1. Here the lengths apply to the value as sent, the document's
pattern asks for one character that is not blank (nor NUL, which `api.core.limits` refuses
first), and the blanks around the text are trimmed after the checks.
"""

import re
from dataclasses import dataclass
from typing import Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic_core import core_schema

# The blanks, spelled out (`\s` means different sets in Python, Rust and ECMA-262 regexes).
BLANK_CLASS = (
    r"\u0009-\u000d\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
BLANKS = "".join(c for c in map(chr, range(0x10000)) if re.fullmatch(f"[{BLANK_CLASS}]", c))
# One character neither blank nor NUL, among characters that are not NUL.
NOT_BLANK = rf"^[^\x00]*[^\x00{BLANK_CLASS}][^\x00]*$"
NO_BLANKS = rf"^[^\x00{BLANK_CLASS}]+$"


@dataclass(frozen=True)
class Line:
    """`Annotated[str, Line(n)]`: a one-line text of 1..n characters as sent, not all blank,
    stored trimmed."""

    max_length: int

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> Any:
        text = core_schema.str_schema(min_length=1, max_length=self.max_length)
        return core_schema.no_info_after_validator_function(_trimmed, text)

    def __get_pydantic_json_schema__(self, schema: Any, handler: GetJsonSchemaHandler) -> Any:
        return {**handler(schema), "pattern": NOT_BLANK}


@dataclass(frozen=True)
class Word:
    """`Annotated[str, Word(n)]`: 1..n characters, none of them blank (token names, lists)."""

    max_length: int

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> Any:
        text = core_schema.str_schema(min_length=1, max_length=self.max_length)
        return core_schema.no_info_after_validator_function(_unbroken, text)

    def __get_pydantic_json_schema__(self, schema: Any, handler: GetJsonSchemaHandler) -> Any:
        return {**handler(schema), "pattern": NO_BLANKS}


def _trimmed(value: str) -> str:
    trimmed = value.strip(BLANKS)
    if not trimmed:
        raise ValueError("must not be blank")
    return trimmed


def _unbroken(value: str) -> str:
    if any(c in BLANKS for c in value):
        raise ValueError("must not contain spaces or other blanks")
    return value

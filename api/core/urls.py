"""The one rule for every URL we store: absolute http(s), a real host, nothing hidden."""

import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator

MAX_URL_LENGTH = 2048
_WHITESPACE_OR_CONTROL = re.compile(r"[\x00-\x20\x7f-\x9f\s]")


def check_http_url(value: str) -> str:
    """Return the URL unchanged if it is a safe absolute http(s) URL, else raise ValueError."""
    if len(value) > MAX_URL_LENGTH:
        raise ValueError(f"URL longer than {MAX_URL_LENGTH} characters")
    if _WHITESPACE_OR_CONTROL.search(value):
        raise ValueError("URL contains whitespace or control characters")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises on a malformed port)
    except ValueError:
        raise ValueError("URL is malformed") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError("URL must be absolute and start with http:// or https://")
    if not parts.hostname or value[len(parts.scheme) + 1 : len(parts.scheme) + 3] != "//":
        raise ValueError("URL must name a host")
    if "@" in parts.netloc:
        raise ValueError("URL must not carry a user name or password")
    return value


HttpUrlStr = Annotated[str, AfterValidator(check_http_url)]

"""Opaque tokens clients hand back unchanged (list cursors, sync tokens): JSON in base64url.

They are not secrets and not signed: every decoder validates what it gets back as untrusted
input, field by field.
"""

import base64
import binascii
from typing import Any

import orjson


def encode_opaque(payload: list[Any]) -> str:
    """The token for `payload` (a JSON array), unpadded base64url."""
    return base64.urlsafe_b64encode(orjson.dumps(payload)).rstrip(b"=").decode()


def decode_opaque(token: str) -> Any:
    """The JSON value inside a token made by `encode_opaque`; ValueError when it is not one."""
    try:
        return orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError) as exc:
        raise ValueError("malformed token") from exc

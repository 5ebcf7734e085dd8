"""Signed, time-limited tokens for confirmation and unsubscribe links (itsdangerous).

Timestamps come from the application's clock, so tests control expiry without sleeping."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from api.core.errors import BadRequest

CONFIRM_SALT = "subscription-confirm"
UNSUBSCRIBE_SALT = "unsubscribe"
# Unsubscribe links must keep working in old newsletters.
UNSUBSCRIBE_MAX_AGE = 5 * 365 * 86_400

Clock = Callable[[], datetime]


def serializer(secret_key: str, salt: str, clock: Clock) -> URLSafeTimedSerializer:
    class ClockSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(clock().timestamp())

    return URLSafeTimedSerializer(secret_key, salt=salt, signer=ClockSigner)


def sign(secret_key: str, salt: str, clock: Clock, payload: dict[str, Any]) -> str:
    return str(serializer(secret_key, salt, clock).dumps(payload))


def unsign(secret_key: str, salt: str, clock: Clock, token: str, max_age: int) -> dict[str, Any]:
    """The token's payload, or 400 when it is tampered with, malformed or expired."""
    try:
        payload = serializer(secret_key, salt, clock).loads(token, max_age=max_age)
    except SignatureExpired:
        raise BadRequest("This link has expired; sign up again to get a new one.") from None
    except BadSignature:
        raise BadRequest("This link is not valid; check that it was copied whole.") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("s"), str):
        raise BadRequest("This link is not valid; check that it was copied whole.")
    return payload

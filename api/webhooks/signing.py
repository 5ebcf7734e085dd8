"""Signing deliveries per the Standard Webhooks specification (standardwebhooks.com).

Every delivery carries `webhook-id` (the delivery's id: the same on every retry, so receivers
drop duplicates), `webhook-timestamp` (unix seconds of this attempt) and `webhook-signature:
v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<raw body>">`. Receivers verify
them with the spec's libraries in any language, e.g. in Python
`standardwebhooks.Webhook(secret).verify(raw_body, headers)`, which also rejects timestamps
more than five minutes away from the receiver's clock.

Secrets are `whsec_` + standard base64 of 32 random bytes; the decoded bytes are the HMAC key.

Hooks created before the switch hold legacy secrets (`whsec_` + 43 URL-safe base64 characters,
unpadded), which are not valid standard base64 and which the libraries decode differently (or
not at all). They keep signing with the key they always had, the UTF-8 bytes of the whole
secret string, so receivers pass it as a raw key (Python `Webhook(secret.encode())`, JS
`new Webhook(secret, {format: "raw"})`, Go `NewWebhookRaw([]byte(secret))`). Their deliveries
also keep the legacy `X-Masthead-*` headers, as the spec's migration section advises, so
receivers written against them keep working until the hook is recreated with a new secret.
"""

import base64
import binascii
import hashlib
import hmac
import secrets
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook as StandardWebhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret() -> str:
    """A fresh secret in the spec's serialization: `whsec_` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def is_legacy_secret(secret: str) -> bool:
    """Whether a stored secret predates the spec: not `whsec_` + valid, padded base64."""
    if not secret.startswith(SECRET_PREFIX):
        return True
    try:
        return not base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except binascii.Error:
        return True


def signing_key(secret: str) -> bytes:
    """The HMAC key: the decoded base64 of a spec secret, the UTF-8 of a legacy one."""
    if is_legacy_secret(secret):
        return secret.encode()
    return base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)


def standard_headers(
    secret: str, delivery_id: str, sent_at: datetime, body: bytes
) -> dict[str, str]:
    """`webhook-id`, `webhook-timestamp` and `webhook-signature` for one attempt."""
    timestamp = int(sent_at.timestamp())
    at = datetime.fromtimestamp(timestamp, UTC)
    signature = StandardWebhook(signing_key(secret)).sign(delivery_id, at, body.decode("utf-8"))
    return {
        "webhook-id": delivery_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
    }


def legacy_signature(secret: str, timestamp: int, body: bytes) -> str:
    """The legacy `X-Masthead-Signature`: hex HMAC-SHA256 of `<timestamp>.<body>`."""
    message = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def legacy_headers(
    secret: str, delivery_id: str, event: str, sent_at: datetime, body: bytes
) -> dict[str, str]:
    """The `X-Masthead-*` headers deliveries to hooks with legacy secrets keep sending."""
    timestamp = int(sent_at.timestamp())
    return {
        "X-Masthead-Event": event,
        "X-Masthead-Delivery": delivery_id,
        "X-Masthead-Timestamp": str(timestamp),
        "X-Masthead-Signature": legacy_signature(secret, timestamp, body),
    }

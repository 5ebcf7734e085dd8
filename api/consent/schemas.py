"""The consent ledger as the admin API shows it."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from api.consent.models import ConsentEvent, ConsentEventKind

EVENT_FIELDS = (
    "id",
    "seq",
    "kind",
    "occurred_at",
    "consent_id",
    "policy_version",
    "policy_page_id",
    "policy_page_revision",
    "wording_hash",
    "source",
    "lists",
    "client_network",
    "client_nonce",
    "client_commitment",
    "prev_hash",
    "hash",
)


class ConsentEventPublic(BaseModel):
    """One event of a subscriber's consent ledger. `hash` is the SHA-256 of the event's
    canonical encoding (see the README, "What Masthead keeps about readers"), which covers
    `prev_hash`, the previous event's hash: an edit made afterwards is detectable."""

    id: str = Field(description="Stable opaque identifier of the event.")
    seq: int = Field(description="Position in the subscriber's chain, from 1.")
    kind: ConsentEventKind = Field(
        description="`given` (a sign-up with the box ticked), `confirmed` (the confirmation "
        "link opened), `withdrawn` (unsubscribed: every standing consent) or `erased` "
        "(personal data erased; the chain stays)."
    )
    occurred_at: datetime = Field(description="When it happened.")
    consent_id: str | None = Field(
        description="The consent record it concerns (`given`, `confirmed`); null otherwise."
    )
    policy_version: str | None = Field(
        description="Version of the privacy policy agreed to (`given`, `confirmed`)."
    )
    policy_page_id: str | None = Field(
        description="Id of the privacy-policy page in force then; null without one."
    )
    policy_page_revision: int | None = Field(
        description="That page's revision number then (0: never edited since imported)."
    )
    wording_hash: str | None = Field(
        description="SHA-256 (hex, of UTF-8) of the consent text the form showed."
    )
    source: str | None = Field(
        description="Where it happened: the sign-up form's page, `confirmation-link`, "
        "`unsubscribe` (the one-click link) or `erasure`."
    )
    lists: list[str] = Field(description="The lists concerned; empty: the default newsletter.")
    client_network: str | None = Field(
        description="The client's network (/24 for IPv4, /48 for IPv6), never its address; "
        "null when unknown or erased."
    )
    client_nonce: str | None = Field(
        description="Random nonce of `client_commitment`; null when the network is."
    )
    client_commitment: str | None = Field(
        description="SHA-256 of `client_nonce`, `|` and `client_network`: what the hash "
        "covers instead of the network, so erasure leaves the chain verifiable."
    )
    prev_hash: str | None = Field(description="The previous event's `hash`; null for the first.")
    hash: str = Field(description="SHA-256 (hex) of this event's canonical encoding.")


def consent_event(event: ConsentEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in EVENT_FIELDS}

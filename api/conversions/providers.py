"""What the destinations post back, parsed into the little we keep.

Each model declares only the fields a conversion needs: an event id, the attribution code
and, for money, the amount and currency. Everything else in a payload (the supporter's
name, email, address, phone, employer, comments, custom fields...) is never read into
memory as data: unknown keys are ignored by the models, so nothing personal can be stored
or logged from here.

- Action Network (https://actionnetwork.org/docs/webhooks): a JSON array of events, each
  an object keyed by its type (`osdi:signature`, `osdi:submission`, `osdi:attendance`,
  `osdi:donation`; other types are ignored) beside `idempotency_key`; the code we appended
  as `source=` comes back in `action_network:referrer_data.source`. Donations carry
  `amount` (a decimal string) and `currency` (ISO 4217).
- ActBlue (https://secure.actblue.com/docs/webhooks): one contribution per notification,
  `contribution.refcode` (the code we appended as `refcode=`) and `lineitems[]` with
  `lineitemId` and `amount` (US dollars, a decimal string). Refunds arrive in the same
  shape on their own webhook (and endpoint).
- Anything else, through the generic endpoint, signed per Standard Webhooks: `{"type":
  "conversion.<kind>", "data": {"code": ..., "amount": <minor units>, "currency": ...}}`,
  or `data.utm` with the `utm_campaign`, `utm_content` and `utm_medium` the redirect set.
"""

import hashlib
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from api.conversions.money import MAX_MINOR_UNITS, Currency, currency_code, minor_units

Code = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
EventId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
DecimalAmount = Annotated[str | int | float, Field(description='A decimal amount, e.g. `"25.00"`.')]
# Codes an unattributed visit leaves behind at Action Network.
NO_CODE = frozenset({"", "none"})


class ConversionKind(StrEnum):
    signature = "signature"
    submission = "submission"
    attendance = "attendance"
    donation = "donation"
    refund = "refund"


@dataclass(frozen=True)
class Utm:
    campaign: str
    content: str | None
    medium: str | None


@dataclass(frozen=True)
class Conversion:
    """One conversion as counted: no field of it says anything about the supporter."""

    event_id: str  # a digest of the provider's own id: replays are recognised, not traced
    kind: ConversionKind
    code: str | None = None
    utm: Utm | None = None
    amount: int = 0  # minor units; refunds are subtracted
    currency: str = ""


def event_digest(provider: str, event_id: str) -> str:
    return hashlib.sha256(f"{provider}\x00{event_id}".encode()).hexdigest()


def _code(value: str | None) -> str | None:
    return None if value is None or value.strip().lower() in NO_CODE else value.strip()


# --- Action Network -------------------------------------------------------------------


class ReferrerData(BaseModel):
    source: Code | None = Field(None, description="The `source=` code of the visit.")


class OsdiRecord(BaseModel):
    identifiers: list[Annotated[str, StringConstraints(max_length=200)]] = Field(
        default_factory=list, max_length=20, description="`action_network:<uuid>` and others."
    )
    referrer_data: ReferrerData | None = Field(
        None, alias="action_network:referrer_data", description="Where the visit came from."
    )


class OsdiDonation(OsdiRecord):
    amount: DecimalAmount
    currency: Annotated[str, StringConstraints(min_length=3, max_length=3)] = Field(
        description="ISO 4217 code."
    )

    @model_validator(mode="after")
    def amount_in_minor_units(self) -> "OsdiDonation":
        currency_code(self.currency.upper())
        minor_units(self.amount, self.currency.upper())
        return self


class ActionNetworkEvent(BaseModel):
    """One element of the array Action Network posts; types other than these four are
    accepted and ignored."""

    signature: OsdiRecord | None = Field(
        None,
        alias="osdi:signature",
        description="A petition signature (only its referrer data is read).",
    )
    submission: OsdiRecord | None = Field(
        None,
        alias="osdi:submission",
        description="A form submission (only its referrer data is read).",
    )
    attendance: OsdiRecord | None = Field(
        None, alias="osdi:attendance", description="An event RSVP (only its referrer data is read)."
    )
    donation: OsdiDonation | None = Field(
        None,
        alias="osdi:donation",
        description="A donation, with its amount (only its referrer data is read).",
    )
    idempotency_key: EventId | None = Field(
        None, description="Action Network's id of this notification (replays repeat it)."
    )


def action_network_conversions(events: list[ActionNetworkEvent]) -> tuple[list[Conversion], int]:
    """The conversions in an Action Network post, and how many events were ignored (other
    types, or no id to recognise a replay by)."""
    found: list[Conversion] = []
    ignored = 0
    for event in events:
        kinds: list[tuple[ConversionKind, OsdiRecord | None]] = [
            (ConversionKind.signature, event.signature),
            (ConversionKind.submission, event.submission),
            (ConversionKind.attendance, event.attendance),
            (ConversionKind.donation, event.donation),
        ]
        kind, record = next(((k, r) for k, r in kinds if r is not None), (None, None))
        event_id = event.idempotency_key or (record.identifiers[0] if record else None)
        if kind is None or record is None or not event_id:
            ignored += 1
            continue
        code = _code(record.referrer_data.source if record.referrer_data else None)
        amount, currency = 0, ""
        if isinstance(record, OsdiDonation):
            currency = record.currency.upper()
            amount = minor_units(record.amount, currency)
        found.append(
            Conversion(
                event_id=event_digest("actionnetwork", event_id),
                kind=kind,
                code=code,
                amount=amount,
                currency=currency,
            )
        )
    return found, ignored


# --- ActBlue --------------------------------------------------------------------------


class ActBlueContribution(BaseModel):
    refcode: Code | None = Field(None, description="The `refcode=` of the visit.")
    refcodes: dict[str, Code | None] | None = Field(
        None, description="Every refcode of the visit (`refcode`, `refcode2`, ...)."
    )


class ActBlueLineItem(BaseModel):
    lineitem_id: int | EventId = Field(alias="lineitemId", description="ActBlue's line item id.")
    amount: DecimalAmount = Field(description='US dollars, e.g. `"25.00"`.')

    @model_validator(mode="after")
    def amount_in_cents(self) -> "ActBlueLineItem":
        minor_units(self.amount, ACTBLUE_CURRENCY)
        return self


class ActBlueNotification(BaseModel):
    """An ActBlue contribution or refund notification (one per line item or contribution)."""

    contribution: ActBlueContribution = Field(
        description="The contribution's attribution (its refcodes); nothing personal is read."
    )
    lineitems: list[ActBlueLineItem] = Field(
        max_length=100, description="One entry per recipient of the contribution (at most 100)."
    )


ACTBLUE_CURRENCY = "USD"


def actblue_conversions(notification: ActBlueNotification, *, refund: bool) -> list[Conversion]:
    contribution = notification.contribution
    code = contribution.refcode or (contribution.refcodes or {}).get("refcode")
    kind = ConversionKind.refund if refund else ConversionKind.donation
    return [
        Conversion(
            event_id=event_digest("actblue", f"{kind}:{item.lineitem_id}"),
            kind=kind,
            code=_code(code),
            amount=minor_units(item.amount, ACTBLUE_CURRENCY),
            currency=ACTBLUE_CURRENCY,
        )
        for item in notification.lineitems
    ]


# --- Standard Webhooks (anything else) --------------------------------------------------


class UtmData(BaseModel):
    model_config = ConfigDict(extra="forbid")

    campaign: Annotated[str, StringConstraints(max_length=200)] = Field(
        description="`utm_campaign`: the action's slug."
    )
    content: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        None, description="`utm_content`: the article's slug."
    )
    medium: Annotated[str, StringConstraints(max_length=16)] | None = Field(
        None, description="`utm_medium`: the placement."
    )


class StandardConversionData(BaseModel):
    code: Code | None = Field(None, description="The `refcode`/`source` code of the visit.")
    utm: UtmData | None = Field(None, description="The UTM parameters of the visit.")
    amount: int | None = Field(
        None, ge=0, le=MAX_MINOR_UNITS, description="Donations and refunds: minor units."
    )
    currency: Currency | None = Field(None, description="ISO 4217 code of `amount`.")

    @model_validator(mode="after")
    def currency_with_amount(self) -> "StandardConversionData":
        if (self.amount is None) != (self.currency is None):
            raise ValueError("amount and currency go together")
        return self


STANDARD_TYPES = {f"conversion.{kind}": kind for kind in ConversionKind}


class StandardConversion(BaseModel):
    """`type` is `conversion.signature`, `.submission`, `.attendance`, `.donation` or
    `.refund`; other types are accepted and ignored."""

    type: Annotated[str, StringConstraints(max_length=100)] = Field(description="Event type.")
    data: StandardConversionData = Field(description="The conversion.")


def standard_conversions(message: StandardConversion, message_id: str) -> list[Conversion]:
    kind = STANDARD_TYPES.get(message.type)
    if kind is None:
        return []
    data = message.data
    utm = Utm(data.utm.campaign, data.utm.content, data.utm.medium) if data.utm else None
    return [
        Conversion(
            event_id=event_digest("standard", message_id),
            kind=kind,
            code=_code(data.code),
            utm=utm,
            amount=data.amount or 0,
            currency=data.currency or "",
        )
    ]

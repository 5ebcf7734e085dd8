"""Webhook payloads in the shapes the providers document, full of personal data that must
never be stored or logged (the tests grep the database and the logs for every value in
`PERSONAL`)."""

from typing import Any

PERSONAL = (
    "Zelimkhan",
    "Bakaev",
    "zelimkhan.bakaev@example.org",
    "+7 928 555 0142",
    "79285550142",
    "12 Prospekt Putina",
    "Grozny",
    "364051",
    "Memorial Human Rights Centre",
    "human rights defender",
    "Please find him",
    "Khadizhat",
    "khadizhat@example.net",
    "555-0199",
    "1 Main Street",
    "Springfield",
    "Acme Campaigns",
    "Organizer",
)


def _person() -> dict[str, Any]:
    return {
        "given_name": "Zelimkhan",
        "family_name": "Bakaev",
        "email_addresses": [
            {"primary": True, "address": "zelimkhan.bakaev@example.org", "status": "subscribed"}
        ],
        "phone_numbers": [{"primary": True, "number": "79285550142", "number_type": "Mobile"}],
        "postal_addresses": [
            {
                "primary": True,
                "address_lines": ["12 Prospekt Putina"],
                "locality": "Grozny",
                "region": "Chechnya",
                "postal_code": "364051",
                "country": "RU",
                "language": "en",
                "location": {"latitude": 43.3, "longitude": 45.7, "accuracy": "Approximate"},
            }
        ],
        "custom_fields": {"employer": "Memorial Human Rights Centre"},
        "languages_spoken": ["ru"],
    }


def action_network_signature(source: str | None, key: str = "d91b4b2e-signature-1") -> dict:
    """An `osdi:signature` webhook event (https://actionnetwork.org/docs/webhooks/signature)."""
    referrer = {"source": source, "referrer": "group-masthead", "website": "masthead.example"}
    return {
        "osdi:signature": {
            "identifiers": ["action_network:71f8feef-61c8-4e6b-9745-ec1d7752f298"],
            "created_date": "2026-06-01T11:55:00Z",
            "modified_date": "2026-06-01T11:55:00Z",
            "comments": "Please find him. My cousin was taken from Grozny.",
            "action_network:referrer_data": referrer,
            "person": _person(),
            "add_tags": ["volunteer", "human rights defender"],
            "_links": {
                "self": {"href": "https://actionnetwork.org/api/v2/petitions/abc/signatures/def"},
                "osdi:petition": {"href": "https://actionnetwork.org/api/v2/petitions/abc"},
                "osdi:person": {"href": "https://actionnetwork.org/api/v2/people/ghi"},
            },
        },
        "action_network:sponsor": {
            "title": "Masthead",
            "url": "https://actionnetwork.org/groups/masthead",
        },
        "idempotency_key": key,
    }


def action_network_donation(source: str, amount: str, currency: str, key: str) -> dict:
    """An `osdi:donation` webhook event (https://actionnetwork.org/docs/webhooks/donation)."""
    return {
        "osdi:donation": {
            "identifiers": ["action_network:f1119c4e-b8ca-44ff-bfa7-f78f7ca3ec16"],
            "created_date": "2026-06-01T11:56:00Z",
            "amount": amount,
            "currency": currency,
            "recipients": [{"display_name": "Masthead Legal Fund", "amount": amount}],
            "payment": {
                "method": "Credit Card",
                "reference_number": "f1119c4e",
                "authorization_stored": False,
            },
            "action_network:recurrence": {"recurring": False},
            "action_network:referrer_data": {"source": source, "website": "masthead.example"},
            "person": _person(),
            "_links": {
                "osdi:fundraising_page": {
                    "href": "https://actionnetwork.org/api/v2/fundraising_pages/x"
                }
            },
        },
        "idempotency_key": key,
    }


def action_network_attendance_unattributed(key: str) -> dict:
    return {
        "osdi:attendance": {
            "identifiers": ["action_network:0b1c"],
            "status": "accepted",
            "action_network:referrer_data": {"source": "none"},
            "person": _person(),
        },
        "idempotency_key": key,
    }


def actblue_contribution(refcode: str | None, lineitems: list[tuple[int, str]]) -> dict:
    """ActBlue's contribution notification (https://secure.actblue.com/docs/webhooks)."""
    return {
        "donor": {
            "firstname": "Khadizhat",
            "lastname": "Bakaeva",
            "addr1": "1 Main Street",
            "city": "Springfield",
            "state": "IL",
            "zip": "62701",
            "country": "United States",
            "isEligibleForExpressLane": True,
            "email": "khadizhat@example.net",
            "phone": "555-0199",
            "employerData": {
                "employer": "Acme Campaigns",
                "occupation": "Organizer",
                "employerAddr1": "1 Main Street",
                "employerCity": "Springfield",
                "employerState": "IL",
                "employerCountry": "United States",
            },
        },
        "contribution": {
            "createdAt": "2026-06-01T11:57:00-04:00",
            "orderNumber": "AB123456789",
            "contributionForm": "masthead-legal-fund",
            "refcodes": {"refcode": refcode, "refcode2": "newsletter"},
            "refcode": refcode,
            "refcode2": "newsletter",
            "creditCardExpiration": "12/2030",
            "recurringPeriod": "once",
            "recurringDuration": 1,
            "isRecurring": False,
            "isPaypal": False,
            "isMobile": True,
            "isExpress": False,
            "withExpressLane": False,
            "expressSignup": False,
            "textMessageOption": "unknown",
            "status": "approved",
            "customFields": [{"label": "Why do you give?", "answer": "Please find him"}],
        },
        "lineitems": [
            {
                "sequence": position,
                "entityId": 12345,
                "fecId": "C00000000",
                "committeeName": "Masthead Legal Fund",
                "amount": amount,
                "recurringAmount": None,
                "paidAt": "2026-06-01T11:57:10-04:00",
                "paymentId": 777000 + position,
                "lineitemId": lineitem_id,
            }
            for position, (lineitem_id, amount) in enumerate(lineitems)
        ],
        "form": {
            "name": "masthead-legal-fund",
            "kind": "page",
            "ownerEmail": "khadizhat@example.net",
            "managingEntityName": None,
            "managingEntityCommitteeName": None,
        },
    }

"""Sign-up, double opt-in over real SMTP, unsubscribe, and no enumeration."""

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.consent.ledger import wording_hash
from api.core.db import make_sessionmaker
from api.events.models import OutboxEvent
from api.subscriptions.models import (
    Subscriber,
    SubscriptionConsent,
)
from api.subscriptions.service import normalise_email
from tests.conftest import FIXED_NOW
from tests.subscriptions.conftest import Inbox, deliver, links, signup


def rows(engine: Any, model: Any) -> list[Any]:
    with make_sessionmaker(engine)() as session:
        return list(session.scalars(select(model)))


def confirmed_subscriber(client: TestClient, app: Any, inbox: Inbox, address: str) -> Any:
    assert signup(client, address).status_code == 202
    deliver(app)
    message = inbox.messages[-1]
    assert client.get(links(message)["confirm"]).status_code == 200
    return message


def test_signup_is_accepted_with_the_contract_body(client: TestClient) -> None:
    response = signup(client)
    assert response.status_code == 202
    assert response.json()["data"] == {"status": "pending"}
    assert response.json()["message"].startswith("Thanks for signing up!")
    assert response.headers["cache-control"] == "no-store"


def test_confirmation_mail_arrives_and_its_link_confirms(
    client: TestClient, app: Any, inbox: Inbox, engine: Any
) -> None:
    signup(client, "Reader@Example.COM", lists=["weekly"])
    assert deliver(app) == 1
    [message] = inbox.messages
    assert inbox.recipients == [["reader@example.com"]]
    assert message["To"] == "reader@example.com"
    assert message["Subject"] == "Please confirm your subscription"
    assert message["List-Unsubscribe"].startswith("<http://testserver/v1/subscriptions/unsub")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    response = client.get(links(message)["confirm"])
    assert response.status_code == 200
    assert response.json()["data"] == {"status": "confirmed", "action": "confirm"}
    [subscriber] = rows(engine, Subscriber)
    assert (subscriber.email, subscriber.status) == ("reader@example.com", "confirmed")
    assert subscriber.lists == ["weekly"]
    [consent] = rows(engine, SubscriptionConsent)
    assert consent.policy_version == "2026-01"
    assert consent.source == "/articles/clean-air"
    assert consent.wording_hash == wording_hash(app.state.settings.subscription_consent_wording)
    assert consent.client_network == "203.0.113.0/24"
    assert consent.consented_at == FIXED_NOW
    assert consent.confirmed_at == FIXED_NOW
    assert consent.withdrawn_at is None
    [event] = rows(engine, OutboxEvent)
    assert event.name == "subscriber.confirmed"
    assert event.payload["subscriber_id"] == subscriber.id


def test_reused_confirmation_link_is_400(client: TestClient, app: Any, inbox: Inbox) -> None:
    message = confirmed_subscriber(client, app, inbox, "reader@example.com")
    response = client.get(links(message)["confirm"])
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


def test_tampered_confirmation_link_is_400(client: TestClient, app: Any, inbox: Inbox) -> None:
    signup(client)
    deliver(app)
    link = links(inbox.messages[0])["confirm"]
    tampered = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    assert client.get(tampered).status_code == 400
    assert client.get("/v1/subscriptions/confirm?token=nonsense").status_code == 400


def test_unsubscribe_token_does_not_confirm(client: TestClient, app: Any, inbox: Inbox) -> None:
    signup(client)
    deliver(app)
    token = links(inbox.messages[0])["unsubscribe"].split("token=", 1)[1]
    assert client.get(f"/v1/subscriptions/confirm?token={token}").status_code == 400


def test_expired_confirmation_link_is_400(client: TestClient, app: Any, inbox: Inbox) -> None:
    signup(client)
    deliver(app)
    max_age = app.state.settings.subscription_confirm_max_age
    app.state.clock = lambda: FIXED_NOW + timedelta(seconds=max_age + 1)
    response = client.get(links(inbox.messages[0])["confirm"])
    assert response.status_code == 400
    assert "expired" in response.json()["detail"]


def test_unsubscribe_link_get_describes_and_post_unsubscribes(
    client: TestClient, app: Any, inbox: Inbox, engine: Any
) -> None:
    message = confirmed_subscriber(client, app, inbox, "reader@example.com")
    header_url = urlsplit(message["List-Unsubscribe"].strip("<>"))
    link = f"{header_url.path}?{header_url.query}"
    assert link == links(message)["unsubscribe"]

    described = client.get(link)
    assert described.status_code == 200
    assert described.json()["data"] == {"status": "confirmed", "action": "unsubscribe"}
    assert rows(engine, Subscriber)[0].status == "confirmed"

    one_click = {"content-type": "application/x-www-form-urlencoded"}
    for _ in range(2):  # repeating is harmless
        response = client.post(link, content=b"List-Unsubscribe=One-Click", headers=one_click)
        assert response.status_code == 200
        assert response.json()["data"] == {"status": "unsubscribed", "action": "unsubscribe"}
    [subscriber] = rows(engine, Subscriber)
    assert subscriber.status == "unsubscribed"
    assert subscriber.unsubscribed_at == FIXED_NOW
    assert rows(engine, SubscriptionConsent)[0].withdrawn_at == FIXED_NOW


def test_unsubscribing_a_pending_address_stops_its_mail(
    client: TestClient, app: Any, inbox: Inbox, engine: Any
) -> None:
    signup(client)
    deliver(app)
    link = links(inbox.messages[0])
    assert client.post(link["unsubscribe"]).status_code == 200
    assert client.get(link["confirm"]).status_code == 400
    assert rows(engine, Subscriber)[0].status == "unsubscribed"


def test_a_burst_of_signups_sends_one_email(client: TestClient, app: Any, inbox: Inbox) -> None:
    for _ in range(4):
        assert signup(client).status_code == 202
    assert deliver(app) == 1
    assert signup(client).status_code == 202
    assert deliver(app) == 0
    assert len(inbox.messages) == 1


def test_a_later_signup_resends_the_confirmation(
    client: TestClient, app: Any, inbox: Inbox
) -> None:
    signup(client)
    deliver(app)
    later = FIXED_NOW + timedelta(seconds=app.state.settings.subscription_resend_after + 1)
    app.state.clock = lambda: later
    signup(client)
    assert deliver(app) == 1
    assert client.get(links(inbox.messages[1])["confirm"]).status_code == 200


def test_every_address_state_gets_the_same_answer(
    client: TestClient, app: Any, inbox: Inbox
) -> None:
    signup(client, "pending@example.com")
    confirmed_subscriber(client, app, inbox, "confirmed@example.com")
    message = confirmed_subscriber(client, app, inbox, "gone@example.com")
    assert client.post(links(message)["unsubscribe"]).status_code == 200

    answers = {
        address: signup(client, address)
        for address in (
            "new@example.com",
            "pending@example.com",
            "confirmed@example.com",
            "gone@example.com",
        )
    }
    shapes = {
        (r.status_code, r.content, r.headers["content-type"], r.headers.get("cache-control"))
        for r in answers.values()
    }
    assert len(shapes) == 1
    assert next(iter(shapes))[0] == 202


def test_confirmed_address_gets_no_new_mail_and_unsubscribed_gets_one(
    client: TestClient, app: Any, inbox: Inbox, engine: Any
) -> None:
    message = confirmed_subscriber(client, app, inbox, "reader@example.com")
    signup(client)
    assert deliver(app) == 0
    client.post(links(message)["unsubscribe"])
    signup(client)
    assert deliver(app) == 1
    assert client.get(links(inbox.messages[1])["confirm"]).status_code == 200
    assert [s.status for s in rows(engine, Subscriber)] == ["confirmed"]


def test_addresses_differing_only_in_case_are_one_subscriber(
    client: TestClient, app: Any, inbox: Inbox, engine: Any
) -> None:
    assert signup(client, "Norm@EXAMPLE.com").status_code == 202
    assert signup(client, "norm@example.com").status_code == 202
    assert signup(client, "NORM@Example.Com", lists=["weekly"]).status_code == 202
    [subscriber] = rows(engine, Subscriber)
    assert (subscriber.email, subscriber.lists) == ("norm@example.com", ["weekly"])
    consents = rows(engine, SubscriptionConsent)
    assert len(consents) == 3 and {c.subscriber_id for c in consents} == {subscriber.id}
    assert deliver(app) == 1
    assert inbox.recipients == [["norm@example.com"]]


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("Norm@EXAMPLE.com", "norm@example.com"),
        ("norm@example.com", "norm@example.com"),
        ("ÑANDÚ@Bücher.EXAMPLE", "ñandú@bücher.example"),
        ("Ñandu@xn--bcher-kva.example", "ñandu@bücher.example"),
    ],
)
def test_addresses_are_stored_in_lower_case(raw: str, stored: str) -> None:
    assert normalise_email(raw) == stored


BAD_EMAILS = [
    "a@localhost",
    "no-at-sign",
    "a@b",
    "reader@example.test",
    "two@@example.com",
    "line\r\nbreak@example.com",
    "reader@example.com\nBcc: victim@example.com",
    "x" * 64 + "@" + ("d" * 60 + ".") * 4 + "com",
    "y" * 300 + "@example.com",
    "",
]


@pytest.mark.parametrize("address", BAD_EMAILS)
def test_invalid_email_is_422(client: TestClient, address: str) -> None:
    response = signup(client, address)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"][:2] == ["body", "email"]


@pytest.mark.parametrize(
    "change",
    [
        {"consent": False},
        {"consent": "yes"},
        {"consent": None},
        {"consent": 1},
        {"policy_version": ""},
        {"source": ""},
        {"lists": ["has space"]},
        {"referrer": "/elsewhere"},
    ],
)
def test_missing_consent_or_bad_fields_are_422(client: TestClient, change: dict[str, Any]) -> None:
    body = {
        "email": "reader@example.com",
        "consent": True,
        "policy_version": "2026-01",
        "source": "/",
    }
    response = client.post("/v1/subscriptions", json={**body, **change})
    assert response.status_code == 422


def test_absent_consent_is_422(client: TestClient, engine: Any) -> None:
    response = client.post(
        "/v1/subscriptions",
        json={"email": "reader@example.com", "policy_version": "1", "source": "/"},
    )
    assert response.status_code == 422
    assert rows(engine, Subscriber) == []


def test_confirm_redirects_to_the_landing_page_when_configured(app: Any, inbox: Inbox) -> None:
    app.state.settings = app.state.settings.model_copy(
        update={"subscription_confirm_redirect": "https://site.example/thanks"}
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        signup(client)
        deliver(app)
        link = links(inbox.messages[0])["confirm"]
        first = client.get(link, follow_redirects=False)
        again = client.get(link, follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == "https://site.example/thanks?status=confirmed"
    assert again.headers["location"] == "https://site.example/thanks?status=invalid"


def test_unsubscribe_describe_redirects_with_the_token(app: Any, inbox: Inbox) -> None:
    app.state.settings = app.state.settings.model_copy(
        update={"subscription_unsubscribe_redirect": "https://site.example/bye"}
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        signup(client)
        deliver(app)
        link = links(inbox.messages[0])["unsubscribe"]
        response = client.get(link, follow_redirects=False)
    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert parse_qs(location.query)["status"] == ["confirm"]
    assert parse_qs(location.query)["token"] == [link.split("token=", 1)[1]]

"""Admin: list, filter, export and erase subscribers (role admin only)."""

import csv
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.core.db import make_sessionmaker
from api.subscriptions.models import OutboxMessage, Subscriber, SubscriptionConsent
from tests.subscriptions.conftest import Inbox, deliver, links, signup


def subscribers(client: TestClient, as_: Any, query: str = "") -> Any:
    return client.get(f"/v1/admin/subscribers{query}", headers=as_("admin"))


def arrange(client: TestClient, app: Any, inbox: Inbox) -> None:
    """Three subscribers: one confirmed, two pending."""
    for address in ("one@example.com", "two@example.com", "=cmd@example.com"):
        signup(client, address)
    deliver(app)
    first = next(m for m in inbox.messages if m["To"] == "one@example.com")
    assert client.get(links(first)["confirm"]).status_code == 200


@pytest.mark.parametrize("role", ["editor", "contributor", "content"])
def test_subscribers_need_the_admin_role(client: TestClient, as_: Any, role: str) -> None:
    assert client.get("/v1/admin/subscribers", headers=as_(role)).status_code == 403
    assert client.get("/v1/admin/subscribers.csv", headers=as_(role)).status_code == 403
    assert client.delete("/v1/admin/subscribers/x", headers=as_(role)).status_code == 403
    assert client.get("/v1/admin/subscribers").status_code == 401


def test_list_filters_by_status_and_paginates(
    client: TestClient, app: Any, inbox: Inbox, as_: Any
) -> None:
    arrange(client, app, inbox)
    everyone = subscribers(client, as_).json()["data"]
    assert len(everyone) == 3
    confirmed = subscribers(client, as_, "?status=confirmed").json()["data"]
    assert [s["email"] for s in confirmed] == ["one@example.com"]
    assert len(subscribers(client, as_, "?status=pending").json()["data"]) == 2

    seen, query = [], "?limit=2"
    while query:
        page = subscribers(client, as_, query).json()
        seen += [s["id"] for s in page["data"]]
        cursor = page["meta"]["next_cursor"]
        query = f"?limit=2&cursor={cursor}" if cursor else ""
    assert sorted(seen) == sorted(s["id"] for s in everyone)
    assert subscribers(client, as_, "?status=bogus").status_code == 422


def test_csv_export_neutralises_formulas(
    client: TestClient, app: Any, inbox: Inbox, as_: Any
) -> None:
    arrange(client, app, inbox)
    response = client.get("/v1/admin/subscribers.csv", headers=as_("admin"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(response.text)))
    assert sorted(r["email"] for r in table) == [
        "'=cmd@example.com",
        "one@example.com",
        "two@example.com",
    ]
    assert {r["status"] for r in table} == {"confirmed", "pending"}


def test_erasure_removes_personal_data_for_good(
    client: TestClient, app: Any, inbox: Inbox, as_: Any, engine: Any
) -> None:
    arrange(client, app, inbox)
    signup(client, "two@example.com")  # a queued, unsent reminder would also be dropped
    [target] = [
        s for s in subscribers(client, as_).json()["data"] if s["email"] == "one@example.com"
    ]

    response = client.delete(f"/v1/admin/subscribers/{target['id']}", headers=as_("admin"))
    assert response.status_code == 204
    assert (
        client.delete(f"/v1/admin/subscribers/{target['id']}", headers=as_("admin")).status_code
        == 204
    )
    assert client.delete("/v1/admin/subscribers/nope", headers=as_("admin")).status_code == 404

    with make_sessionmaker(engine)() as session:
        erased = session.get(Subscriber, target["id"])
        assert erased is not None
        assert (erased.email, erased.status) == (None, "erased")
        consents = session.scalars(
            select(SubscriptionConsent).where(SubscriptionConsent.subscriber_id == target["id"])
        ).all()
        assert consents and all(c.client_network is None for c in consents)
        mail = session.scalars(
            select(OutboxMessage).where(OutboxMessage.subscriber_id == target["id"])
        ).all()
        assert mail and all(m.recipient is None for m in mail)
        assert session.scalar(select(func.count()).select_from(Subscriber)) == 3
        stored = session.scalars(select(Subscriber.email)).all()
        assert "one@example.com" not in stored

    exported = client.get("/v1/admin/subscribers.csv", headers=as_("admin")).text
    assert "one@example.com" not in exported
    assert [s["status"] for s in subscribers(client, as_, "?status=erased").json()["data"]] == [
        "erased"
    ]
    # The old links lead nowhere personal; the address may sign up afresh.
    old = next(m for m in inbox.messages if m["To"] == "one@example.com")
    assert client.post(links(old)["unsubscribe"]).json()["data"]["status"] == "erased"
    assert signup(client, "one@example.com").status_code == 202

"""Admin: list, filter, export and erase subscribers (role admin only)."""

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.consent.ledger import wording_hash
from api.core.db import make_sessionmaker
from api.subscriptions.models import OutboxMessage, Subscriber, SubscriptionConsent
from tests.conftest import FIXED_NOW
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
    assert client.get("/v1/admin/subscribers/x", headers=as_(role)).status_code == 403
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


CONSENT_KEYS = {
    "policy_version",
    "policy_page_id",
    "policy_page_revision",
    "wording_hash",
    "source",
    "lists",
    "client_network",
    "consented_at",
    "confirmed_at",
    "withdrawn_at",
}
LATER = FIXED_NOW + timedelta(days=3)


def iso(moment: Any) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def two_signups_one_confirmed(client: TestClient, app: Any, inbox: Inbox) -> None:
    """reader@ signed up and confirmed at FIXED_NOW, then signed up again, later, for two
    lists on a newer policy from a page whose path a spreadsheet would run."""
    signup(client, "reader@example.com", lists=["weekly"])
    deliver(app)
    assert client.get(links(inbox.messages[0])["confirm"]).status_code == 200
    app.state.clock = lambda: LATER
    signup(client, "Reader@Example.com", policy_version="2026-07", source="=1+1", lists=["b", "a"])


def assert_consent_records(consents: list[dict[str, Any]], app: Any) -> None:
    assert all(set(c) == CONSENT_KEYS for c in consents)
    newest, first = consents
    assert newest == {
        "policy_version": "2026-07",
        "policy_page_id": None,  # no privacy-policy page published (see test_policy_page)
        "policy_page_revision": None,
        "wording_hash": wording_hash(app.state.settings.subscription_consent_wording),
        "source": "=1+1",
        "lists": ["a", "b"],
        "client_network": "203.0.113.0/24",
        "consented_at": iso(LATER),
        "confirmed_at": None,
        "withdrawn_at": None,
    }
    assert first["policy_version"] == "2026-01"
    assert first["source"] == "/articles/clean-air"
    assert first["lists"] == ["weekly"]
    assert (first["consented_at"], first["confirmed_at"]) == (iso(FIXED_NOW), iso(FIXED_NOW))


def test_list_and_item_carry_the_consent_records_newest_first(
    client: TestClient, app: Any, inbox: Inbox, as_: Any
) -> None:
    two_signups_one_confirmed(client, app, inbox)
    [listed] = subscribers(client, as_).json()["data"]
    assert (listed["email"], listed["status"]) == ("reader@example.com", "confirmed")
    assert_consent_records(listed["consents"], app)

    response = client.get(f"/v1/admin/subscribers/{listed['id']}", headers=as_("admin"))
    assert response.status_code == 200
    assert response.headers["etag"]
    item = response.json()["data"]
    assert [event["kind"] for event in item.pop("ledger")] == ["given", "confirmed", "given"]
    assert item.pop("ledger_head")
    assert item == listed
    missing = client.get("/v1/admin/subscribers/nope", headers=as_("admin"))
    assert missing.status_code == 404


def test_csv_has_a_row_per_consent_record(
    client: TestClient, app: Any, inbox: Inbox, as_: Any
) -> None:
    two_signups_one_confirmed(client, app, inbox)
    signup(client, "other@example.com")
    response = client.get("/v1/admin/subscribers.csv", headers=as_("admin"))
    table = list(csv.DictReader(io.StringIO(response.text)))
    assert list(table[0]) == [
        "id",
        "email",
        "status",
        "lists",
        "created_at",
        "confirmed_at",
        "unsubscribed_at",
        "ledger_head",
        "consent_policy_version",
        "consent_policy_page_id",
        "consent_policy_page_revision",
        "consent_wording_hash",
        "consent_source",
        "consent_lists",
        "consent_client_network",
        "consent_consented_at",
        "consent_confirmed_at",
        "consent_withdrawn_at",
    ]
    assert [(r["email"], r["consent_policy_version"]) for r in table] == [
        ("reader@example.com", "2026-07"),  # oldest subscriber first, its newest consent first
        ("reader@example.com", "2026-01"),
        ("other@example.com", "2026-01"),
    ]
    newest, first, _ = table
    assert newest["consent_source"] == "'=1+1"  # neutralised
    assert newest["consent_lists"] == "a b"
    assert newest["consent_client_network"] == "203.0.113.0/24"
    assert newest["consent_consented_at"] == LATER.isoformat()
    assert newest["consent_confirmed_at"] == ""
    assert first["consent_confirmed_at"] == FIXED_NOW.isoformat()
    wording = app.state.settings.subscription_consent_wording
    assert first["consent_wording_hash"] == wording_hash(wording)


def test_erased_subscribers_keep_consent_records_without_networks(
    client: TestClient, app: Any, inbox: Inbox, as_: Any
) -> None:
    two_signups_one_confirmed(client, app, inbox)
    [listed] = subscribers(client, as_).json()["data"]
    path = f"/v1/admin/subscribers/{listed['id']}"
    assert client.delete(path, headers=as_("admin")).status_code == 204
    erased = client.get(path, headers=as_("admin")).json()["data"]
    assert (erased["email"], erased["status"]) == (None, "erased")
    assert [c["policy_version"] for c in erased["consents"]] == ["2026-07", "2026-01"]
    assert all(c["client_network"] is None for c in erased["consents"])
    assert "reader@example.com" not in client.get(path, headers=as_("admin")).text


def test_the_list_loads_consents_in_one_statement_whatever_the_page_size(
    client: TestClient, app: Any, as_: Any, count_statements: Any
) -> None:
    for n in range(8):
        signup(client, f"reader{n}@example.com")
        signup(client, f"reader{n}@example.com", policy_version="2026-07")
    subscribers(client, as_, "?limit=1")  # warm up: connection set-up is not the list's cost

    def statements(limit: int) -> int:
        with count_statements() as counter:
            page = subscribers(client, as_, f"?limit={limit}").json()["data"]
        assert len(page) == limit
        assert all(len(item["consents"]) == 2 for item in page)
        return counter.count

    small, large = statements(2), statements(8)
    assert small == large, f"{small} statements for 2 subscribers but {large} for 8"
    with count_statements() as counter:
        subscribers(client, as_, "?limit=8")
    consent_queries = [s for s in counter.statements if "FROM subscription_consents" in s]
    assert len(consent_queries) == 1, counter.statements

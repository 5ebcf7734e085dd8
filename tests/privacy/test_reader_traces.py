"""At-risk reader mode: no answer ever sets a cookie, and no table keeps a reader's full
address. A representative run (the whole public crawl, sign-up, confirmation, one-click
unsubscribe, clicks through go_url, failed authentications, the admin's subscriber work
and content writes), every request from a distinctive address a trusted proxy reports in
`X-Forwarded-For`; then every text column of every table is searched for it."""

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.subscriptions.tokens import CONFIRM_SALT, UNSUBSCRIBE_SALT, sign
from tests.privacy.conftest import OWN, PROXY, READER_IPV4, READER_IPV6
from tests.privacy.crawl import crawl
from tests.privacy.test_third_party import seeds

ADDRESS_SPELLINGS = (READER_IPV4, READER_IPV6, "2001:db8:7:1::77")


@pytest.fixture
def reader(demo_app: Any) -> Iterator[tuple[TestClient, list[Any]]]:
    """A client whose every request comes from READER_IPV4 through the trusted proxy, and
    the list of every answer it got."""
    answers: list[Any] = []
    with TestClient(
        demo_app,
        base_url=OWN,
        raise_server_exceptions=False,
        client=PROXY,
        headers={"X-Forwarded-For": READER_IPV4},
    ) as client:
        client.event_hooks = {"response": [answers.append]}
        yield client, answers


def representative_run(client: TestClient, app: Any, as_: Any, tokens: dict[str, str]) -> int:
    """Everything a reader and an admin do; the number of requests made."""
    result = crawl(client, OWN, seeds(client, as_, tokens))
    assert result.violations == []
    count = len(result.responses)
    for path in ("/v1/articles", "/feeds/rss.xml", "/v1/site"):
        client.head(path)
        client.options(path, headers={"Origin": "https://elsewhere.example"})
    actions = client.get("/v1/actions?active=all").json()["data"]
    article = client.get("/v1/articles?limit=1").json()["data"][0]["slug"]
    for action in actions:
        client.get(f"{action['go_url']}?from={article}&placement=end", follow_redirects=False)
        client.get(
            action["go_url"], headers={"X-Forwarded-For": READER_IPV6}, follow_redirects=False
        )
    for address, email in ((READER_IPV4, "reader@example.org"), (READER_IPV6, "six@example.org")):
        signed_up = client.post(
            "/v1/subscriptions",
            json={
                "email": email,
                "consent": True,
                "policy_version": "1",
                "source": f"/articles/{article}",
                "consent_wording": "Yes, send me the newsletter.",
            },
            headers={"X-Forwarded-For": address},
        )
        assert signed_up.status_code == 202, signed_up.text
    admin = as_("admin")
    [subscriber] = [
        s
        for s in client.get("/v1/admin/subscribers", headers=admin).json()["data"]
        if s["email"] == "reader@example.org"
    ]
    ledger = client.get(f"/v1/admin/subscribers/{subscriber['id']}", headers=admin).json()
    consent_id = ledger["data"]["ledger"][0]["consent_id"]
    settings, clock = app.state.settings, app.state.clock
    payload = {"s": subscriber["id"], "c": consent_id}
    confirm = sign(settings.secret_key, CONFIRM_SALT, clock, payload)
    unsubscribe = sign(settings.secret_key, UNSUBSCRIBE_SALT, clock, {"s": subscriber["id"]})
    assert client.get(f"/v1/subscriptions/confirm?token={confirm}").status_code == 200
    assert client.get(f"/v1/subscriptions/unsubscribe?token={unsubscribe}").status_code == 200
    one_click = client.post(
        f"/v1/subscriptions/unsubscribe?token={unsubscribe}",
        content="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert one_click.status_code == 200
    client.get("/v1/admin/subscribers.csv", headers=admin)
    client.get(f"/v1/admin/subscribers/{subscriber['id']}/export", headers=admin)
    for bad in ("Bearer mh_" + "x" * 43, "Basic eDp5"):
        assert client.get("/v1/admin/articles", headers={"Authorization": bad}).status_code == 401
    created = client.post(
        "/v1/admin/articles",
        json={"title": "Written by the admin", "body_markdown": "Some *words*."},
        headers=as_("editor"),
    )
    assert created.status_code == 201, created.text
    published = client.post(
        f"/v1/admin/articles/{created.json()['data']['id']}/publish", headers=as_("editor")
    )
    assert published.status_code == 200, published.text
    client.get("/v1/admin/audit", headers=admin)
    client.get("/v1/articles/no-such-article")
    client.get("/v1/articles?limit=0")
    return count


def test_no_answer_sets_a_cookie(
    reader: tuple[TestClient, list[Any]], demo_app: Any, as_: Any, tokens: dict[str, str]
) -> None:
    client, answers = reader
    representative_run(client, demo_app, as_, tokens)
    assert len(answers) > 100
    setting = [(str(a.url), a.headers["set-cookie"]) for a in answers if "set-cookie" in a.headers]
    assert setting == []
    assert not client.cookies
    print(f"cookies: {len(answers)} answers, none with Set-Cookie")


def stored_text(engine: Engine) -> Iterator[tuple[str, str]]:
    """(table, text of a row) for every row of every table of the database."""
    with engine.connect() as connection:
        for table in sa.inspect(connection).get_table_names():
            reflected = sa.Table(table, sa.MetaData(), autoload_with=connection)
            for row in connection.execute(sa.select(reflected)):
                yield table, " ".join(str(value) for value in row)


def test_no_table_keeps_a_full_client_address(
    reader: tuple[TestClient, list[Any]],
    demo_app: Any,
    as_: Any,
    tokens: dict[str, str],
    engine: Engine,
) -> None:
    client, _answers = reader
    requests = representative_run(client, demo_app, as_, tokens)
    rows = list(stored_text(engine))
    tables = {table for table, _ in rows}
    found = [(table, ip) for table, text in rows for ip in ADDRESS_SPELLINGS if ip in text]
    assert found == []
    # The run stored what it should, truncated: the consent records and ledger keep /24, /48.
    consents = ("consent_events", "subscription_consents")
    networks = " ".join(text for table, text in rows if table in consents)
    assert "198.51.100.0/24" in networks and "2001:db8:7::/48" in networks
    print(f"addresses: {len(rows)} rows of {len(tables)} tables after {requests}+ requests, clean")


def test_the_scan_finds_an_address_stored_whole(engine: Engine, demo_app: Any) -> None:
    """The scan can fail: a full address written anywhere is found."""
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE articles SET subtitle = :s WHERE id = (SELECT min(id) FROM articles)"),
            {"s": f"seen from {READER_IPV4}"},
        )
    assert any(READER_IPV4 in text for _table, text in stored_text(engine))

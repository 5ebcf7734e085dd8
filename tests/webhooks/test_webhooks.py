"""Webhooks (CONTRACT §3): registered by admins, derived from the change log, signed per
the Standard Webhooks specification, retried with backoff, logged, disabled after repeated
failure, delivered once."""

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from standardwebhooks import Webhook, WebhookVerificationError

from api.core.db import make_engine, make_sessionmaker
from api.core.settings import load_settings
from api.events.models import OutboxEvent
from api.events.service import emit
from api.main import create_app
from api.webhooks.delivery import deliver_due, make_client
from api.webhooks.models import WebhookDelivery
from api.webhooks.signing import is_legacy_secret, new_secret, standard_headers
from api.webhooks.worker import dispatch_all, run_webhook_worker, webhook_pass
from tests.conftest import FIXED_NOW
from tests.factories import bundle, iso, load, tag
from tests.webhooks.conftest import Receiver, free_port, webhook_settings, with_webhooks

ARTICLE_EVENTS = ["article.published", "article.updated", "article.unpublished", "article.deleted"]


def create_hook(client, as_, target, events=None):
    """A hook POSTing to `target` (a URL, or a Receiver, which learns the hook's secret)."""
    url = target.url if isinstance(target, Receiver) else target
    response = client.post(
        "/v1/admin/webhooks",
        json={"url": url, "events": events or ARTICLE_EVENTS, "description": "site builder"},
        headers=as_("admin"),
    )
    assert response.status_code == 201, response.text
    hook = response.json()["data"]
    if isinstance(target, Receiver):
        target.secrets.append(hook["secret"])
    return hook


def create_article(client, as_, **fields):
    body = {"title": "Purge in Chechnya", "body_markdown": "Some **bold** words.", **fields}
    response = client.post("/v1/admin/articles", json=body, headers=as_("editor"))
    assert response.status_code == 201, response.text
    return response.json()["data"]


def publish(client, as_, article_id, at=None):
    body = {"published_at": iso(at)} if at else None
    response = client.post(
        f"/v1/admin/articles/{article_id}/publish", json=body, headers=as_("editor")
    )
    assert response.status_code == 200, response.text
    return response


def deliveries(client, as_, hook_id):
    response = client.get(f"/v1/admin/webhooks/{hook_id}/deliveries", headers=as_("admin"))
    assert response.status_code == 200, response.text
    return response.json()["data"]


def events_of(receiver):
    return [json.loads(r.body)["event"] for r in receiver.requests]


def standard_signature(key: bytes, request) -> str:
    """`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, computed here without the library."""
    signed = f"{request.headers['webhook-id']}.{request.headers['webhook-timestamp']}."
    digest = hmac.new(key, signed.encode() + request.body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def test_published_article_is_posted_signed_over_the_raw_body(client, as_, receiver, run_pass):
    hook = create_hook(client, as_, receiver)
    article = create_article(client, as_)
    publish(client, as_, article["id"])

    run_pass(FIXED_NOW)

    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert request.path == "/hooks/masthead"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == "Masthead-Webhooks/1"
    timestamp = request.headers["webhook-timestamp"]
    assert abs(int(timestamp) - time.time()) < 60  # this attempt's wall clock, unix seconds
    key = base64.b64decode(hook["secret"].removeprefix("whsec_"), validate=True)
    assert request.headers["webhook-signature"] == standard_signature(key, request)
    assert request.headers["webhook-signature"] != standard_signature(b"not-the-secret", request)
    assert Webhook(hook["secret"]).verify(request.body, request.headers) == request.verified
    assert not [name for name in request.headers if name.startswith("x-masthead-")]
    payload = json.loads(request.body)
    assert request.verified == payload
    assert payload["event"] == "article.published"
    assert payload["data"]["id"] == article["id"]
    assert payload["data"]["slug"] == article["slug"]
    assert payload["data"]["body_html"]
    assert {"tags", "authors", "sources", "actions"} <= set(payload["data"])
    log = deliveries(client, as_, hook["id"])
    assert [(d["event"], d["status"], d["attempts"], d["last_status_code"]) for d in log] == [
        ("article.published", "succeeded", 1, 200)
    ]
    assert log[0]["id"] == request.headers["webhook-id"]
    assert log[0]["delivered_at"] is not None

    run_pass(FIXED_NOW + timedelta(minutes=5))
    assert len(receiver.requests) == 1  # nothing new, nothing twice


def test_forged_deliveries_fail_verification(client, as_, receiver, run_pass):
    """Receivers accept only what Masthead signed: a wrong secret, a body, id or timestamp
    changed on the way, a missing signature or a stale (replayed) timestamp all fail."""
    hook = create_hook(client, as_, receiver)
    publish(client, as_, create_article(client, as_)["id"])
    run_pass()
    [real] = receiver.requests
    secret, body = hook["secret"], real.body
    headers = {k: v for k, v in real.headers.items() if k.startswith("webhook-")}
    headers["content-type"] = "application/json"
    delivery_id, now = headers["webhook-id"], datetime.now(UTC)

    def signed(key, at, content=body):
        return {**headers, **standard_headers(key, delivery_id, at, content)}

    tampered = body.replace(b'"article.published"', b'"article.deleted"')
    assert tampered != body
    earlier = str(int(headers["webhook-timestamp"]) - 1)
    forged = {
        "wrong secret": (body, signed(new_secret(), now)),
        "tampered body": (tampered, headers),
        "another id": (body, {**headers, "webhook-id": "0" * 32}),
        "moved timestamp": (body, {**headers, "webhook-timestamp": earlier}),
        "unsigned": (body, {k: v for k, v in headers.items() if k != "webhook-signature"}),
        "stale timestamp": (body, signed(secret, now - timedelta(minutes=10))),
    }
    for name, (content, forged_headers) in forged.items():
        with pytest.raises(WebhookVerificationError):
            Webhook(secret).verify(content, forged_headers)
            pytest.fail(f"{name} verified")
    with httpx.Client(trust_env=False) as http:
        for name, (content, forged_headers) in forged.items():
            response = http.post(receiver.url, content=content, headers=forged_headers)
            assert response.status_code == 401, name
    reasons = [why for _received, why in receiver.rejected]
    assert len(reasons) == len(forged)
    assert reasons[-1] == ["Message timestamp too old"]  # signed right, but too late
    receiver.rejected.clear()  # rejected as they should be

    # Signed with the right secret at the current time, the same body verifies.
    assert Webhook(secret).verify(body, signed(secret, now)) == json.loads(body)
    assert Webhook(secret).verify(tampered, signed(secret, now, tampered))["event"] == (
        "article.deleted"
    )


def test_a_hook_with_a_legacy_secret_keeps_its_key_and_the_old_headers(
    client, as_, receiver, run_pass, engine
):
    """Hooks made before the switch hold `whsec_` + URL-safe base64, which is not the spec's
    base64: they sign with the secret's UTF-8 bytes as a raw key (the key the old signature
    used) and still send the `X-Masthead-*` headers their receivers were written for."""
    hook = create_hook(client, as_, receiver)
    legacy = "whsec_" + secrets.token_urlsafe(32)  # how secrets were made before
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE webhooks SET secret = :secret WHERE id = :id"),
            {"secret": legacy, "id": hook["id"]},
        )
    receiver.secrets[:] = [legacy.encode()]  # the libraries' raw-key form
    publish(client, as_, create_article(client, as_)["id"])

    run_pass()

    [request] = receiver.requests
    assert request.verified["event"] == "article.published"
    assert request.headers["webhook-signature"] == standard_signature(legacy.encode(), request)
    timestamp = request.headers["x-masthead-timestamp"]
    assert timestamp == request.headers["webhook-timestamp"]
    assert request.headers["x-masthead-delivery"] == request.headers["webhook-id"]
    assert request.headers["x-masthead-event"] == "article.published"
    expected = hmac.new(
        legacy.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256
    ).hexdigest()
    assert request.headers["x-masthead-signature"] == f"sha256={expected}"
    assert all(is_legacy_secret("whsec_" + secrets.token_urlsafe(32)) for _ in range(200))
    assert not any(is_legacy_secret(new_secret()) for _ in range(200))


def test_each_kind_of_article_change_is_its_own_event(client, as_, receiver, run_pass):
    create_hook(client, as_, receiver)
    article = create_article(client, as_)
    url = f"/v1/admin/articles/{article['id']}"
    run_pass()
    assert receiver.requests == []  # a draft is nobody's business
    published = publish(client, as_, article["id"])
    run_pass()
    response = client.patch(
        url,
        json={"title": "A new headline"},
        headers={**as_("editor"), "If-Match": published.headers["ETag"]},
    )
    assert response.status_code == 200, response.text
    run_pass()
    client.post(f"{url}/unpublish", headers=as_("editor"))
    run_pass()
    publish(client, as_, article["id"])
    run_pass()
    assert client.delete(url, headers=as_("editor")).status_code == 200
    run_pass()

    assert events_of(receiver) == [
        "article.published",
        "article.updated",
        "article.unpublished",
        "article.published",
        "article.deleted",
    ]
    bodies = [json.loads(r.body) for r in receiver.requests]
    assert bodies[1]["data"]["title"] == "A new headline"
    assert bodies[2]["data"] == {"id": article["id"], "slug": article["slug"]}
    assert bodies[4]["data"] == {"id": article["id"], "slug": article["slug"]}


def test_articles_published_before_any_hook_are_updated_not_published_again(
    client, as_, receiver, run_pass, engine
):
    """While no hook listens, passes only remember visibility; a hook created later hears
    `updated`, `unpublished` and `deleted` for those articles, never a second `published`."""
    first = create_article(client, as_, title="First")
    second = create_article(client, as_, title="Second")
    create_article(client, as_, title="Draft")
    etag = publish(client, as_, first["id"]).headers["ETag"]
    publish(client, as_, second["id"])
    run_pass()
    with engine.connect() as connection:
        states = connection.execute(
            text("SELECT was_visible, slug IS NOT NULL, fingerprint FROM webhook_article_state")
        ).all()
    assert sorted(states) == [(False, False, None), (True, True, None), (True, True, None)]

    create_hook(client, as_, receiver)
    response = client.patch(
        f"/v1/admin/articles/{first['id']}",
        json={"title": "First, corrected"},
        headers={**as_("editor"), "If-Match": etag},
    )
    assert response.status_code == 200, response.text
    client.post(f"/v1/admin/articles/{second['id']}/unpublish", headers=as_("editor"))
    run_pass()
    assert sorted(events_of(receiver)) == ["article.unpublished", "article.updated"]
    updated = next(json.loads(r.body) for r in receiver.requests if b"updated" in r.body)
    assert updated["data"]["title"] == "First, corrected"


def test_a_scheduled_article_that_appears_while_no_hook_listens_is_not_published_again(
    client, as_, receiver, run_pass, engine
):
    """The quiet pass also notices scheduled articles whose time came, and drops the state
    of an article that is gone."""
    later = create_article(client, as_, title="Later")
    publish(client, as_, later["id"], at=FIXED_NOW + timedelta(hours=1))
    run_pass()
    run_pass(FIXED_NOW + timedelta(hours=2))  # its time came; no write in between
    with engine.connect() as connection:
        assert connection.execute(
            text("SELECT article_id, was_visible FROM webhook_article_state")
        ).all() == [(later["id"], True)]
    create_hook(client, as_, receiver)
    client.post(f"/v1/admin/articles/{later['id']}/unpublish", headers=as_("editor"))
    run_pass(FIXED_NOW + timedelta(hours=3))
    assert events_of(receiver) == ["article.unpublished"]


def test_a_hook_gets_only_the_events_it_asked_for(client, as_, receiver, run_pass, engine):
    create_hook(client, as_, receiver, events=["tag.changed", "tag.deleted"])
    publish(client, as_, create_article(client, as_)["id"])
    load(engine, bundle(tags=[tag("rights")]))
    run_pass()
    assert events_of(receiver) == ["tag.changed"]
    payload = json.loads(receiver.requests[0].body)
    assert payload["data"]["slug"] == "rights"
    tag_id = payload["data"]["id"]
    assert client.delete(f"/v1/admin/tags/{tag_id}", headers=as_("editor")).status_code == 204
    run_pass()
    assert events_of(receiver) == ["tag.changed", "tag.deleted"]
    assert json.loads(receiver.requests[1].body)["data"] == {"id": tag_id}


def test_subscriber_confirmed_comes_from_the_event_outbox(client, as_, receiver, run_pass, session):
    create_hook(client, as_, receiver, events=["subscriber.confirmed"])
    payload = {"subscriber_id": "s" * 32, "lists": ["weekly"], "confirmed_at": iso(FIXED_NOW)}
    with session.begin():
        emit(session, "subscriber.confirmed", payload, FIXED_NOW)
    run_pass()
    run_pass()
    assert events_of(receiver) == ["subscriber.confirmed"]
    assert json.loads(receiver.requests[0].body)["data"] == payload
    assert session.scalars(select(OutboxEvent.consumed_at)).one() is not None


def test_failing_receiver_is_retried_with_backoff_then_recovers(client, as_, receiver, run_pass):
    hook = create_hook(client, as_, receiver)
    publish(client, as_, create_article(client, as_)["id"])
    receiver.status = 500

    run_pass(FIXED_NOW)
    [failed] = deliveries(client, as_, hook["id"])
    assert (failed["status"], failed["attempts"], failed["last_status_code"]) == ("pending", 1, 500)
    assert failed["last_error"] == "HTTP 500"
    retry_at = client.get(
        f"/v1/admin/webhooks/{hook['id']}/deliveries", headers=as_("admin")
    ).json()["data"][0]["next_attempt_at"]
    first_delay = _seconds_after_now(retry_at)
    assert 30 <= first_delay <= 36  # 30 s plus at most 20 % jitter

    run_pass(FIXED_NOW + timedelta(seconds=29))
    assert len(receiver.requests) == 1  # not due yet
    run_pass(FIXED_NOW + timedelta(seconds=first_delay))
    assert len(receiver.requests) == 2
    [again] = deliveries(client, as_, hook["id"])
    assert (again["status"], again["attempts"]) == ("pending", 2)
    assert _seconds_after_now(again["next_attempt_at"]) - first_delay >= 60  # doubled

    receiver.status = 204
    run_pass(FIXED_NOW + timedelta(hours=1))
    assert len(receiver.requests) == 3
    [done] = deliveries(client, as_, hook["id"])
    assert (done["status"], done["attempts"], done["last_status_code"]) == ("succeeded", 3, 204)
    assert done["last_error"] is None
    ids = {r.headers["webhook-id"] for r in receiver.requests}
    assert ids == {done["id"]}  # retries keep the delivery id
    assert all(r.verified is not None for r in receiver.requests)  # each attempt signed anew
    hook_now = client.get(f"/v1/admin/webhooks/{hook['id']}", headers=as_("admin")).json()["data"]
    assert hook_now["active"] is True and hook_now["consecutive_failures"] == 0


def _seconds_after_now(stamp: str) -> float:

    return (datetime.fromisoformat(stamp.replace("Z", "+00:00")) - FIXED_NOW).total_seconds()


def test_repeated_failure_disables_the_hook_with_the_reason(client, as_, receiver, run_pass):
    hook = create_hook(client, as_, receiver)
    receiver.status = 503
    for title in ("One", "Two"):
        publish(client, as_, create_article(client, as_, title=title)["id"])
    moment = FIXED_NOW
    for _ in range(3):  # webhook_max_attempts = 3, webhook_disable_after = 2
        run_pass(moment)
        moment += timedelta(hours=2)
    assert len(receiver.requests) == 6
    shown = client.get(f"/v1/admin/webhooks/{hook['id']}", headers=as_("admin")).json()["data"]
    assert shown["active"] is False
    assert "2 consecutive failed deliveries" in shown["disabled_reason"]
    assert "HTTP 503" in shown["disabled_reason"]
    assert {d["status"] for d in deliveries(client, as_, hook["id"])} == {"failed"}

    receiver.status = 200
    publish(client, as_, create_article(client, as_, title="Three")["id"])
    run_pass(moment)
    assert len(receiver.requests) == 6  # a disabled hook gets nothing more


def test_nothing_is_lost_across_a_restart(as_, settings, engine):
    port = free_port()
    url = f"http://127.0.0.1:{port}/hooks/masthead"

    first_engine = make_engine(settings)
    first = with_webhooks(create_app(settings, engine=first_engine))
    first.state.clock = lambda: FIXED_NOW
    with TestClient(first) as client, make_client() as http:
        hook = create_hook(client, as_, url)
        publish(client, as_, create_article(client, as_)["id"])

        [outcome] = webhook_pass(first.state.sessionmaker, settings, FIXED_NOW, http)
        assert outcome.status_code is None and "Connect" in (outcome.error or "")
    first_engine.dispose()

    receiver = Receiver(port=port, secrets=[hook["secret"]]).start()
    try:
        second_engine = make_engine(settings)
        second = with_webhooks(create_app(settings, engine=second_engine))
        with TestClient(second) as client, make_client() as http:
            later = FIXED_NOW + timedelta(hours=1)
            webhook_pass(second.state.sessionmaker, settings, later, http)
            webhook_pass(second.state.sessionmaker, settings, later + timedelta(hours=1), http)
            assert events_of(receiver) == ["article.published"]
            second.state.clock = lambda: later
            [log] = deliveries(client, as_, hook["id"])
            assert (log["status"], log["attempts"]) == ("succeeded", 2)
            assert receiver.requests[0].headers["webhook-id"] == log["id"]
        second_engine.dispose()
    finally:
        receiver.stop()
    assert receiver.rejected == []


def test_scheduled_article_fires_published_once_when_its_time_comes(
    client, as_, receiver, run_pass
):
    create_hook(client, as_, receiver)
    article = create_article(client, as_)
    publish_at = FIXED_NOW + timedelta(days=1)
    publish(client, as_, article["id"], at=publish_at)

    run_pass(FIXED_NOW)
    run_pass(FIXED_NOW + timedelta(hours=23))
    assert receiver.requests == []
    run_pass(FIXED_NOW + timedelta(days=1, minutes=1))
    run_pass(FIXED_NOW + timedelta(days=1, minutes=2))
    run_pass(FIXED_NOW + timedelta(days=3))
    assert events_of(receiver) == ["article.published"]
    payload = json.loads(receiver.requests[0].body)
    assert payload["data"]["id"] == article["id"]
    assert payload["occurred_at"] == iso(publish_at)


def test_two_dispatchers_make_each_event_once(client, as_, receiver, settings, engine):
    create_hook(client, as_, receiver)
    create_hook(client, as_, receiver, events=["article.published"])
    for title in ("One", "Two", "Three"):
        publish(client, as_, create_article(client, as_, title=title)["id"])
    scheduled = create_article(client, as_, title="Later")
    publish(client, as_, scheduled["id"], at=FIXED_NOW + timedelta(hours=1))
    engines = [make_engine(settings) for _ in range(2)]
    factories = [make_sessionmaker(e) for e in engines]
    try:
        for moment in (FIXED_NOW, FIXED_NOW + timedelta(hours=2)):
            for _round in range(2):
                barrier = threading.Barrier(2)
                errors: list[BaseException] = []

                def work(factory, moment=moment, barrier=barrier, errors=errors):
                    barrier.wait()
                    try:
                        dispatch_all(factory, settings, moment)
                    except BaseException as exc:  # reported below
                        errors.append(exc)

                threads = [threading.Thread(target=work, args=(f,)) for f in factories]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                assert errors == []
        with factories[0]() as session:
            rows = session.execute(
                select(WebhookDelivery.webhook_id, WebhookDelivery.event, func.count()).group_by(
                    WebhookDelivery.webhook_id, WebhookDelivery.event
                )
            ).all()
    finally:
        for each in engines:
            each.dispose()
    assert sorted(count for _hook, _event, count in rows) == [4, 4]  # 3 now + 1 scheduled


def test_two_senders_deliver_each_delivery_once(client, as_, receiver, settings, run_pass):
    create_hook(client, as_, receiver)
    for title in ("One", "Two", "Three", "Four"):
        publish(client, as_, create_article(client, as_, title=title)["id"])

    engines = [make_engine(settings) for _ in range(2)]
    try:
        with make_client() as http:
            dispatch_all(make_sessionmaker(engines[0]), settings, FIXED_NOW)
            barrier = threading.Barrier(2)

            def work(engine_):
                barrier.wait()
                deliver_due(make_sessionmaker(engine_), settings, FIXED_NOW, http)

            threads = [threading.Thread(target=work, args=(e,)) for e in engines]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    finally:
        for each in engines:
            each.dispose()
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert len(ids) == 4 and len(set(ids)) == 4


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://localhost/x",
        "http://[::1]/",
        "http://10.0.0.1/",
        "http://192.168.1.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
    ],
)
def test_private_targets_are_refused(client, app, as_, url):
    app.state.settings = app.state.settings.model_copy(update={"webhook_allow_private": False})
    response = client.post(
        "/v1/admin/webhooks",
        json={"url": url, "events": ["article.published"]},
        headers=as_("admin"),
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["loc"] == ["body", "url"]


def test_a_private_target_is_refused_again_at_delivery(client, app, as_, receiver, run_pass):
    hook = create_hook(client, as_, receiver)
    publish(client, as_, create_article(client, as_)["id"])
    app.state.settings = app.state.settings.model_copy(update={"webhook_allow_private": False})
    run_pass()
    assert receiver.requests == []
    [log] = deliveries(client, as_, hook["id"])
    assert log["status"] == "pending" and log["last_error"].startswith("refused: 127.0.0.1")


def test_a_redirect_is_a_failure_and_is_not_followed(client, as_, receiver, run_pass):
    hook = create_hook(client, as_, receiver)
    receiver.status = 302
    receiver.location = f"http://127.0.0.1:{receiver.port}/elsewhere"
    publish(client, as_, create_article(client, as_)["id"])
    run_pass()
    assert [r.path for r in receiver.requests] == ["/hooks/masthead"]
    [log] = deliveries(client, as_, hook["id"])
    assert (log["status"], log["last_status_code"]) == ("pending", 302)
    assert "not followed" in log["last_error"]


@pytest.mark.parametrize(
    "body",
    [
        {"url": "https://hooks.example.org/x", "events": ["article.exploded"]},
        {"url": "https://hooks.example.org/x", "events": []},
        {"url": "ftp://hooks.example.org/x", "events": ["article.published"]},
        {"url": "/relative", "events": ["article.published"]},
        {"url": "https://hooks.example.org/x", "events": ["tag.changed"], "secret": "mine"},
    ],
)
def test_bad_input_is_422(client, as_, body):
    response = client.post("/v1/admin/webhooks", json=body, headers=as_("admin"))
    assert response.status_code == 422, response.text


def test_the_secret_is_shown_once(client, as_, receiver):
    hook = create_hook(client, as_, receiver)
    assert hook["secret"].startswith("whsec_") and len(hook["secret"]) > 40
    key = base64.b64decode(hook["secret"].removeprefix("whsec_"), validate=True)
    assert len(key) == 32  # the spec wants 24 to 64 random bytes
    one = client.get(f"/v1/admin/webhooks/{hook['id']}", headers=as_("admin")).json()["data"]
    listed = client.get("/v1/admin/webhooks", headers=as_("admin")).json()["data"]
    assert "secret" not in one and [h["id"] for h in listed] == [hook["id"]]
    assert hook["secret"] not in json.dumps(listed) + json.dumps(one)
    assert one["events"] == ARTICLE_EVENTS and one["active"] is True
    assert create_hook(client, as_, receiver)["secret"] != hook["secret"]  # one per hook


def test_deleted_hook_gets_nothing_and_its_log_goes(client, as_, receiver, run_pass, session):
    hook = create_hook(client, as_, receiver)
    publish(client, as_, create_article(client, as_)["id"])
    dispatch_all(make_sessionmaker(session.get_bind()), client.app.state.settings, FIXED_NOW)
    url = f"/v1/admin/webhooks/{hook['id']}"
    assert client.delete(url, headers=as_("admin")).status_code == 204
    run_pass()
    assert receiver.requests == []
    assert client.get(url, headers=as_("admin")).status_code == 404
    assert client.get(f"{url}/deliveries", headers=as_("admin")).status_code == 404
    assert session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/admin/webhooks"),
        ("GET", "/v1/admin/webhooks"),
        ("GET", "/v1/admin/webhooks/" + "0" * 32),
        ("DELETE", "/v1/admin/webhooks/" + "0" * 32),
        ("GET", "/v1/admin/webhooks/" + "0" * 32 + "/deliveries"),
    ],
)
def test_only_admins_manage_webhooks(client, as_, method, path):
    body = {"url": "https://hooks.example.org/x", "events": ["article.published"]}
    kwargs = {"json": body} if method == "POST" else {}
    assert client.request(method, path, **kwargs).status_code == 401
    for role in ("contributor", "editor", "content"):
        assert client.request(method, path, headers=as_(role), **kwargs).status_code == 403
    assert client.request(method, path, headers=as_("admin"), **kwargs).status_code != 403


def test_webhook_settings_are_read_from_the_environment(engine, monkeypatch):
    monkeypatch.setenv("MASTHEAD_WEBHOOK_ALLOW_PRIVATE", "true")

    assert load_settings().webhook_allow_private is True
    assert webhook_settings(engine).webhook_worker is False


def test_the_background_worker_runs_passes_until_stopped(client, app, as_, receiver):
    create_hook(client, as_, receiver)
    publish(client, as_, create_article(client, as_)["id"])

    async def run_worker_until_delivered() -> None:
        stop = asyncio.Event()
        worker = asyncio.create_task(run_webhook_worker(app, stop))
        arrived = await asyncio.to_thread(receiver.arrived.wait, 30)
        stop.set()
        await asyncio.wait_for(worker, 30)
        assert arrived

    asyncio.run(run_worker_until_delivered())
    assert events_of(receiver) == ["article.published"]

"""Logs an operator can use (issue 13): one access line per request, readable text or JSON;
request ids accepted from trusted proxies or made, echoed in the response, the problem
documents and the log; application events on the same handler; nothing personal logged."""

import io
import json
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.core.logs import MastheadHandler, client_network, redact
from api.core.settings import load_settings
from api.main import create_app
from api.webhooks.worker import webhook_pass
from tests.auth.tokens import bearer
from tests.conftest import FIXED_NOW
from tests.core.problems import assert_problem
from tests.deploy.test_workers import READY_WITHIN_SECONDS, free_port
from tests.factories import article, bundle, load, two_of_each

REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")
CLIENT = "203.0.113.57"
PROXY = "10.1.2.3"
ADDRESS = "Reader.Person@example.org"


def log_stream() -> io.StringIO:
    """Point the process's one log handler (made by the last `create_app`) at a buffer."""
    handlers = [h for h in logging.getLogger().handlers if isinstance(h, MastheadHandler)]
    assert len(handlers) == 1, handlers
    stream = io.StringIO()
    handlers[0].setStream(stream)
    return stream


@pytest.fixture
def make(engine: Any) -> Any:
    """`make(**settings)`: a client on an app with these settings, its log in a buffer."""
    opened: list[TestClient] = []

    def make_app(client: tuple[str, int] = (CLIENT, 50000), **overrides: Any) -> Any:
        settings = load_settings(
            database_url=engine.url.render_as_string(hide_password=False),
            public_url="http://testserver",
            environment="test",
            webhook_worker=False,
            outbox_sender=False,
            **overrides,
        )
        app = create_app(settings, engine=engine)
        app.state.clock = lambda: FIXED_NOW
        test_client = TestClient(app, raise_server_exceptions=False, client=client)
        test_client.__enter__()
        opened.append(test_client)
        return test_client, log_stream()

    yield make_app
    for test_client in opened:
        test_client.__exit__(None, None, None)


def access_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if " masthead.access " in line]


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# --- the access line ---------------------------------------------------------------------


def test_one_readable_access_line_per_request(make, engine):
    load(engine, bundle(**two_of_each(), articles=[article("story", tags=["rights"])]))
    client, log = make()
    first = client.get("/v1/tags/rights")
    second = client.get("/v1/tags/rights")  # from the response cache
    client.head("/healthz")
    lines = access_lines(log.getvalue())
    assert len(lines) == 3, lines
    pattern = re.compile(
        r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO masthead\.access "
        r"(?P<method>[A-Z]+) (?P<route>\S+) (?P<status>\d{3}) [\d.]+ms (?P<bytes>\d+)B "
        r"client=203\.0\.113\.0/24 request_id=(?P<id>[0-9a-f]{32})$"
    )
    parsed = [pattern.match(line) for line in lines]
    assert all(parsed), lines
    assert [(m["method"], m["route"], m["status"]) for m in parsed] == [  # type: ignore[index]
        ("GET", "/v1/tags/{slug}", "200"),
        ("GET", "/v1/tags/{slug}", "200"),
        ("HEAD", "/healthz", "200"),
    ]
    assert parsed[0]["bytes"] == str(len(first.content))  # type: ignore[index]
    assert parsed[2]["bytes"] == "0"  # type: ignore[index]
    assert parsed[1]["id"] == second.headers["x-request-id"]  # type: ignore[index]


def test_json_access_line_has_every_field(make):
    client, log = make(log_format="json")
    response = client.get("/v1/articles/no-such-story")
    [line] = [d for d in json_lines(log.getvalue()) if d["logger"] == "masthead.access"]
    assert line == {
        "time": line["time"],
        "level": "info",
        "logger": "masthead.access",
        "message": line["message"],
        "method": "GET",
        "route": "/v1/articles/{slug}",
        "status": 404,
        "duration_ms": line["duration_ms"],
        "bytes": len(response.content),
        "client": "203.0.113.0/24",
        "request_id": response.headers["x-request-id"],
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0


def test_access_line_never_names_the_path_or_query(make):
    client, log = make()
    client.get("/v1/subscriptions/confirm?token=eyJzIjoiYWJjIn0.secret-part")
    client.get("/v1/preview/some-preview-token-value")
    client.get("/v1/no/such/route?q=private")
    text = log.getvalue()
    for secret in ("secret-part", "some-preview-token-value", "private", "/no/such"):
        assert secret not in text
    routes = [line.split()[4] for line in access_lines(text)]
    assert routes == ["/v1/subscriptions/confirm", "/v1/preview/{token}", "unmatched"]


# --- request ids -------------------------------------------------------------------------


def test_a_request_id_is_made_and_echoed_in_header_and_problem(make):
    client, _log = make()
    response = client.get("/v1/articles/no-such-story")
    body = assert_problem(response, 404)
    assert REQUEST_ID.match(response.headers["x-request-id"])
    assert body["request_id"] == response.headers["x-request-id"]
    other = client.get("/v1/articles/no-such-story")
    assert other.headers["x-request-id"] != response.headers["x-request-id"]


@pytest.mark.parametrize(
    "path", ["/v1/tags?limit=0", "/v1/admin/articles", "/v1/tags?" + "q=x&" * 2000]
)
def test_every_kind_of_problem_names_its_request(make, path):
    """Validation (routed), authentication, and a guard before routing (414)."""
    client, _log = make()
    response = client.get(path)
    assert response.status_code >= 400
    assert response.json()["request_id"] == response.headers["x-request-id"]


def test_x_request_id_of_a_trusted_proxy_is_kept(make):
    client, log = make(client=(PROXY, 50000), trusted_proxies=["10.0.0.0/8"])
    response = client.get("/v1/tags?limit=0", headers={"X-Request-ID": "edge-4f2a.17"})
    assert response.headers["x-request-id"] == "edge-4f2a.17"
    assert response.json()["request_id"] == "edge-4f2a.17"
    assert access_lines(log.getvalue())[0].endswith("request_id=edge-4f2a.17")


@pytest.mark.parametrize("offered", ["a" * 129, "two words", 'quote"d', ""])
def test_a_malformed_request_id_is_replaced(make, offered):
    client, _log = make(client=(PROXY, 50000), trusted_proxies=["10.0.0.0/8"])
    response = client.get("/healthz", headers={"X-Request-ID": offered})
    assert REQUEST_ID.match(response.headers["x-request-id"])


def test_x_request_id_of_anyone_else_is_replaced(make):
    client, _log = make(trusted_proxies=["10.0.0.0/8"])  # the client is not a proxy
    response = client.get("/healthz", headers={"X-Request-ID": "forged-id"})
    assert REQUEST_ID.match(response.headers["x-request-id"])


def test_lines_logged_while_answering_carry_the_request_id(make):
    """Any application line logged during a request names it (here: the busy database's
    warning is simulated by a route's own logger, through the same handler)."""
    client, log = make(log_format="json")
    app = client.app

    @app.get("/test-only-log")
    def logs_a_line() -> dict[str, str]:
        logging.getLogger("masthead.test").warning("something an operator should see")
        return {}

    response = client.get("/test-only-log")
    [line] = [d for d in json_lines(log.getvalue()) if d["logger"] == "masthead.test"]
    assert line["request_id"] == response.headers["x-request-id"]
    assert line["level"] == "warning"


# --- nothing personal --------------------------------------------------------------------


@pytest.fixture
def receiver_app() -> Any:
    """A webhook receiver on the loopback network, answering 204 to everything."""
    received: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(204)

    return received, httpx.MockTransport(answer)


def test_a_representative_run_logs_no_address_token_or_client(make, engine, tokens, receiver_app):
    """Sign-up, admin writes and reads with tokens, failed authentication, an email pass
    and a webhook delivery, at the debug level and in JSON: the log names none of the
    address, the tokens, the webhook secret, the signed links or the client address."""
    from api.subscriptions.outbox import deliver_pending

    client, log = make(log_format="json", log_level="debug", webhook_allow_private=True)
    app = client.app
    received, transport = receiver_app
    editor, admin = bearer(tokens["editor"]), bearer(tokens["admin"])
    signed = client.post(
        "/v1/subscriptions",
        json={"email": ADDRESS, "consent": True, "policy_version": "1", "source": "/"},
    )
    assert signed.status_code == 202
    hook = client.post(
        "/v1/admin/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "events": ["article.published"]},
        headers=admin,
    )
    assert hook.status_code == 201, hook.text
    secret = hook.json()["data"]["secret"]
    created = client.post(
        "/v1/admin/articles",
        json={"title": "Logged Story", "body_html": "<p>Text.</p>"},
        headers=editor,
    )
    assert created.status_code == 201, created.text
    article_id = created.json()["data"]["id"]
    published = client.post(f"/v1/admin/articles/{article_id}/publish", headers=editor)
    assert published.status_code == 200, published.text
    assert client.get("/v1/admin/subscribers", headers=admin).status_code == 200
    assert client.get("/v1/admin/articles", headers=bearer(tokens["bad"])).status_code == 401
    assert client.get("/v1/admin/articles", headers=bearer(tokens["revoked"])).status_code == 401
    import asyncio

    asyncio.run(deliver_pending(app.state.sessionmaker, app.state.settings, lambda: FIXED_NOW))
    with httpx.Client(transport=transport) as http:
        outcomes = webhook_pass(app.state.sessionmaker, app.state.settings, FIXED_NOW, http)
    assert outcomes and all(o.succeeded for o in outcomes), outcomes
    assert received

    text = log.getvalue()
    lines = json_lines(text)  # every line is JSON
    secrets = [ADDRESS, ADDRESS.lower(), "example.org", secret, CLIENT, *tokens.values()]
    for value in secrets:
        assert value not in text, value
    assert "eyJ" not in text  # no signed link token
    messages = [d["message"] for d in lines]
    assert any(m.startswith("webhook delivery ") and "HTTP 204" in m for m in messages), messages
    assert any(m.startswith("event article.published") for m in messages), messages
    access = [d for d in lines if d["logger"] == "masthead.access"]
    assert len(access) == 7
    assert {d["client"] for d in access} == {"203.0.113.0/24"}
    assert any(d["status"] == 401 for d in access)


def test_redact_hides_addresses_and_secrets():
    text = "550 <Someone@Example.COM> refused; token mh_abcdefgh12345678 whsec_QUJDREVGR0g="
    assert redact(text) == "550 <<email>> refused; token <secret> <secret>"


@pytest.mark.parametrize(
    ("host", "network"),
    [
        ("203.0.113.57", "203.0.113.0/24"),
        ("2001:db8:1234:5678::1", "2001:db8:1234::/48"),
        ("testclient", None),
        (None, None),
    ],
)
def test_client_addresses_are_cut_to_their_network(host, network):
    assert client_network(host) == network


INNER_TESTS = """
import logging


def test_logs_an_address():
    logging.getLogger("masthead.inner").warning("sent to someone@example.org")


def test_logs_a_client():
    logging.getLogger("masthead.inner").warning("from 198.51.100.23")


def test_logs_a_network():
    logging.getLogger("masthead.inner").warning("from 198.51.100.0/24 via 127.0.0.1")
"""


def test_the_log_check_fails_the_test_that_logged_personal_data(pytester, monkeypatch):
    """The suite's own check (tests/log_leaks.py), in a pytest run of its own."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    monkeypatch.setenv("PYTHONPATH", root)
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makepyfile(test_inner=INNER_TESTS)
    result = pytester.runpytest_subprocess("-p", "tests.log_leaks", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*Personal data or secrets were logged:*",
            "*masthead.inner WARNING: email in 'sent to someone@example.org'*",
            "*masthead.inner WARNING: address in 'from 198.51.100.23'*",
            "FAILED test_inner.py::test_logs_an_address*",
            "FAILED test_inner.py::test_logs_a_client*",
        ],
        consecutive=False,
    )


# --- a real server -----------------------------------------------------------------------


@pytest.fixture
def live_server(engine: Any) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`masthead serve` in JSON logging, with the loopback address as a trusted proxy."""
    port = free_port()
    env = {
        **os.environ,
        "MASTHEAD_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "MASTHEAD_LOG_FORMAT": "json",
        "MASTHEAD_LOG_LEVEL": "info",
        "MASTHEAD_TRUSTED_PROXIES": "127.0.0.1",
        "MASTHEAD_CORS_ORIGINS": "https://app.example",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--no-demo", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + READY_WITHIN_SECONDS
    try:
        while True:
            assert process.poll() is None, "the server stopped"
            try:
                httpx.head(f"{base}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        yield base, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_a_real_server_logs_one_json_line_per_request(live_server):
    base, process = live_server
    head = httpx.head(f"{base}/healthz")
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(httpx.get(f"{base}/healthz").content)
    preflight = httpx.options(
        f"{base}/v1/articles",
        headers={"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    tagged = httpx.get(f"{base}/v1/tags?limit=0", headers={"X-Request-ID": "proxy-id-1"})
    assert tagged.json()["request_id"] == "proxy-id-1"
    process.terminate()
    process.wait(timeout=10)
    assert process.stderr is not None
    text = process.stderr.read().decode()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    access = [d for d in lines if d["logger"] == "masthead.access"]
    # The readiness probes of the fixture are HEADs too; the test's own four follow them.
    assert [(d["method"], d["route"], d["status"]) for d in access[-4:]] == [
        ("HEAD", "/healthz", 200),
        ("GET", "/healthz", 200),
        ("OPTIONS", "/v1/articles", 204),
        ("GET", "/v1/tags", 422),
    ]
    assert access[-1]["request_id"] == "proxy-id-1"
    assert access[-1]["client"] == "127.0.0.0/24"
    assert "HTTP/1.1" not in text  # uvicorn's own access log is off
    assert any(d["logger"].startswith("uvicorn") for d in lines)  # its other lines are ours
    assert any(d["message"].startswith("worker started") for d in lines)

"""Sign-up rate limits (memory and Redis) and the client address they count against."""

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request

from api.core.ratelimits import RedisCounter, client_address, client_network
from api.core.settings import Settings
from api.main import create_app
from tests.conftest import FIXED_NOW
from tests.subscriptions.conftest import CLIENT_ADDRESS, signup

LIMITS = {
    "subscription_limit_per_email": 2,
    "subscription_limit_per_address": 3,
    "subscription_limit_window": 3600,
}


def redis_available() -> bool:
    try:
        import redis

        return bool(redis.Redis(host="127.0.0.1", port=6379, socket_timeout=1).ping())
    except Exception:
        return False


@pytest.fixture(params=["memory", "redis"])
def limited_client(
    request: pytest.FixtureRequest, settings: Settings, engine: Any
) -> Iterator[TestClient]:
    update: dict[str, Any] = dict(LIMITS)
    if request.param == "redis":
        if not redis_available():
            pytest.skip("no Redis on 127.0.0.1:6379")
        update |= {
            "redis_url": "redis://127.0.0.1:6379/0",
            "rate_limit_prefix": f"masthead-test:{uuid.uuid4().hex}",
        }
    app = create_app(settings.model_copy(update=update), engine=engine)
    app.state.clock = lambda: FIXED_NOW
    with TestClient(app, raise_server_exceptions=False, client=(CLIENT_ADDRESS, 1)) as client:
        yield client
    if request.param == "redis":
        counter = app.state.signup_limiter.counter
        assert isinstance(counter, RedisCounter)
        for key in counter._redis.scan_iter(f"{update['rate_limit_prefix']}:*"):
            counter._redis.delete(key)


def test_too_many_signups_for_one_email_is_429(limited_client: TestClient) -> None:
    for _ in range(2):
        assert signup(limited_client, "reader@example.com").status_code == 202
    response = signup(limited_client, "reader@example.com")
    assert response.status_code == 429
    assert response.headers["content-type"] == "application/problem+json"
    # FIXED_NOW is 12:00:00, so the hour window ends in exactly one hour.
    assert response.headers["retry-after"] == "3600"


def test_case_variants_of_an_email_share_its_limit(limited_client: TestClient) -> None:
    assert signup(limited_client, "Reader@Example.com").status_code == 202
    assert signup(limited_client, "READER@example.com").status_code == 202
    assert signup(limited_client, "reader@example.com").status_code == 429


def test_too_many_signups_from_one_address_is_429(limited_client: TestClient) -> None:
    for n in range(3):
        assert signup(limited_client, f"reader{n}@example.com").status_code == 202
    response = signup(limited_client, "other@example.com")
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0


def test_redis_counters_are_shared_between_workers(settings: Settings, engine: Any) -> None:
    if not redis_available():
        pytest.skip("no Redis on 127.0.0.1:6379")
    shared = settings.model_copy(
        update=LIMITS
        | {
            "redis_url": "redis://127.0.0.1:6379/0",
            "rate_limit_prefix": f"masthead-test:{uuid.uuid4().hex}",
        }
    )
    workers = [create_app(shared, engine=engine) for _ in range(2)]
    answers = []
    for n in range(3):
        worker = workers[n % 2]
        worker.state.clock = lambda: FIXED_NOW
        with TestClient(worker, raise_server_exceptions=False) as client:
            answers.append(signup(client, "reader@example.com").status_code)
    assert answers == [202, 202, 429]


def request_from(peer: str, forwarded: str | None = None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    scope = {"type": "http", "headers": headers, "client": (peer, 1234), "method": "POST"}
    return Request(scope)


def test_forwarded_for_is_ignored_from_untrusted_peers() -> None:
    request = request_from("198.51.100.9", "203.0.113.5")
    assert client_address(request, []) == "198.51.100.9"
    assert client_address(request, ["10.0.0.0/8"]) == "198.51.100.9"


def test_forwarded_for_is_honoured_from_trusted_proxies() -> None:
    trusted = ["10.0.0.0/8"]
    assert client_address(request_from("10.0.0.2", "203.0.113.5"), trusted) == "203.0.113.5"
    # A client cannot spoof its address by sending its own X-Forwarded-For first.
    spoofed = request_from("10.0.0.2", "1.2.3.4, 203.0.113.5, 10.0.0.3")
    assert client_address(spoofed, trusted) == "203.0.113.5"


def test_client_address_is_kept_only_as_its_network() -> None:
    assert client_network("203.0.113.77") == "203.0.113.0/24"
    assert client_network("2001:db8:abcd:12::1") == "2001:db8:abcd::/48"
    assert client_network("testclient") is None

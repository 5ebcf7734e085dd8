"""The demo publication (as `masthead serve` loads it) behind an app with a public URL and
the example page, on the real clock (the demo's dates are real ones)."""

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.cli import load_demo_if_empty
from api.core.settings import Settings
from api.main import create_app

OWN = "https://news.example"
# What the tests' reader connects from, as a trusted proxy reports it: it must never be
# stored whole (tests/privacy/test_addresses.py).
READER_IPV4 = "198.51.100.77"
READER_IPV6 = "2001:db8:7:1:0:0:0:77"
PROXY = ("127.0.0.1", 50000)


@pytest.fixture
def demo_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "public_url": OWN,
            "examples": True,
            "trusted_proxies": ["127.0.0.1/32"],
            "webhook_allow_private": True,
        }
    )


@pytest.fixture
def demo_app(demo_settings: Settings, engine: Any) -> Any:
    assert load_demo_if_empty(demo_settings)
    return create_app(demo_settings, engine=engine)


@pytest.fixture
def demo_client(demo_app: Any) -> Iterator[TestClient]:
    with TestClient(demo_app, base_url=OWN, raise_server_exceptions=False, client=PROXY) as client:
        yield client

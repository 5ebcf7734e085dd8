"""Without MASTHEAD_SMTP_URL, development shows every email on the console (so a double
opt-in can be finished locally), the one place an address appears; elsewhere nothing is
shown or logged, and production refuses to start while it takes sign-ups."""

import re
from typing import Any

import pytest

from api.core.settings import load_settings
from api.subscriptions.models import OutboxMessage
from api.subscriptions.outbox import refuse_to_lose_mail
from tests.subscriptions.conftest import deliver, signup
from tests.subscriptions.test_signup import rows

ADDRESS = "reader@example.com"


def without_smtp(app: Any, environment: str) -> None:
    app.state.settings = app.state.settings.model_copy(
        update={"smtp_url": None, "environment": environment}
    )


def test_in_development_the_email_is_shown_and_its_link_confirms(
    app, client, engine, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
):
    without_smtp(app, "development")
    assert signup(client, ADDRESS).status_code == 202
    with caplog.at_level("DEBUG"):
        assert deliver(app) == 1
    shown = capsys.readouterr().out
    assert f"To: {ADDRESS}" in shown
    assert "Subject: Please confirm your subscription" in shown
    confirm = re.search(r"http://testserver(/v1/subscriptions/confirm\?token=\S+)", shown)
    unsubscribe = re.search(r"Unsubscribe: http://testserver(/v1/subscriptions/unsub\S+)", shown)
    assert confirm and unsubscribe, shown
    assert client.get(confirm.group(1)).status_code == 200
    assert [s.status for s in rows(engine, OutboxMessage)] == ["sent"]
    assert ADDRESS not in caplog.text


@pytest.mark.parametrize("environment", ["test", "production"])
def test_outside_development_nothing_shows_the_address(
    app, client, engine, environment, capsys, caplog: pytest.LogCaptureFixture
):
    without_smtp(app, environment)
    assert signup(client, ADDRESS).status_code == 202
    with caplog.at_level("DEBUG"):
        deliver(app)
    assert capsys.readouterr().out == ""
    assert ADDRESS not in caplog.text
    assert "MASTHEAD_SMTP_URL is not set" in caplog.text


def production(**overrides: Any) -> Any:
    return load_settings(
        environment="production", secret_key="a-production-secret-of-some-length", **overrides
    )


def test_production_without_smtp_refuses_while_sign_ups_are_on():
    problem = refuse_to_lose_mail(production())
    assert problem is not None and "\n" not in problem
    assert "MASTHEAD_SMTP_URL" in problem and "MASTHEAD_SIGNUPS_ENABLED=false" in problem
    assert refuse_to_lose_mail(production(signups_enabled=False)) is None
    assert refuse_to_lose_mail(production(smtp_url="smtp://mail.example:25")) is None
    assert refuse_to_lose_mail(load_settings(environment="development")) is None


def test_sign_ups_switched_off_are_a_404_and_store_nothing(app, client, engine):
    app.state.settings = app.state.settings.model_copy(update={"signups_enabled": False})
    response = signup(client, ADDRESS)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert rows(engine, OutboxMessage) == []

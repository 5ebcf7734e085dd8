"""Tokens of every kind, made through the real token service, for admin API tests (a plugin
of the root conftest, so every test module can ask for `tokens` and `as_`)."""

from datetime import timedelta
from typing import Any

import pytest

from api.auth.models import Role
from api.auth.service import issue_token, revoke_token
from api.core.db import make_sessionmaker
from tests.conftest import FIXED_NOW


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def tokens(engine: Any) -> dict[str, str]:
    """name -> token: one per role, plus a revoked and an expired editor token."""
    made: dict[str, str] = {}
    with make_sessionmaker(engine)() as session, session.begin():
        for role in Role:
            _row, made[role.value] = issue_token(session, name=role.value, role=role, now=FIXED_NOW)
        _row, made["contributor2"] = issue_token(
            session, name="contributor2", role=Role.contributor, now=FIXED_NOW
        )
        row, made["revoked"] = issue_token(session, name="revoked", role=Role.admin, now=FIXED_NOW)
        revoke_token(session, row, FIXED_NOW)
        _row, made["expired"] = issue_token(
            session,
            name="expired",
            role=Role.admin,
            now=FIXED_NOW - timedelta(days=2),
            expires_at=FIXED_NOW - timedelta(seconds=1),
        )
    made["bad"] = "mh_" + "x" * 43
    return made


@pytest.fixture
def as_(tokens: dict[str, str]) -> Any:
    """`as_("editor")`: the headers to call the admin API with that token."""
    return lambda name: bearer(tokens[name])

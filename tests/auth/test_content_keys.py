from typing import Any

import pytest
from sqlalchemy import select

from api.auth.models import ApiToken
from api.main import create_app
from tests.conftest import FIXED_NOW
from tests.factories import article, bundle, load


@pytest.fixture
def keyed_client(settings: Any, engine: Any) -> Any:
    from fastapi.testclient import TestClient

    app = create_app(settings.model_copy(update={"content_keys_required": True}), engine=engine)
    app.state.clock = lambda: FIXED_NOW
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_public_api_needs_a_content_key_when_required(keyed_client, tokens, session, engine):
    load(engine, bundle(articles=[article("story")]))
    response = keyed_client.get("/v1/articles")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert keyed_client.get("/v1/articles?key=mh_wrong").status_code == 401
    assert keyed_client.get(f"/v1/articles?key={tokens['editor']}").status_code == 401
    assert keyed_client.get(f"/v1/articles?key={tokens['revoked']}").status_code == 401
    assert keyed_client.get(f"/v1/articles?key={tokens['content']}").status_code == 200
    assert (
        keyed_client.get(
            "/v1/articles/story", headers={"X-Masthead-Key": tokens["content"]}
        ).status_code
        == 200
    )
    assert keyed_client.get("/healthz").status_code == 200
    uses = session.scalar(select(ApiToken.use_count).where(ApiToken.name == "content"))
    assert uses == 2


def test_public_api_is_open_when_keys_are_not_required(client, engine):
    load(engine, bundle(articles=[article("story")]))
    assert client.get("/v1/articles").status_code == 200


def test_content_key_is_refused_on_admin_routes(keyed_client, tokens):
    headers = {"Authorization": f"Bearer {tokens['content']}", "X-Masthead-Key": tokens["content"]}
    assert keyed_client.get("/v1/admin/articles", headers=headers).status_code == 403

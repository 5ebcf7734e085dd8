"""Every slug is non-empty `[a-z0-9-]+`, whatever the name; concurrent saves naming the same
new tag all succeed on one tag row; what the admin API accepts, the importer accepts."""

import asyncio
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from api.bundle.exporting import export_bundle
from api.core import migrations
from api.core.db import make_engine, make_sessionmaker
from api.core.settings import load_settings
from api.main import create_app
from tests.conftest import FIXED_NOW, empty_all_tables, fresh_database
from tests.factories import load

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def test_a_name_without_letters_still_gets_a_slug_and_no_broken_hashtag(
    client: Any, as_: Any
) -> None:
    editor = as_("editor")
    boom = client.post("/v1/admin/tags", json={"name": "💥"}, headers=editor)
    assert boom.status_code == 201, boom.text
    tag = boom.json()["data"]
    assert SLUG.match(tag["slug"]), tag
    assert tag["hashtag"] is None
    other = client.post("/v1/admin/tags", json={"name": "🔥"}, headers=editor)
    assert other.status_code == 201, other.text
    assert other.json()["data"]["slug"] != tag["slug"]
    # The same name makes the same slug, so it is taken, not silently duplicated.
    assert client.post("/v1/admin/tags", json={"name": "💥"}, headers=editor).status_code == 409
    article = client.post(
        "/v1/admin/articles",
        json={"title": "???", "body_html": "<p>x</p>", "tags": ["💥", "🌈"]},
        headers=editor,
    )
    assert article.status_code == 201, article.text
    data = article.json()["data"]
    assert SLUG.match(data["slug"]), data["slug"]
    assert data["tags"][0]["slug"] == tag["slug"]
    assert all(SLUG.match(t["slug"]) for t in data["tags"])


def test_concurrent_saves_naming_the_same_new_tag_all_succeed(app: Any, as_: Any) -> None:
    editor = as_("editor")

    async def create_all() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return await asyncio.gather(
                *(
                    http.post(
                        "/v1/admin/articles",
                        json={"title": f"Story {n}", "body_html": "<p>x</p>", "tags": ["Hot"]},
                        headers=editor,
                    )
                    for n in range(8)
                )
            )

    responses = asyncio.run(create_all())
    statuses = sorted(r.status_code for r in responses)
    # Each either wins or is told to retry; none fails, none makes a second tag.
    assert set(statuses) <= {201, 503}, [r.text for r in responses if r.status_code != 201]
    assert statuses.count(201) >= 1
    tag_ids = {t["id"] for r in responses if r.status_code == 201 for t in r.json()["data"]["tags"]}
    assert len(tag_ids) == 1


@pytest.fixture
def empty_engine(backend: str, tmp_path: Any) -> Iterator[Engine]:
    """A second, migrated database: where exported bundles are imported."""
    with fresh_database(backend, tmp_path) as url:
        engine = make_engine(load_settings(database_url=url))
        migrations.upgrade(engine)
        yield engine
        engine.dispose()


names = st.text(min_size=1, max_size=24).filter(lambda s: s.strip() and "\x00" not in s)


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(tag_names=st.lists(names, min_size=1, max_size=4), titles=st.lists(names, max_size=3))
def test_what_the_admin_api_accepts_the_importer_accepts(
    client: Any,
    as_: Any,
    engine: Engine,
    empty_engine: Engine,
    settings: Any,
    tag_names: list[str],
    titles: list[str],
) -> None:
    editor = as_("editor")
    for name in tag_names:
        client.post("/v1/admin/tags", json={"name": name}, headers=editor)
    for title in titles:
        created = client.post(
            "/v1/admin/articles",
            json={"title": title, "body_html": "<p>Body.</p>", "tags": tag_names[:2]},
            headers=editor,
        )
        assert created.status_code in (201, 409), created.text
        if created.status_code == 201:
            article_id = created.json()["data"]["id"]
            client.post(f"/v1/admin/articles/{article_id}/publish", headers=editor)
    with make_sessionmaker(engine)() as session:
        bundle = export_bundle(session)
    empty_all_tables(empty_engine)
    load(empty_engine, bundle)
    restored = create_app(
        settings.model_copy(update={"response_cache": False}), engine=empty_engine
    )
    restored.state.clock = lambda: FIXED_NOW
    with TestClient(restored, raise_server_exceptions=False) as other:
        for path in ("/v1/articles?limit=100", "/v1/tags?limit=100", "/v1/search?q=body"):
            assert other.get(path).json() == client.get(path).json(), path


def test_two_first_saves_of_an_imported_article_cannot_both_win(
    app: Any, engine: Engine, as_: Any
) -> None:
    """An imported article has no version row yet: of two saves from its first ETag, one
    wins and the other is a 412 (the insert of the version row decides, by RETURNING)."""
    from tests.factories import article, bundle

    load(engine, bundle(articles=[article("imported")]))
    editor = as_("editor")

    async def two_saves() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            listed = (await http.get("/v1/admin/articles", headers=editor)).json()["data"]
            path = f"/v1/admin/articles/{listed[0]['id']}"
            etag = (await http.get(path, headers=editor)).headers["etag"]
            return await asyncio.gather(
                *(
                    http.patch(path, json={"title": title}, headers={**editor, "If-Match": etag})
                    for title in ("One", "Two")
                )
            )

    statuses = sorted(r.status_code for r in asyncio.run(two_saves()))
    assert statuses == [200, 412]

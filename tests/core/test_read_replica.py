"""MASTHEAD_READ_DATABASE_URL: public reads go to the replica only while it has caught up
with the primary's content version; everything else always goes to the primary.

A second database stands in for the replica. Real streaming replication copies the
version row along with the content; here the test sets it, and gives the replica's copy of
the article another title so each answer shows which database it came from."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.auth.models import Role
from api.auth.service import issue_token
from api.core import migrations
from api.core.db import content_version, make_engine, make_sessionmaker
from api.core.settings import load_settings
from api.main import create_app
from tests.conftest import FIXED_NOW, empty_all_tables, fresh_database
from tests.factories import article, bundle, load, tag


@pytest.fixture(scope="module")
def replica_database(backend, tmp_path_factory):
    with fresh_database(backend, tmp_path_factory.mktemp("replica")) as url:
        engine = make_engine(load_settings(database_url=url))
        migrations.upgrade(engine)
        yield engine
        engine.dispose()


@pytest.fixture
def replica(replica_database):
    empty_all_tables(replica_database)
    return replica_database


def version(engine):
    with engine.connect() as connection:
        return content_version(connection)


def catch_up(replica, primary):
    with replica.begin() as connection:
        connection.execute(
            text("UPDATE content_version SET version = :v WHERE id = 1"), {"v": version(primary)}
        )


def client_for(primary, replica, *, cache):
    settings = load_settings(
        database_url=primary.url.render_as_string(hide_password=False),
        read_database_url=replica.url.render_as_string(hide_password=False),
        public_url="http://testserver",
        response_cache=cache,
        webhook_worker=False,
    )
    app = create_app(settings, engine=primary)
    app.state.clock = lambda: FIXED_NOW
    return TestClient(app)


def title(client):
    response = client.get("/v1/articles/story")
    assert response.status_code == 200
    return response.json()["data"]["title"]


@pytest.mark.parametrize("cache", [False, True])
def test_public_reads_use_the_replica_only_when_it_has_caught_up(engine, replica, cache):
    load(engine, bundle(articles=[article("story", title="From the primary")]))
    load(replica, bundle(articles=[article("story", title="From the replica")]))
    catch_up(replica, engine)
    client = client_for(engine, replica, cache=cache)
    assert title(client) == "From the replica"

    load(engine, bundle(tags=[tag("new")]))  # the primary moves on; the replica lags
    assert version(replica) < version(engine)
    assert title(client) == "From the primary"
    assert [t["slug"] for t in client.get("/v1/tags").json()["data"]] == ["new"]

    catch_up(replica, engine)
    # A cached answer of the current version stays valid, wherever it was read from.
    assert title(client) == ("From the primary" if cache else "From the replica")


def test_a_replica_that_is_away_is_not_used(engine, replica):
    load(engine, bundle(articles=[article("story", title="From the primary")]))
    settings = load_settings(
        database_url=engine.url.render_as_string(hide_password=False),
        read_database_url="postgresql+psycopg://nobody@127.0.0.1:1/none",
        public_url="http://testserver",
        webhook_worker=False,
    )
    app = create_app(settings, engine=engine)
    app.state.clock = lambda: FIXED_NOW
    assert title(TestClient(app)) == "From the primary"


def test_admin_reads_never_use_the_replica(engine, replica):
    load(engine, bundle(articles=[article("story", title="From the primary")]))
    load(replica, bundle(articles=[article("story", title="From the replica")]))
    with make_sessionmaker(engine)() as session, session.begin():
        _row, token = issue_token(session, name="ed", role=Role.editor, now=FIXED_NOW)
    catch_up(replica, engine)
    client = client_for(engine, replica, cache=False)
    response = client.get("/v1/admin/articles", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert [a["title"] for a in response.json()["data"]] == ["From the primary"]

"""Search answers alike on SQLite and PostgreSQL: accents are folded, snippets come from the
article's prose only, and an exported then imported database ranks and scores the same."""

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.bundle.exporting import export_bundle
from api.core import migrations
from api.core.db import make_engine, make_sessionmaker
from api.core.settings import Settings, load_settings
from api.main import create_app
from tests.conftest import FIXED_NOW, fresh_database
from tests.factories import article, bundle, load, tag


def search(client: TestClient, q: str, **params: Any) -> dict[str, Any]:
    response = client.get("/v1/search", params={"q": q, "limit": 100, **params})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def hits(client: TestClient, q: str) -> dict[str, dict[str, Any]]:
    return {hit["slug"]: hit for hit in search(client, q)["data"]}


def filtered(client: TestClient, q: str) -> set[str]:
    response = client.get("/v1/articles", params={"q": q, "limit": 100})
    assert response.status_code == 200, response.text
    return {item["slug"] for item in response.json()["data"]}


# --- accents ----------------------------------------------------------------------------------


@pytest.fixture
def cafes(engine: Engine) -> None:
    load(
        engine,
        bundle(
            tags=[tag("seoul", name="Séoul")],
            articles=[
                article("accented", title="Café society", body_html="<p>Tea and talk.</p>"),
                article("plain", title="Cafe culture", body_html="<p>Coffee and talk.</p>"),
                article(
                    "body-accent",
                    title="Letters",
                    subtitle="From Zürich",
                    body_html="<p>A naïve résumé arrived from Zürich.</p>",
                ),
                article("tagged", title="Dispatch", tags=["seoul"], body_html="<p>News.</p>"),
            ],
        ),
    )


ACCENTS = {
    "cafe": {"accented", "plain"},
    "café": {"accented", "plain"},
    "CAFÉ": {"accented", "plain"},
    "caf*": {"accented", "plain"},
    "café*": {"accented", "plain"},
    '"cafe society"': {"accented"},
    '"café culture"': {"plain"},
    "zurich": {"body-accent"},
    "zürich": {"body-accent"},
    "naive resume": {"body-accent"},
    "resume -zürich": set(),
    "seoul": {"tagged"},
    "séoul": {"tagged"},
}


@pytest.mark.parametrize(("q", "expected"), ACCENTS.items(), ids=ACCENTS.keys())
def test_accents_are_ignored_on_both_backends(client, cafes, q, expected):
    assert set(hits(client, q)) == expected
    assert filtered(client, q) == expected


def test_an_unaccented_query_marks_the_accented_word_as_written(client, cafes):
    found = hits(client, "cafe")
    assert "<mark>Café</mark>" in found["accented"]["snippet"]
    assert "<mark>Cafe</mark>" in found["plain"]["snippet"]
    assert "<mark>Zürich</mark>" in hits(client, "zurich")["body-accent"]["snippet"]
    assert "<mark>Cafe</mark>" in hits(client, "café")["plain"]["snippet"]


def test_accented_and_plain_spellings_score_alike(client, cafes):
    plain = {slug: hit["score"] for slug, hit in hits(client, "cafe").items()}
    accented = {slug: hit["score"] for slug, hit in hits(client, "café").items()}
    assert plain == accented


# --- snippets come from the prose -------------------------------------------------------------


@pytest.fixture
def tagged(engine: Engine) -> None:
    load(
        engine,
        bundle(
            tags=[tag("lgbt-rights", name="LGBT rights", hashtag="#StopThePurge")],
            articles=[
                article(
                    "hashtag",
                    title="Persecution continues",
                    subtitle="A report from the region",
                    tags=["lgbt-rights"],
                    body_html="<p>Activists count the arrests in a crackdown.</p>",
                ),
                article(
                    "no-body",
                    title="Short item",
                    tags=["lgbt-rights"],
                    body_html="",
                ),
            ],
        ),
    )


TAG_TEXT = ("purge", "stopthepurge", "lgbt", "rights")


@pytest.mark.parametrize("q", ["purge", "StopThePurge", "#StopThePurge", "lgbt", "lgbt-rights"])
def test_a_tag_only_match_has_a_snippet_from_the_prose(client, tagged, q):
    found = hits(client, q)
    assert set(found) == {"hashtag", "no-body"}
    for slug, prose in (("hashtag", "Activists count"), ("no-body", "Short item")):
        snippet = found[slug]["snippet"]
        assert prose in snippet, snippet
        assert "<mark>" not in snippet, snippet
        assert not any(word in snippet.lower() for word in TAG_TEXT), snippet


def test_a_prose_match_next_to_a_tag_match_marks_only_the_prose(client, tagged):
    snippet = hits(client, "arrests purge")["hashtag"]["snippet"]
    assert "<mark>arrests</mark>" in snippet
    assert snippet.count("<mark>") == 1
    assert not any(word in snippet.lower() for word in TAG_TEXT), snippet


def test_the_subtitle_is_prose_too(client, tagged):
    snippet = hits(client, "region")["hashtag"]["snippet"]
    assert "<mark>region</mark>" in snippet


# --- export, then import: the same answers ----------------------------------------------------


@pytest.fixture
def empty_engine(backend: str, tmp_path: Any) -> Iterator[Engine]:
    """A second, migrated database: where the exported bundle is imported."""
    with fresh_database(backend, tmp_path) as url:
        engine = make_engine(load_settings(database_url=url))
        migrations.upgrade(engine)
        yield engine
        engine.dispose()


def restored_client(settings: Settings, engine: Engine) -> TestClient:
    app = create_app(settings.model_copy(update={"response_cache": False}), engine=engine)
    app.state.clock = lambda: FIXED_NOW
    return TestClient(app, raise_server_exceptions=False)


QUERIES = [
    "zeppelin",
    "zeppelin city",
    "zepp*",
    "cafe",
    "purge",
    "harbour OR zeppelin",
    '"over the city"',
    "zeppelin -harbour",
    "rights",
    "storm",
]


def test_export_then_import_gives_identical_search_answers(
    uncached_client, as_, engine, empty_engine, settings
):
    # Some content by import, then admin writes over it: edits, new tags, a renamed tag, a
    # deletion and an unpublished article, each reindexed by the admin path.
    load(
        engine,
        bundle(
            tags=[tag("rights", name="Rights", hashtag="#StopThePurge")],
            articles=[
                article(
                    f"imported-{n}",
                    title=f"Zeppelin report {n}",
                    tags=["rights"] if n % 2 else [],
                    body_html="<p>" + "A zeppelin over the city. " * (n + 1) + "</p>",
                )
                for n in range(4)
            ],
        ),
    )
    client, editor = uncached_client, as_("editor")

    def write(method: str, path: str, **body: Any) -> dict[str, Any]:
        headers = dict(editor)
        if method in ("PATCH", "DELETE"):
            headers["If-Match"] = client.get(path, headers=editor).headers["etag"]
        response = client.request(method, path, json=body or None, headers=headers)
        assert response.status_code in (200, 201), response.text
        return response.json()["data"]  # type: ignore[no-any-return]

    made = []
    for n, (title, tags) in enumerate(
        [
            ("Café by the harbour", ["Harbour life", "Rights"]),
            ("Zeppelin over the harbour", ["Harbour life"]),
            # Deleted below, then reindexed by the tag's rename: it must stay out of the index.
            ("Storm warning", ["Harbour life"]),
            ("Zeppelin storm", ["Weather"]),
        ]
    ):
        created = write(
            "POST",
            "/v1/admin/articles",
            title=title,
            subtitle=f"Dispatch {n}",
            body_html=f"<p>The zeppelin and the storm, part {n}. Café talk.</p>",
            tags=tags,
        )
        write("POST", f"/v1/admin/articles/{created['id']}/publish")
        made.append(created)
    write("PATCH", f"/v1/admin/articles/{made[0]['id']}", body_html="<p>Zeppelin city.</p>")
    write("DELETE", f"/v1/admin/articles/{made[2]['id']}")
    write("POST", f"/v1/admin/articles/{made[3]['id']}/unpublish")
    harbour = next(t for t in made[1]["tags"] if t["name"] == "Harbour life")
    write("PATCH", f"/v1/admin/tags/{harbour['id']}", name="Harbour storm")

    with make_sessionmaker(engine)() as session:
        exported = export_bundle(session)
    load(empty_engine, exported)
    with restored_client(settings, empty_engine) as other:
        for q in QUERIES:
            for params in ({}, {"count": "true", "limit": 2}):
                here, there = search(client, q, **params), search(other, q, **params)
                assert here["data"], q
                assert there == here, (q, params)

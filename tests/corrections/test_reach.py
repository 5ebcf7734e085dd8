"""A correction reaches every way an article travels: feeds (re-sent with the note), delta
sync (the article re-sent), and the content bundle (exported, imported, old bundles fine)."""

import copy
from datetime import timedelta

import feedparser
import pytest

from tests.conftest import FIXED_NOW, empty_all_tables
from tests.corrections.test_corrections import article_id, correct, public, seed
from tests.factories import article, bundle, iso, load, tag

FEEDS = ["/feeds/rss.xml", "/feeds/atom.xml"]
LATER = FIXED_NOW + timedelta(hours=3)


def three_stories(engine):
    seed(
        engine,
        article("newest", days_ago=1, tags=["rights"]),
        article("middle", days_ago=2),
        article("oldest", days_ago=3, tags=["rights"]),
    )


@pytest.mark.parametrize("path", FEEDS)
def test_a_corrected_article_is_re_sent_at_the_top_with_its_note(client, app, engine, as_, path):
    three_stories(engine)
    before = feedparser.parse(client.get(f"{path}?limit=2").content)
    assert [e.title for e in before.entries] == ["Newest", "Middle"]
    app.state.clock = lambda: LATER
    correct(client, as_, article_id(client, "oldest"), text="We misnamed the <em>town</em>.")

    after = feedparser.parse(client.get(f"{path}?limit=2").content)
    assert not after.bozo, after.get("bozo_exception")
    assert [e.title for e in after.entries] == ["Oldest", "Newest"]
    entry = after.entries[0]
    assert entry.summary.startswith(f"Correction ({LATER:%Y-%m-%d}): We misnamed the town.")
    content = entry.content[0].value
    assert content.index("We misnamed the <em>town</em>.") < content.index("The body of oldest.")
    if path.endswith("atom.xml"):
        assert entry.updated_parsed[:6] == LATER.timetuple()[:6]
        assert after.feed.updated_parsed[:6] == LATER.timetuple()[:6]
    narrowed = feedparser.parse(client.get(f"{path}?tag=rights&limit=1").content)
    assert [e.title for e in narrowed.entries] == ["Oldest"]


def test_a_retracted_article_says_so_in_every_feed(client, engine, as_):
    three_stories(engine)
    correct(client, as_, article_id(client, "middle"), kind="retraction", text="Forged papers.")
    for path in FEEDS:
        entries = feedparser.parse(client.get(path).content).entries
        middle = next(e for e in entries if "Middle" in e.title)
        assert middle.title == "Retracted: Middle"
        assert middle.summary.startswith("Retraction (")
        assert "Forged papers." in middle.summary
    items = client.get("/feeds/feed.json").json()["items"]
    middle = next(i for i in items if "Middle" in i["title"])
    assert middle["title"] == "Retracted: Middle"
    assert "Forged papers." in middle["content_html"] and "Forged papers." in middle["summary"]


def test_an_unchanged_feed_is_not_reordered(client, engine):
    three_stories(engine)
    entries = feedparser.parse(client.get("/feeds/atom.xml").content).entries
    assert [e.title for e in entries] == ["Newest", "Middle", "Oldest"]


def test_sync_re_sends_the_corrected_article(client, app, engine, as_):
    three_stories(engine)
    first = client.get("/v1/sync").json()
    assert {a["slug"] for a in first["data"]["articles"]["upserted"]} == {
        "newest",
        "middle",
        "oldest",
    }
    since = first["meta"]["next_since"]
    app.state.clock = lambda: LATER
    note = correct(client, as_, article_id(client, "middle")).json()["data"]
    delta = client.get("/v1/sync", params={"since": since}).json()
    upserted = delta["data"]["articles"]["upserted"]
    assert [a["slug"] for a in upserted] == ["middle"]
    assert upserted[0]["corrections"][0]["id"] == note["id"]
    assert upserted[0]["updated_at"] == iso(LATER)
    since = delta["meta"]["next_since"]
    etag = client.get(
        f"/v1/admin/articles/{upserted[0]['id']}/corrections/{note['id']}", headers=as_("editor")
    ).headers["ETag"]
    client.delete(
        f"/v1/admin/articles/{upserted[0]['id']}/corrections/{note['id']}",
        headers={**as_("editor"), "If-Match": etag},
    )
    again = client.get("/v1/sync", params={"since": since}).json()["data"]["articles"]
    assert [(a["slug"], a["corrections"]) for a in again["upserted"]] == [("middle", [])]


def test_the_bundle_carries_corrections_both_ways(client, engine, as_):
    seed(engine)
    target = article_id(client)
    correct(client, as_, target, text="First note.", at=iso(FIXED_NOW - timedelta(hours=1)))
    correct(client, as_, target, kind="clarification", text="Second note.")
    exported = client.get("/v1/admin/export", headers=as_("editor")).json()
    notes = exported["articles"][0]["corrections"]
    assert [(n["kind"], n["text"]) for n in notes] == [
        ("correction", "First note."),
        ("clarification", "Second note."),
    ]
    assert set(notes[0]) == {"id", "kind", "text", "at", "amended_at"}
    shown = public(client)

    again = client.post("/v1/admin/import", json=exported, headers=as_("editor"))
    assert again.status_code == 200, again.text
    assert again.json()["data"]["updated"]["articles"] == 0
    assert public(client) == shown

    # An older bundle, without `corrections`: the stored notes stay.
    old = copy.deepcopy(exported)
    del old["articles"][0]["corrections"]
    assert client.post("/v1/admin/import", json=old, headers=as_("editor")).status_code == 200
    assert public(client)["corrections"] == shown["corrections"]

    # Given, they become exactly the bundle's.
    changed = copy.deepcopy(exported)
    changed["articles"][0]["corrections"] = notes[1:]
    report = client.post("/v1/admin/import", json=changed, headers=as_("editor")).json()["data"]
    assert report["updated"]["articles"] == 1
    assert [c["text"] for c in public(client)["corrections"]] == ["Second note."]


def test_export_then_import_into_an_empty_database_gives_the_same_article(
    uncached_client, engine, as_
):
    client = uncached_client
    seed(engine)
    correct(client, as_, article_id(client), kind="retraction", text="Withdrawn.")
    shown = public(client)
    exported = client.get("/v1/admin/export", headers=as_("editor")).json()
    empty_all_tables(engine)
    load(engine, exported)
    assert public(client) == shown


@pytest.mark.parametrize(
    ("note", "place"),
    [
        ({"kind": "correction", "text": "x", "at": iso(FIXED_NOW + timedelta(days=1))}, "at"),
        ({"kind": "typo", "text": "x", "at": iso(FIXED_NOW)}, "kind"),
        ({"kind": "correction", "text": "<script></script>", "at": iso(FIXED_NOW)}, "text"),
    ],
)
def test_a_bad_note_refuses_the_whole_bundle(client, engine, as_, note, place):
    story = article("story", corrections=[note])
    response = client.post(
        "/v1/admin/import",
        json=bundle(tags=[tag("rights")], articles=[story]),
        headers=as_("editor"),
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"][:5] == ["body", "articles", 0, "corrections", 0]
    assert response.json()["errors"][0]["loc"][-1] == place
    assert client.get("/v1/articles/story").status_code == 404


def test_a_note_id_of_another_article_refuses_the_bundle(client, engine, as_):
    note = {"id": "note-1", "kind": "correction", "text": "x", "at": iso(FIXED_NOW)}
    seed(engine, article("first", corrections=[note]))
    response = client.post(
        "/v1/admin/import",
        json=bundle(articles=[article("second", corrections=[note])]),
        headers=as_("editor"),
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == ["body", "articles", 0, "corrections", 0, "id"]
    twice = bundle(articles=[article("third", corrections=[note, note])])
    assert client.post("/v1/admin/import", json=twice, headers=as_("editor")).status_code == 422


def test_importing_the_same_notes_twice_changes_nothing(client, engine, as_):
    at = iso(FIXED_NOW - timedelta(hours=1))
    notes = [
        {"kind": "correction", "text": f"Note {n}.", "at": at} for n in range(5)
    ]  # one time for all: their stored order is their ids'
    story = bundle(articles=[article("story", corrections=notes)])
    first = client.post("/v1/admin/import", json=story, headers=as_("editor")).json()["data"]
    assert first["created"]["articles"] == 1
    second = client.post("/v1/admin/import", json=story, headers=as_("editor")).json()["data"]
    assert second["unchanged"]["articles"] == 1 and second["updated"]["articles"] == 0
    assert sorted(c["text"] for c in public(client)["corrections"]) == [
        f"Note {n}." for n in range(5)
    ]


def test_structured_data_lists_the_notes(client, engine, as_):
    seed(engine)
    correct(client, as_, article_id(client), kind="clarification", text="The <em>date</em>.")
    for response in (
        client.get("/v1/articles/story/jsonld"),
        client.get("/v1/articles/story", params={"include": "jsonld"}),
    ):
        assert response.status_code == 200, response.text
        body = response.json()
        node = body["data"]["jsonld"] if "data" in body else body
        assert [(c["@type"], c["text"]) for c in node["correction"]] == [
            ("CorrectionComment", "The <em>date</em>.")
        ]

"""Corrections (issue 17, item 1): editors add, amend and delete notes; the public article
carries them, a retraction marks it; every write is versioned, revised and audited."""

from datetime import timedelta

import pytest

from tests.conftest import FIXED_NOW
from tests.factories import article, author, bundle, iso, load, source, tag

NOW = iso(FIXED_NOW)


def seed(engine, *articles):
    load(
        engine,
        bundle(
            authors=[author("alex")],
            tags=[tag("rights")],
            sources=[source("hrw")],
            articles=list(articles) or [article("story", tags=["rights"], authors=["alex"])],
        ),
    )


def article_id(client, slug="story"):
    response = client.get(f"/v1/articles/{slug}")
    assert response.status_code == 200, response.text
    return response.json()["data"]["id"]


def correct(client, as_, target, expect=201, headers=None, **body):
    body = {"kind": "correction", "text": "We said 5; it was 6.", **body}
    response = client.post(
        f"/v1/admin/articles/{target}/corrections",
        json=body,
        headers={**as_("editor"), **(headers or {})},
    )
    assert response.status_code == expect, response.text
    return response


def public(client, slug="story", **params):
    response = client.get(f"/v1/articles/{slug}", params=params)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def admin_etag(client, as_, target):
    return client.get(f"/v1/admin/articles/{target}", headers=as_("editor")).headers["ETag"]


def test_a_correction_is_on_the_public_article_and_in_lists(client, engine, as_):
    seed(engine)
    target = article_id(client)
    assert public(client)["corrections"] == [] and public(client)["retracted"] is False

    made = correct(client, as_, target, text="We said <b>5</b>; it was 6.<script>x()</script>")

    note = made.json()["data"]
    assert made.headers["Location"] == f"/v1/admin/articles/{target}/corrections/{note['id']}"
    assert note["token_name"] == "editor" and note["article_id"] == target
    shown = public(client)
    assert shown["corrections"] == [
        {
            "id": note["id"],
            "kind": "correction",
            "text": "We said <b>5</b>; it was 6.",
            "at": NOW,
            "amended_at": None,
        }
    ]
    assert shown["retracted"] is False
    assert shown["updated_at"] == NOW
    listed = client.get("/v1/articles").json()["data"][0]
    assert listed["corrections"] == shown["corrections"]
    searched = client.get("/v1/search", params={"q": "story"}).json()["data"][0]
    assert searched["corrections"] == shown["corrections"]


def test_fields_know_corrections_and_retracted(client, engine, as_):
    seed(engine)
    correct(client, as_, article_id(client), kind="retraction", text="The source was forged.")
    only = public(client, fields="slug,retracted")
    assert only == {"id": only["id"], "slug": "story", "retracted": True}
    listed = client.get("/v1/articles", params={"fields": "corrections"}).json()["data"][0]
    assert set(listed) == {"id", "corrections"}
    assert listed["corrections"][0]["kind"] == "retraction"
    assert "corrections" not in client.get("/v1/articles?fields=slug").json()["data"][0]


def test_a_retraction_keeps_the_article_readable_but_marked(client, engine, as_):
    seed(engine)
    target = article_id(client)
    correct(client, as_, target, kind="retraction", text="The key witness was not who we said.")
    shown = public(client)
    assert shown["retracted"] is True
    assert shown["body_html"] == "<p>The body of story.</p>"
    assert [a["slug"] for a in client.get("/v1/articles").json()["data"]] == ["story"]


def test_the_time_defaults_to_now_and_is_never_future_nor_before_publication(client, engine, as_):
    seed(engine, article("story", days_ago=2))
    target = article_id(client)
    earlier = iso(FIXED_NOW - timedelta(days=1))
    assert correct(client, as_, target, at=earlier).json()["data"]["at"] == earlier
    future = correct(client, as_, target, expect=422, at=iso(FIXED_NOW + timedelta(seconds=1)))
    assert future.json()["errors"][0]["loc"] == ["body", "at"]
    before = correct(client, as_, target, expect=422, at=iso(FIXED_NOW - timedelta(days=3)))
    assert before.json()["errors"][0]["loc"] == ["body", "at"]
    correct(client, as_, target, expect=422, at="2026-06-01")  # no time, no offset


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "erratum", "text": "x"},
        {"kind": "correction"},
        {"kind": "correction", "text": ""},
        {"kind": "correction", "text": "x" * 5001},
        {"kind": "correction", "text": "<script>alert(1)</script>"},
        {"kind": "correction", "text": "x", "token_name": "someone"},
        {"kind": "correction", "text": "x", "id": "abc"},
    ],
)
def test_bad_notes_are_422(client, engine, as_, body):
    seed(engine)
    response = client.post(
        f"/v1/admin/articles/{article_id(client)}/corrections", json=body, headers=as_("editor")
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert public(client)["corrections"] == []


def test_links_in_a_note_are_made_safe(client, engine, as_):
    seed(engine)
    note = correct(
        client,
        as_,
        article_id(client),
        text='See <a href="javascript:alert(1)" onclick="x()">this</a> and '
        '<a href="https://hrw.example.org/r">the report</a>.',
    ).json()["data"]
    assert "javascript" not in note["text"] and "onclick" not in note["text"]
    assert 'href="https://hrw.example.org/r"' in note["text"]


def test_only_editors_correct(client, engine, as_):
    seed(engine)
    target = article_id(client)
    url = f"/v1/admin/articles/{target}/corrections"
    body = {"kind": "correction", "text": "x"}
    assert client.post(url, json=body).status_code == 401
    assert client.post(url, json=body, headers=as_("contributor")).status_code == 403
    assert client.get(url, headers=as_("contributor")).status_code == 403
    assert client.post(url, json=body, headers=as_("admin")).status_code == 201


def test_unknown_deleted_and_page_ids_are_404(client, engine, as_):
    seed(engine, article("story"), article("about", kind="page"))
    correct(client, as_, "no-such-article", expect=404)
    page_id = client.get("/v1/pages/about").json()["data"]["id"]
    correct(client, as_, page_id, expect=404)
    target = article_id(client)
    assert client.delete(f"/v1/admin/articles/{target}", headers=as_("editor")).status_code == 200
    correct(client, as_, target, expect=404)
    assert client.get(f"/v1/admin/articles/{target}/corrections", headers=as_("editor")).json() == {
        "data": []
    }


def test_a_correction_bumps_the_article_version_and_checks_an_if_match_given(client, engine, as_):
    seed(engine)
    target = article_id(client)
    before = admin_etag(client, as_, target)
    version = client.get(f"/v1/admin/articles/{target}", headers=as_("editor")).json()["data"]
    correct(client, as_, target, headers={"If-Match": before})
    after = client.get(f"/v1/admin/articles/{target}", headers=as_("editor"))
    assert after.json()["data"]["version"] == version["version"] + 1
    assert after.json()["data"]["corrections"][0]["kind"] == "correction"
    assert after.headers["ETag"] != before
    correct(client, as_, target, expect=412, headers={"If-Match": before})
    stale_patch = client.patch(
        f"/v1/admin/articles/{target}",
        json={"title": "New title"},
        headers={**as_("editor"), "If-Match": before},
    )
    assert stale_patch.status_code == 412
    assert len(public(client)["corrections"]) == 1


def test_amending_needs_the_notes_etag_and_dates_the_change(client, app, engine, as_):
    seed(engine)
    target = article_id(client)
    made = correct(client, as_, target)
    url = made.headers["Location"]
    etag = made.headers["ETag"]
    change = {"text": "We said 5; it was 7."}
    assert client.patch(url, json=change, headers=as_("editor")).status_code == 428
    assert (
        client.patch(url, json=change, headers={**as_("editor"), "If-Match": '"stale"'}).status_code
        == 412
    )
    assert (
        client.patch(url, json={}, headers={**as_("editor"), "If-Match": etag}).status_code == 422
    )
    assert (
        client.patch(
            url, json={"text": None}, headers={**as_("editor"), "If-Match": etag}
        ).status_code
        == 422
    )
    later = FIXED_NOW + timedelta(hours=2)
    app.state.clock = lambda: later
    amended = client.patch(url, json=change, headers={**as_("editor"), "If-Match": etag})
    assert amended.status_code == 200, amended.text
    assert amended.json()["data"]["amended_at"] == iso(later)
    assert client.get(url, headers=as_("editor")).headers["ETag"] == amended.headers["ETag"]
    shown = public(client)
    assert shown["corrections"][0]["text"] == "We said 5; it was 7."
    assert shown["corrections"][0]["at"] == NOW  # when it was made public, unchanged
    assert shown["corrections"][0]["amended_at"] == iso(later)
    assert shown["updated_at"] == iso(later)
    reclassified = client.patch(
        url,
        json={"kind": "retraction"},
        headers={**as_("editor"), "If-Match": amended.headers["ETag"]},
    )
    assert reclassified.status_code == 200
    assert public(client)["retracted"] is True


def test_deleting_a_note_is_audited_and_its_text_kept_in_the_revisions(client, app, engine, as_):
    seed(engine)
    target = article_id(client)
    made = correct(client, as_, target, text="Wrong article, sorry.")
    url = made.headers["Location"]
    assert client.delete(url, headers=as_("editor")).status_code == 428
    gone = client.delete(url, headers={**as_("editor"), "If-Match": made.headers["ETag"]})
    assert gone.status_code == 204
    assert client.get(url, headers=as_("editor")).status_code == 404
    assert public(client)["corrections"] == []
    audit = client.get("/v1/admin/audit", headers=as_("admin")).json()["data"]
    note_id = made.json()["data"]["id"]
    assert [
        (e["action"], e["entity_type"], e["entity_id"], e["token_name"]) for e in audit[:2]
    ] == [
        ("correction.delete", "correction", note_id, "editor"),
        ("correction.create", "correction", note_id, "editor"),
    ]
    revisions = client.get(f"/v1/admin/articles/{target}/revisions", headers=as_("editor"))
    snapshots = [r["snapshot"]["corrections"] for r in revisions.json()["data"]]
    assert snapshots[0] == []
    assert snapshots[1][0]["text"] == "Wrong article, sorry."


def test_restoring_a_revision_keeps_the_corrections(client, engine, as_):
    seed(engine)
    target = article_id(client)
    url = f"/v1/admin/articles/{target}"
    for title in ("The right title", "A wrong title"):
        etag = admin_etag(client, as_, target)
        patched = client.patch(
            url, json={"title": title}, headers={**as_("editor"), "If-Match": etag}
        )
        assert patched.status_code == 200, patched.text
    correct(client, as_, target, text="The title was wrong.")
    revisions = client.get(f"{url}/revisions", headers=as_("editor")).json()["data"]
    assert [r["snapshot"]["title"] for r in revisions][-1] == "The right title"
    assert [len(r["snapshot"]["corrections"]) for r in revisions] == [1, 0, 0]
    restored = client.post(
        f"{url}/revisions/{revisions[-1]['number']}/restore", headers=as_("editor")
    )
    assert restored.status_code == 200, restored.text
    shown = public(client)
    assert shown["title"] == "The right title"
    assert [c["text"] for c in shown["corrections"]] == ["The title was wrong."]


def test_an_article_carries_at_most_100_notes(client, engine, as_):
    notes = [
        {"kind": "clarification", "text": f"Note {n}.", "at": iso(FIXED_NOW - timedelta(hours=n))}
        for n in range(100)
    ]
    seed(engine, article("story", days_ago=10, corrections=notes))
    target = article_id(client)
    assert len(public(client)["corrections"]) == 100
    correct(client, as_, target, expect=409)


def test_a_list_loads_the_notes_of_a_page_in_one_statement(
    uncached_client, engine, as_, count_statements
):
    notes = [{"kind": "correction", "text": "Fixed.", "at": iso(FIXED_NOW - timedelta(hours=1))}]
    seed(engine, *[article(f"story-{n:02d}", days_ago=n + 2, corrections=notes) for n in range(30)])
    client = uncached_client
    client.get("/v1/articles?limit=1")  # warm up
    counts = []
    for size in (2, 25):
        with count_statements() as counter:
            listed = client.get(f"/v1/articles?limit={size}").json()["data"]
        assert len(listed) == size and all(len(a["corrections"]) == 1 for a in listed)
        counts.append(counter.count)
        reads = [s for s in counter.statements if "FROM article_corrections" in s]
        assert len(reads) == 1, reads
    assert counts[0] == counts[1]
    with count_statements() as counter:
        client.get("/v1/articles?limit=25&fields=slug,title")
    assert not [s for s in counter.statements if "article_corrections" in s]

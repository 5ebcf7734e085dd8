"""Translations: articles and pages in different languages form a translation group; lists
show each story once, in the reader's best language (`?lang` or `Accept-Language`)."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import article, bundle, load


def slugs(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["slug"] for item in response.json()["data"]]


def langs_of(item: dict[str, Any]) -> dict[str, str]:
    return {t["lang"]: t["slug"] for t in item["translations"]}


def stories(*names: str, days_ago: float = 1.0) -> list[dict[str, Any]]:
    """For each name: an English original, and German and French versions of it published
    a little later (translation_of the original's slug)."""
    items = []
    for n, name in enumerate(names):
        when = days_ago + n
        items += [
            article(f"{name}-en", lang="en", days_ago=when),
            article(f"{name}-de", lang="de", days_ago=when - 0.1, translation_of=f"{name}-en"),
            article(f"{name}-fr", lang="fr", days_ago=when - 0.2, translation_of=f"{name}-en"),
        ]
    return items


# --- Groups on write ----------------------------------------------------------------------


def create(client: TestClient, headers: dict[str, str], kind: str = "articles", **fields: Any):
    body = {"title": "Purge in Chechnya", "body_html": "<p>Text.</p>", **fields}
    return client.post(f"/v1/admin/{kind}", json=body, headers=headers)


def publish(client: TestClient, headers: dict[str, str], item: dict[str, Any], kind="articles"):
    response = client.post(f"/v1/admin/{kind}/{item['id']}/publish", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def test_translation_of_joins_the_group_by_id_or_slug(client, as_):
    editor = as_("editor")
    original = create(client, editor, slug="purge", lang="en").json()["data"]
    assert original["translation_group"] is None
    german = create(client, editor, slug="saeuberung", lang="de", translation_of=original["id"])
    assert german.status_code == 201, german.text
    french = create(client, editor, slug="purge-fr", lang="fr", translation_of="saeuberung")
    assert french.status_code == 201, french.text
    group = german.json()["data"]["translation_group"]
    assert group and french.json()["data"]["translation_group"] == group
    again = client.get(f"/v1/admin/articles/{original['id']}", headers=editor).json()["data"]
    assert again["translation_group"] == group
    for item in (original, german.json()["data"], french.json()["data"]):
        publish(client, editor, item)
    data = client.get("/v1/articles/saeuberung").json()["data"]
    assert langs_of(data) == {"en": "purge", "fr": "purge-fr"}
    english = next(t for t in data["translations"] if t["lang"] == "en")
    assert english["api_url"] == "http://testserver/v1/articles/purge"
    assert english["url"] == "http://testserver/purge/"


def test_a_second_version_of_one_language_is_409(client, as_):
    editor = as_("editor")
    original = create(client, editor, slug="purge", lang="en").json()["data"]
    assert create(client, editor, slug="de-1", lang="de", translation_of="purge").status_code == 201
    second = create(client, editor, slug="de-2", lang="de", translation_of="purge")
    assert second.status_code == 409, second.text
    assert "`de`" in second.json()["detail"]
    # Nor can a member change its language to one the group has.
    french = create(client, editor, slug="fr-1", lang="fr", translation_of="purge").json()["data"]
    etag = client.get(f"/v1/admin/articles/{french['id']}", headers=editor).headers["ETag"]
    changed = client.patch(
        f"/v1/admin/articles/{french['id']}",
        json={"lang": "en"},
        headers={**editor, "If-Match": etag},
    )
    assert changed.status_code == 409, changed.text
    assert original["id"] != french["id"]


@pytest.mark.parametrize(
    ("reference", "status"), [("no-such-article", 422), ("about", 422), ("self", 422)]
)
def test_unknown_other_kind_or_self_is_422(client, as_, reference, status):
    editor = as_("editor")
    assert create(client, editor, "pages", slug="about", lang="en").status_code == 201
    mine = create(client, editor, slug="mine", lang="de").json()["data"]
    etag = client.get(f"/v1/admin/articles/{mine['id']}", headers=editor).headers["ETag"]
    response = client.patch(
        f"/v1/admin/articles/{mine['id']}",
        json={"translation_of": mine["id"] if reference == "self" else reference},
        headers={**editor, "If-Match": etag},
    )
    assert response.status_code == status, response.text
    assert response.json()["errors"][0]["loc"] == ["body", "translation_of"]


def test_pages_form_groups_of_pages_only(client, as_):
    editor = as_("editor")
    create(client, editor, slug="a-story", lang="en")
    assert create(client, editor, "pages", slug="about", lang="en").status_code == 201
    cross = create(client, editor, "pages", slug="ueber", lang="de", translation_of="a-story")
    assert cross.status_code == 422, cross.text
    page = create(client, editor, "pages", slug="ueber", lang="de", translation_of="about")
    assert page.status_code == 201, page.text
    for slug in ("about", "ueber"):
        item = next(
            p
            for p in client.get("/v1/admin/pages", headers=editor).json()["data"]
            if p["slug"] == slug
        )
        publish(client, editor, item, "pages")
    data = client.get("/v1/pages/ueber").json()["data"]
    assert [(t["lang"], t["slug"], t["api_url"]) for t in data["translations"]] == [
        ("en", "about", "http://testserver/v1/pages/about")
    ]
    assert slugs(client.get("/v1/pages", headers={"Accept-Language": "de"})) == ["ueber"]


def test_leaving_or_deleting_a_member_leaves_the_others_grouped(client, as_, engine):
    load(engine, bundle(articles=stories("purge")))
    editor = as_("editor")
    by_slug = {
        a["slug"]: a for a in client.get("/v1/admin/articles", headers=editor).json()["data"]
    }
    # The original is deleted: German and French still name each other.
    deleted = client.delete(f"/v1/admin/articles/{by_slug['purge-en']['id']}", headers=editor)
    assert deleted.status_code == 200
    assert langs_of(client.get("/v1/articles/purge-de").json()["data"]) == {"fr": "purge-fr"}
    # A new English version may join: the deleted one holds no language.
    joined = create(client, editor, slug="purge-en-2", lang="en", translation_of="purge-fr")
    assert joined.status_code == 201, joined.text
    # French leaves (translation_of: null); German keeps the new English one.
    french = by_slug["purge-fr"]
    etag = client.get(f"/v1/admin/articles/{french['id']}", headers=editor).headers["ETag"]
    left = client.patch(
        f"/v1/admin/articles/{french['id']}",
        json={"translation_of": None},
        headers={**editor, "If-Match": etag},
    )
    assert left.status_code == 200 and left.json()["data"]["translation_group"] is None
    publish(client, editor, joined.json()["data"])
    assert langs_of(client.get("/v1/articles/purge-de").json()["data"]) == {"en": "purge-en-2"}
    assert client.get("/v1/articles/purge-fr").json()["data"]["translations"] == []
    # A PATCH that leaves translation_of out leaves the group as it is.
    german = by_slug["purge-de"]
    etag = client.get(f"/v1/admin/articles/{german['id']}", headers=editor).headers["ETag"]
    kept = client.patch(
        f"/v1/admin/articles/{german['id']}",
        json={"title": "Neu"},
        headers={**editor, "If-Match": etag},
    )
    assert kept.status_code == 200
    assert kept.json()["data"]["translation_group"] == german["translation_group"]
    # Restoring the deleted English original now would make two English versions: 409.
    restored = client.post(
        f"/v1/admin/articles/{by_slug['purge-en']['id']}/revisions/1/restore", headers=editor
    )
    assert restored.status_code == 409, restored.text


def test_only_visible_versions_are_listed_as_translations(client, engine):
    items = stories("purge")
    items[2]["status"] = "draft"  # the French one
    load(engine, bundle(articles=items))
    assert langs_of(client.get("/v1/articles/purge-en").json()["data"]) == {"de": "purge-de"}
    assert client.get("/v1/articles/purge-fr").status_code == 404


# --- Reading with a language preference -----------------------------------------------------


def test_no_preference_shows_each_story_once_in_its_original(client, engine):
    load(
        engine, bundle(articles=[*stories("one", "two"), article("solo", lang="it", days_ago=0.5)])
    )
    assert slugs(client.get("/v1/articles")) == ["solo", "one-en", "two-en"]
    listed = client.get("/v1/articles").json()["data"]
    assert langs_of(listed[1]) == {"de": "one-de", "fr": "one-fr"}
    assert listed[0]["translations"] == []


def test_lang_is_a_fallback_chain(client, engine):
    items = [*stories("one", "two"), article("solo", lang="it", days_ago=0.5)]
    items = [i for i in items if i["slug"] != "two-de"]  # story two has no German
    load(engine, bundle(articles=items))
    assert slugs(client.get("/v1/articles?lang=de")) == ["one-de"]
    assert slugs(client.get("/v1/articles?lang=de,fr")) == ["one-de", "two-fr"]
    assert slugs(client.get("/v1/articles?lang=de,*")) == ["solo", "one-de", "two-en"]
    assert slugs(client.get("/v1/articles?lang=fr,de")) == ["one-fr", "two-fr"]
    assert slugs(client.get("/v1/articles?lang=it,en")) == ["solo", "one-en", "two-en"]
    # A regional preference tries its language: de-AT, then de.
    assert slugs(client.get("/v1/articles?lang=de-AT")) == ["one-de"]
    total = client.get("/v1/articles?lang=de,fr&count=true").json()["meta"]["total"]
    assert total == 2


def test_accept_language_with_q_values_and_lang_wins(client, engine):
    load(
        engine, bundle(articles=[*stories("one", "two"), article("solo", lang="it", days_ago=0.5)])
    )
    header = {"Accept-Language": "fr-CH, de;q=0.9, en;q=0.8"}
    response = client.get("/v1/articles", headers=header)
    assert slugs(response) == ["solo", "one-fr", "two-fr"]  # solo: in no language of it
    assert "Accept-Language" in response.headers["Vary"]
    reordered = {"Accept-Language": "en;q=0.5, de;q=0.9, fr;q=0"}
    assert slugs(client.get("/v1/articles", headers=reordered)) == ["solo", "one-de", "two-de"]
    chosen = client.get("/v1/articles?lang=en", headers=header)
    assert slugs(chosen) == ["one-en", "two-en"]
    assert "Accept-Language" not in chosen.headers["Vary"]
    assert slugs(client.get("/v1/articles", headers={"Accept-Language": "q=;;,"})) == [
        "solo",
        "one-en",
        "two-en",
    ]


@pytest.mark.parametrize("bad", ["de;en", "*de", "d", "de,,en", "de-", "a" * 201])
def test_malformed_lang_is_422(client, bad):
    response = client.get(f"/v1/articles?lang={bad}")
    assert response.status_code == 422, response.text
    assert response.headers["Content-Type"] == "application/problem+json"


def test_pagination_keeps_one_version_per_story(uncached_client, engine):
    names = [f"s{n:02d}" for n in range(12)]
    items = stories(*names)
    # Every third story has no German version; every fourth no French one.
    items = [
        i
        for i in items
        if not (i["lang"] == "de" and int(i["slug"][1:3]) % 3 == 0)
        and not (i["lang"] == "fr" and int(i["slug"][1:3]) % 4 == 0)
    ]
    load(engine, bundle(articles=items))
    client = uncached_client
    for query, sort in (("lang=de,fr,*", "-published_at"), ("lang=fr,de", "title")):
        everything = slugs(client.get(f"/v1/articles?{query}&sort={sort}&limit=100"))
        walked, cursor = [], None
        while True:
            url = f"/v1/articles?{query}&sort={sort}&limit=5" + (
                f"&cursor={cursor}" if cursor else ""
            )
            page = client.get(url).json()
            walked += [item["slug"] for item in page["data"]]
            cursor = page["meta"]["next_cursor"]
            if not cursor:
                break
        assert walked == everything
        assert len({slug[:3] for slug in walked}) == len(walked), "a story twice"
    chosen = slugs(client.get("/v1/articles?lang=de,fr,*&limit=100&sort=title"))
    assert len(chosen) == 12
    for slug in chosen:
        n = int(slug[1:3])
        expected = "en" if n % 12 == 0 else "fr" if n % 3 == 0 else "de"
        assert slug.endswith(expected), slug


def test_translations_cost_one_statement_per_page(uncached_client, engine, count_statements):
    load(engine, bundle(articles=stories(*(f"s{n:02d}" for n in range(30)))))
    client = uncached_client
    client.get("/v1/articles?limit=1")  # warm up
    counts = []
    for size in (2, 25):
        with count_statements() as counter:
            response = client.get(f"/v1/articles?lang=de&limit={size}")
            assert len(slugs(response)) == size
            assert all(len(item["translations"]) == 2 for item in response.json()["data"])
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
    with count_statements() as counter:
        client.get("/v1/articles?lang=de&limit=25&fields=slug,title")
    without = counter.count
    with count_statements() as counter:
        client.get("/v1/articles?lang=de&limit=25&fields=slug,title,translations")
    assert counter.count == without + 2, "the translations, and the site for their URLs"
    # No article in a group: no statement for translations.
    load(engine, bundle(articles=[article(f"alone-{n}", days_ago=0.5) for n in range(3)]))
    with count_statements() as counter:
        response = client.get("/v1/articles?limit=3&fields=slug,title,translations")
        assert [item["translations"] for item in response.json()["data"]] == [[], [], []]
    assert counter.count == without


def test_a_slug_read_answers_that_version_with_content_language(client, engine):
    load(engine, bundle(articles=stories("purge")))
    response = client.get("/v1/articles/purge-fr", headers={"Accept-Language": "de"})
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["slug"] == "purge-fr" and data["lang"] == "fr"
    assert response.headers["Content-Language"] == "fr"
    assert langs_of(data) == {"de": "purge-de", "en": "purge-en"}


def test_cached_answers_are_kept_apart_by_language(client, engine):
    load(engine, bundle(articles=stories("one", "two")))
    german = {"Accept-Language": "de-DE,de;q=0.9"}
    first = client.get("/v1/articles", headers=german)
    french = client.get("/v1/articles", headers={"Accept-Language": "fr"})
    assert slugs(first) == ["one-de", "two-de"] and slugs(french) == ["one-fr", "two-fr"]
    assert first.headers["ETag"] != french.headers["ETag"]
    # The same preference spelled otherwise is the same answer (one cache entry).
    again = client.get("/v1/articles", headers={"Accept-Language": "de-DE, de;q=0.9"})
    assert slugs(again) == ["one-de", "two-de"] and again.headers["ETag"] == first.headers["ETag"]
    assert slugs(client.get("/v1/articles")) == ["one-en", "two-en"]
    stale = client.get(
        "/v1/articles", headers={"Accept-Language": "fr", "If-None-Match": first.headers["ETag"]}
    )
    assert stale.status_code == 200 and slugs(stale) == ["one-fr", "two-fr"]
    same = client.get("/v1/articles", headers={**german, "If-None-Match": first.headers["ETag"]})
    assert same.status_code == 304
    assert "Accept-Language" in same.headers["Vary"]
    stats = client.app.state.cache_stats
    assert stats.hits >= 2, stats

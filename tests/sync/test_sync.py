"""Delta sync: a client that applies every delta ends with exactly the public state."""

import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from api.articles.models import Article
from tests.conftest import FIXED_NOW
from tests.factories import article, author, bundle, load, source, tag


class SyncClient:
    """What an offline app keeps: every resource by id, updated only through /v1/sync."""

    def __init__(self, http, limit):
        self.http, self.limit, self.since = http, limit, None
        self.state = {k: {} for k in ("articles", "tags", "sources", "actions", "authors")}
        self.pages = 0

    def catch_up(self):
        while True:
            params = {"limit": self.limit, **({"since": self.since} if self.since else {})}
            response = self.http.get("/v1/sync", params=params)
            assert response.status_code == 200, response.text
            body = response.json()
            self.pages += 1
            for name, changes in body["data"].items():
                for item in changes["upserted"]:
                    self.state[name][item["id"]] = item
                for gone in changes["deleted"]:
                    self.state[name].pop(gone, None)
            self.since = body["meta"]["next_since"]
            if not body["meta"]["has_more"]:
                return


def public_state(http):
    """Everything the public API shows, walked through every list page."""
    state = {}
    for name, query in (
        ("articles", "include=tags,authors,sources,actions"),
        ("tags", ""),
        ("sources", ""),
        ("actions", "active=all"),
        ("authors", ""),
    ):
        items, url = {}, f"/v1/{name}?limit=100&{query}"
        while url:
            body = http.get(url).json()
            items.update({item["id"]: item for item in body["data"]})
            url = body["links"]["next"]
        state[name] = items
    return state


def article_essentials(item):
    return (
        item["slug"],
        item["title"],
        item["published_at"],
        item["updated_at"],
        tuple(t["id"] for t in item["tags"]),
        tuple(a["id"] for a in item["authors"]),
        tuple(c["source"]["id"] for c in item["sources"]),
        tuple(a["id"] for a in item["actions"]),
    )


def assert_same(synced, public):
    assert synced["articles"].keys() == public["articles"].keys()
    for article_id, item in public["articles"].items():
        assert article_essentials(synced["articles"][article_id]) == article_essentials(item)
    for name in ("tags", "sources", "actions", "authors"):
        assert synced[name].keys() == public[name].keys(), name
        for item_id, item in public[name].items():
            # Tags and sources with their `article_count`: a delta client's counts must
            # not go stale when articles are published, unpublished, deleted, come due
            # or change their tags and sources.
            assert synced[name][item_id] == item, (name, item_id)


def test_first_sync_returns_everything_published(client, engine):
    load(
        engine,
        bundle(
            tags=[tag("rights")],
            sources=[source("hrw")],
            articles=[
                article("one", tags=["rights"], sources=[{"source": "hrw"}]),
                article("draft", status="draft"),
            ],
        ),
    )
    syncer = SyncClient(client, limit=500)
    syncer.catch_up()
    assert [a["slug"] for a in syncer.state["articles"].values()] == ["one"]
    one = next(iter(syncer.state["articles"].values()))
    assert one["body_html"] and one["sources"][0]["source"]["slug"] == "hrw"
    assert_same(syncer.state, public_state(client))


def test_malformed_since_is_400(client, engine):
    for bad in ("garbage", "WzEsMl0", "eyJhIjogMX0"):
        response = client.get("/v1/sync", params={"since": bad})
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/problem+json"
    assert client.get("/v1/sync?limit=0").status_code == 422


class Editor:
    """Random editorial writes through the real admin API."""

    def __init__(self, http, headers, rng):
        self.http, self.headers, self.rng = http, headers, rng
        self.articles: list[str] = []
        self.tags = ["rights", "russia", "europe"]

    def etag(self, path):
        return self.http.get(path, headers=self.headers).headers["etag"]

    def create(self):
        picked = self.rng.sample(self.tags, self.rng.randint(0, 2))
        response = self.http.post(
            "/v1/admin/articles",
            headers=self.headers,
            json={
                "title": f"Story {len(self.articles)} {self.rng.random():.5f}",
                "body_html": "<p>Words.</p>",
                "tags": picked,
                "sources": [{"source": "hrw"}] if self.rng.random() < 0.5 else [],
            },
        )
        assert response.status_code == 201, response.text
        self.articles.append(response.json()["data"]["id"])

    def publish(self, later=False):
        if not self.articles:
            return
        target = self.rng.choice(self.articles)
        when = {"published_at": (FIXED_NOW + timedelta(hours=3)).isoformat()} if later else None
        response = self.http.post(
            f"/v1/admin/articles/{target}/publish", headers=self.headers, json=when
        )
        assert response.status_code in (200, 404, 409, 422), response.text

    def unpublish(self):
        if self.articles:
            target = self.rng.choice(self.articles)
            self.http.post(f"/v1/admin/articles/{target}/unpublish", headers=self.headers)

    def retitle(self):
        if not self.articles:
            return
        path = f"/v1/admin/articles/{self.rng.choice(self.articles)}"
        response = self.http.patch(
            path,
            headers={**self.headers, "If-Match": self.etag(path)},
            json={"title": f"Retitled {self.rng.random():.6f}"},
        )
        assert response.status_code in (200, 404), response.text

    def retag(self):
        """Change an article's tags, sources and authors (links added and removed)."""
        if not self.articles:
            return
        path = f"/v1/admin/articles/{self.rng.choice(self.articles)}"
        response = self.http.patch(
            path,
            headers={**self.headers, "If-Match": self.etag(path)},
            json={
                "tags": self.rng.sample(self.tags, self.rng.randint(0, 2)),
                "sources": [{"source": "hrw"}] if self.rng.random() < 0.5 else [],
                "authors": ["ann"] if self.rng.random() < 0.5 else [],
            },
        )
        assert response.status_code in (200, 404), response.text

    def delete(self):
        if self.articles:
            target = self.articles.pop(self.rng.randrange(len(self.articles)))
            response = self.http.delete(f"/v1/admin/articles/{target}", headers=self.headers)
            assert response.status_code in (200, 204), response.text

    def drop_tag(self):
        tags = self.http.get("/v1/tags?limit=100").json()["data"]
        if tags:
            victim = self.rng.choice(tags)
            response = self.http.delete(
                f"/v1/admin/tags/{victim['id']}?force=true", headers=self.headers
            )
            assert response.status_code in (200, 204), response.text


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_replaying_random_writes_converges_to_the_public_state(
    client,
    engine,
    app,
    as_,
    seed,
):
    load(engine, bundle(tags=[tag("rights")], sources=[source("hrw")], authors=[author("ann")]))
    rng = random.Random(seed)
    editor = Editor(client, as_("editor"), rng)
    syncer = SyncClient(client, limit=rng.choice([2, 3, 5]))
    clock = [FIXED_NOW]
    app.state.clock = lambda: clock[0]
    operations = [
        editor.create,
        editor.create,
        editor.publish,
        editor.publish,
        lambda: editor.publish(later=True),
        editor.unpublish,
        editor.retitle,
        editor.retag,
        editor.retag,
        editor.delete,
        editor.drop_tag,
    ]
    syncer.catch_up()
    for step in range(40):
        rng.choice(operations)()
        if step % 13 == 12:
            clock[0] += timedelta(hours=2)  # scheduled articles come due with no write
        if rng.random() < 0.3:
            syncer.catch_up()
    editor.create()
    client.post(f"/v1/admin/articles/{editor.articles[-1]}/publish", headers=as_("editor"))
    syncer.catch_up()
    assert_same(syncer.state, public_state(client))
    assert syncer.state["articles"], "the sequence should leave something published"
    assert syncer.pages > 3


def test_small_pages_walk_every_change_of_one_big_transaction(client, engine):
    first = client.get("/v1/sync").json()["meta"]["next_since"]
    load(engine, bundle(tags=[tag("rights")], articles=[article(f"bulk-{i}") for i in range(10)]))
    syncer = SyncClient(client, limit=3)
    syncer.since = first
    syncer.catch_up()
    assert sorted(a["slug"] for a in syncer.state["articles"].values()) == sorted(
        f"bulk-{i}" for i in range(10)
    )
    assert [t["slug"] for t in syncer.state["tags"].values()] == ["rights"]
    assert syncer.pages >= 4


COUNTED = ("tags", "sources", "authors")


def linked(slug, **overrides):
    return article(slug, tags=["rights"], sources=[{"source": "hrw"}], authors=["ann"], **overrides)


def change(client, headers, session, clock, what):
    ids = {a.slug: a.id for a in session.scalars(select(Article))}
    admin = "/v1/admin/articles"
    if what == "publish":
        return client.post(f"{admin}/{ids['draft']}/publish", headers=headers)
    if what == "unpublish":
        return client.post(f"{admin}/{ids['live']}/unpublish", headers=headers)
    if what == "delete":
        return client.delete(f"{admin}/{ids['live']}", headers=headers)
    if what == "come due":
        clock[0] += timedelta(hours=3)
        return None
    if what == "drop tag":
        rights = client.get("/v1/tags/rights").json()["data"]["id"]
        return client.delete(f"/v1/admin/tags/{rights}?force=true", headers=headers)
    path = f"{admin}/{ids['live']}"
    etag = client.get(path, headers=headers).headers["etag"]
    relations = (
        {"tags": [], "sources": [], "authors": []}  # every link removed
        if what == "unlink"
        else {"tags": ["europe"], "sources": [{"source": "amnesty"}], "authors": ["bo"]}
    )
    return client.patch(path, headers={**headers, "If-Match": etag}, json=relations)


@pytest.mark.parametrize(
    "what", ["publish", "unpublish", "delete", "come due", "unlink", "relink", "drop tag"]
)
def test_counts_stay_current_when_articles_change(client, engine, app, as_, session, what):
    """A tag's, source's or author's `article_count` changes with its articles alone: the
    delta re-sends it, so a delta client holds the counts a full sync would give."""
    load(
        engine,
        bundle(
            tags=[tag("rights"), tag("europe")],
            sources=[source("hrw"), source("amnesty")],
            authors=[author("ann"), author("bo")],
            articles=[
                linked("live"),
                linked("draft", status="draft"),
                linked("later", days_ago=-2 / 24),  # due two hours after FIXED_NOW
            ],
        ),
    )
    clock = [FIXED_NOW]
    app.state.clock = lambda: clock[0]
    syncer = SyncClient(client, limit=500)
    syncer.catch_up()
    before = public_state(client)
    assert {name: syncer.state[name] for name in COUNTED} == {n: before[n] for n in COUNTED}
    response = change(client, as_("editor"), session, clock, what)
    assert response is None or response.status_code in (200, 204), response.text
    after = public_state(client)
    assert {n: after[n] for n in COUNTED} != {n: before[n] for n in COUNTED}, "no count moved"
    syncer.catch_up()
    assert {name: syncer.state[name] for name in COUNTED} == {n: after[n] for n in COUNTED}
    assert_same(syncer.state, after)


def linked_batch(batch, size):
    """`size` published articles, each with a tag, a source and an author of its own."""
    return bundle(
        tags=[tag(f"{batch}-tag-{i}") for i in range(size)],
        sources=[source(f"{batch}-src-{i}") for i in range(size)],
        authors=[author(f"{batch}-by-{i}") for i in range(size)],
        articles=[
            article(
                f"{batch}-{i}",
                tags=[f"{batch}-tag-{i}"],
                sources=[{"source": f"{batch}-src-{i}"}],
                authors=[f"{batch}-by-{i}"],
            )
            for i in range(size)
        ],
    )


def test_statements_per_sync_page_do_not_grow_with_its_changes(
    uncached_client, engine, count_statements
):
    """The tags, sources and authors of a page's articles come in one statement, loaded
    and counted in one each, however many articles the page holds."""
    client = uncached_client
    since = client.get("/v1/sync").json()["meta"]["next_since"]
    counts = []
    for batch, size in (("a", 2), ("b", 30)):
        load(engine, linked_batch(batch, size))
        with count_statements() as counter:
            body = client.get("/v1/sync", params={"since": since, "limit": 1000}).json()
        assert not body["meta"]["has_more"]
        for name in ("articles", *COUNTED):
            assert len(body["data"][name]["upserted"]) == size, name
        counts.append(counter.count)
        since = body["meta"]["next_since"]
    assert counts[0] == counts[1], counts
    # Constant, and listed: version, changes, ids of each kind, then per relation one
    # (tags, citations, actions, authors, corrections), the site (frontend URLs) and the
    # stored counts of tags and sources.
    assert counts[1] <= 18, counts

"""Tag, source and author `article_count`: kept with the writes, exact at every moment.

The counts are stored (migration 0015) and read without counting articles. Random writes
through the admin API and the bundle importer, and a clock that moves both ways, must leave
them equal to a recount of the visible articles after every step.
"""

import random
import re
import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, bindparam, func, select, text

from api.articles.models import Article, ArticleAuthor, ArticleTag, Citation
from api.articles.service import visible
from api.authors.models import Author
from api.changes.counts import stored_article_counts
from api.core import migrations
from api.core.db import UTCDateTime, make_engine, make_sessionmaker
from api.core.settings import load_settings
from api.sources.models import Source
from api.tags.models import Tag
from tests.conftest import FIXED_NOW, fresh_database
from tests.factories import article, author, bundle, iso, load, source, tag

# entity -> (link's target column, link's article column, target model)
LINKS: dict[str, tuple[Any, Any, Any]] = {
    "tag": (ArticleTag.tag_id, ArticleTag.article_id, Tag),
    "source": (Citation.source_id, Citation.article_id, Source),
    "author": (ArticleAuthor.author_id, ArticleAuthor.article_id, Author),
}
TAG_NAMES = ["Rights", "Russia", "Europe", "Asia", "Courts"]
SOURCES = ["hrw", "bbc", "un"]
AUTHORS = ["ann", "bo"]


def recount(engine: Engine, now: Any) -> dict[str, dict[str, int]]:
    """What the counts must be: visible articles per target, counted from the articles."""
    truth: dict[str, dict[str, int]] = {}
    with make_sessionmaker(engine)() as session:
        for entity, (target, article_id, _model) in LINKS.items():
            rows = session.execute(
                select(target, func.count(func.distinct(article_id)))
                .join(Article, Article.id == article_id)  # type: ignore[arg-type]
                .where(visible(now))
                .group_by(target)
            )
            truth[entity] = {ident: count for ident, count in rows}
    return truth


def stored(engine: Engine, now: Any) -> dict[str, dict[str, int]]:
    """What the API reads: the stored counts of every existing target."""
    found: dict[str, dict[str, int]] = {}
    with make_sessionmaker(engine)() as session:
        for entity, (_target, _article_id, model) in LINKS.items():
            ids = list(session.scalars(select(model.id)))
            found[entity] = stored_article_counts(entity)(session, now, ids)  # type: ignore[arg-type]
    return found


def public_counts(http: Any, name: str) -> dict[str, int]:
    body = http.get(f"/v1/{name}?limit=100").json()
    return {item["id"]: item["article_count"] for item in body["data"] if item["article_count"]}


class Newsroom:
    """Random writes through the admin API and the bundle importer, on a movable clock."""

    def __init__(self, http: Any, engine: Engine, headers: dict[str, str], rng: random.Random):
        self.http, self.engine, self.headers, self.rng = http, engine, headers, rng
        self.clock = [FIXED_NOW]
        http.app.state.clock = lambda: self.clock[0]
        self.items: list[tuple[str, str]] = []  # (plural, id)
        self.imported = 0

    def _links(self) -> dict[str, Any]:
        rng = self.rng
        cited = rng.sample(SOURCES, rng.randint(0, 2))
        if cited and rng.random() < 0.3:
            cited.append(cited[0])  # one source cited twice still counts once
        return {
            "tags": rng.sample(TAG_NAMES, rng.randint(0, 3)),
            "sources": [{"source": s} for s in cited],
            "authors": rng.sample(AUTHORS, rng.randint(0, 2)),
        }

    def _pick(self) -> tuple[str, str] | None:
        return self.rng.choice(self.items) if self.items else None

    def _etag(self, path: str) -> str:
        return str(self.http.get(path, headers=self.headers).headers["etag"])

    def create(self) -> None:
        plural = "pages" if self.rng.random() < 0.2 else "articles"
        response = self.http.post(
            f"/v1/admin/{plural}",
            headers=self.headers,
            json={"title": f"Story {self.rng.random():.8f}", "body_html": "<p>W.</p>"}
            | self._links(),
        )
        assert response.status_code in (201, 422), response.text  # 422: a source deleted
        if response.status_code == 201:
            self.items.append((plural, response.json()["data"]["id"]))

    def retag(self) -> None:
        if picked := self._pick():
            path = f"/v1/admin/{picked[0]}/{picked[1]}"
            response = self.http.patch(
                path, headers={**self.headers, "If-Match": self._etag(path)}, json=self._links()
            )
            assert response.status_code in (200, 404, 422), response.text

    def publish(self) -> None:
        if picked := self._pick():
            offset = self.rng.choice([None, -30.0, -1.0, 0.5, 2.0, 7.0])  # hours
            body = (
                None
                if offset is None
                else {"published_at": iso(self.clock[0] + timedelta(hours=offset))}
            )
            response = self.http.post(
                f"/v1/admin/{picked[0]}/{picked[1]}/publish", headers=self.headers, json=body
            )
            assert response.status_code in (200, 404), response.text

    def unpublish(self) -> None:
        if picked := self._pick():
            response = self.http.post(
                f"/v1/admin/{picked[0]}/{picked[1]}/unpublish", headers=self.headers
            )
            assert response.status_code in (200, 404), response.text

    def delete(self) -> None:
        if picked := self._pick():
            response = self.http.delete(f"/v1/admin/{picked[0]}/{picked[1]}", headers=self.headers)
            assert response.status_code in (200, 404), response.text

    def restore(self) -> None:
        """The first revision back (undeleting the item): its first tags and sources."""
        if picked := self._pick():
            response = self.http.post(
                f"/v1/admin/{picked[0]}/{picked[1]}/revisions/1/restore", headers=self.headers
            )
            assert response.status_code in (200, 409), response.text  # 409: a source deleted

    def drop(self) -> None:
        """A tag, source or author deleted with `force`: detached from its articles."""
        name = self.rng.choice(["tags", "sources", "authors"])
        listed = self.http.get(f"/v1/admin/{name}?limit=100", headers=self.headers).json()["data"]
        if listed:
            victim = self.rng.choice(listed)["id"]
            response = self.http.delete(
                f"/v1/admin/{name}/{victim}?force=true", headers=self.headers
            )
            assert response.status_code == 204, response.text

    def import_bundle(self) -> None:
        """A bundle re-importing earlier slugs with other states and links (pages too)."""
        rng = self.rng
        articles = []
        for _ in range(rng.randint(1, 6)):
            links = self._links()
            articles.append(
                article(
                    f"imported-{rng.randrange(max(self.imported, 1) + 3)}",
                    status=rng.choice(["published", "published", "draft"]),
                    published_at=iso(self.clock[0] + timedelta(hours=rng.uniform(-48, 12))),
                    kind="page" if rng.random() < 0.15 else "article",
                    tags=[name.lower() for name in links["tags"]],
                    sources=links["sources"],
                    authors=links["authors"],
                )
            )
            self.imported += 1
        unique = list({item["slug"]: item for item in articles}.values())
        load(
            self.engine,
            bundle(
                tags=[tag(name.lower(), name=name) for name in TAG_NAMES],
                sources=[source(slug) for slug in SOURCES],
                authors=[author(slug) for slug in AUTHORS],
                articles=unique,
            ),
            now=self.clock[0],
        )

    def move_clock(self) -> None:
        """Forward past scheduled times (no write marks them), sometimes back."""
        self.clock[0] += timedelta(hours=self.rng.choice([-5.0, -0.5, 0.25, 1.0, 3.0, 8.0]))


@pytest.mark.parametrize("seed", [11, 12])
def test_stored_counts_equal_a_recount_after_every_random_write_and_clock_move(
    uncached_client, engine, as_, seed
):
    # Uncached: the response cache expires entries when the clock passes a scheduled time,
    # not when a test's clock goes back; what is checked here is the counts themselves.
    client = uncached_client
    load(
        engine,
        bundle(
            tags=[tag(name.lower(), name=name) for name in TAG_NAMES],
            sources=[source(slug) for slug in SOURCES],
            authors=[author(slug) for slug in AUTHORS],
        ),
    )
    rng = random.Random(seed)
    newsroom = Newsroom(client, engine, as_("editor"), rng)
    operations = [
        (newsroom.create, 5),
        (newsroom.retag, 3),
        (newsroom.publish, 5),
        (newsroom.unpublish, 1),
        (newsroom.delete, 1),
        (newsroom.restore, 1),
        (newsroom.drop, 1),
        (newsroom.import_bundle, 2),
        (newsroom.move_clock, 3),
    ]
    moves = [operation for operation, _weight in operations]
    weights = [weight for _operation, weight in operations]
    seen_scheduled = seen_nonzero = 0
    for step in range(70):
        move = rng.choices(moves, weights)[0]
        move()
        now = newsroom.clock[0]
        truth = recount(engine, now)
        assert stored(engine, now) == truth, (step, move.__name__)
        assert public_counts(client, "tags") == truth["tag"], (step, move.__name__)
        assert public_counts(client, "sources") == truth["source"], (step, move.__name__)
        with make_sessionmaker(engine)() as session:
            seen_scheduled += bool(
                session.scalar(
                    select(func.count())
                    .select_from(Article)
                    .where(Article.status == "published", Article.published_at > now)  # type: ignore[arg-type,operator]
                )
            )
        seen_nonzero += any(truth.values())
    # The sequence did exercise counts and scheduled articles, not empty tables.
    assert seen_nonzero > 30 and seen_scheduled > 5, (seen_nonzero, seen_scheduled)


def test_a_scheduled_article_counts_from_its_publication_time_on(uncached_client, engine):
    client = uncached_client
    load(
        engine,
        bundle(
            tags=[tag("rights")],
            sources=[source("hrw")],
            articles=[
                article("now", tags=["rights"], sources=[{"source": "hrw"}]),
                article(
                    "later",
                    published_at=iso(FIXED_NOW + timedelta(hours=2)),
                    tags=["rights"],
                    sources=[{"source": "hrw"}, {"source": "hrw"}],
                ),
            ],
        ),
    )
    clock = [FIXED_NOW + timedelta(hours=2) - timedelta(microseconds=1)]
    client.app.state.clock = lambda: clock[0]
    assert client.get("/v1/tags/rights").json()["data"]["article_count"] == 1
    assert client.get("/v1/sources/hrw").json()["data"]["article_count"] == 1
    clock[0] += timedelta(microseconds=1)  # no write: the time alone comes
    assert client.get("/v1/tags/rights").json()["data"]["article_count"] == 2
    assert client.get("/v1/sources/hrw").json()["data"]["article_count"] == 2
    clock[0] = FIXED_NOW - timedelta(days=3)  # before either came out
    assert client.get("/v1/tags/rights").json()["data"]["article_count"] == 0


def test_pages_count_for_no_tag(client, engine):
    load(
        engine,
        bundle(
            tags=[tag("rights")],
            articles=[article("about", kind="page", tags=["rights"]), article("story")],
        ),
    )
    assert client.get("/v1/tags/rights").json()["data"]["article_count"] == 0


def test_a_page_of_100_tags_costs_the_statements_of_a_page_of_one(
    uncached_client, engine, count_statements
):
    """Counts are read, not counted: no statement of a tags page reads the articles."""
    names = [f"tag-{i:03d}" for i in range(120)]
    load(
        engine,
        bundle(
            tags=[tag(name) for name in names],
            articles=[
                article(f"story-{i}", tags=[names[i % 120], names[(i * 7 + 1) % 120]])
                for i in range(240)
            ],
        ),
    )
    counted = []
    for limit in (1, 100):
        with count_statements() as counter:
            body = uncached_client.get(f"/v1/tags?limit={limit}").json()
        assert len(body["data"]) == limit and body["data"][0]["article_count"] == 4
        assert not [s for s in counter.statements if re.search(r"\barticles\b", s)], limit
        counted.append(counter.count)
    assert counted[0] == counted[1], counted


def _blocked(engine: Engine, pid: int) -> bool:
    with engine.connect() as connection:
        return bool(
            connection.execute(
                text("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = :pid"),
                {"pid": pid},
            ).scalar()
        )


@pytest.mark.parametrize("first", ["publish", "link"])
def test_linking_and_publishing_at_once_count_the_pair(engine, backend, first):
    """PostgreSQL: one transaction links a tag to a draft while another publishes it. Each
    sees the other's change only once committed; the counts must still hold the pair.
    (SQLite's writers never overlap.)"""
    if backend != "postgresql":
        pytest.skip("SQLite writers take turns: they cannot overlap")
    load(engine, bundle(tags=[tag("rights")], articles=[article("story", status="draft")]))
    with engine.connect() as connection:
        article_id = connection.execute(text("SELECT id FROM articles")).scalar_one()
        tag_id = connection.execute(text("SELECT id FROM tags")).scalar_one()
    statements = {
        "publish": (
            "UPDATE articles SET status = 'published' WHERE id = :article",
            {"article": article_id},
        ),
        "link": (
            "INSERT INTO article_tags (article_id, tag_id, position) VALUES (:article, :tag, 0)",
            {"article": article_id, "tag": tag_id},
        ),
    }
    second = "link" if first == "publish" else "publish"
    holder, waiter = engine.connect(), engine.connect()
    try:
        holder.execute(text(statements[first][0]), statements[first][1])
        pid = waiter.execute(text("SELECT pg_backend_pid()")).scalar_one()
        waiter.commit()
        errors: list[BaseException] = []

        def run_second() -> None:
            try:
                waiter.execute(text(statements[second][0]), statements[second][1])
                waiter.commit()
            except BaseException as error:  # reported by the main thread
                errors.append(error)

        thread = threading.Thread(target=run_second)
        thread.start()
        for _ in range(2000):  # until the second writer waits for the first one's turn
            if _blocked(engine, pid):
                break
            thread.join(0.005)
        assert _blocked(engine, pid), "the second writer should wait for the first"
        holder.commit()
        thread.join()
        assert not errors, errors
    finally:
        holder.close()
        waiter.close()
    assert stored(engine, FIXED_NOW)["tag"] == {tag_id: 1} == recount(engine, FIXED_NOW)["tag"]


def test_the_migration_counts_what_is_already_there(backend, tmp_path):
    """0015 on a database with content: the counts start as a recount would give them."""
    with fresh_database(backend, tmp_path) as url:
        engine = make_engine(load_settings(database_url=url))
        try:
            migrations.upgrade(engine, "0014")
            at = bindparam("at", type_=UTCDateTime())
            past, future = FIXED_NOW - timedelta(days=1), FIXED_NOW + timedelta(days=1)
            with engine.begin() as connection:
                for table, extra in (("tags", ""), ("sources", "kind, "), ("authors", "")):
                    connection.execute(
                        text(
                            f"INSERT INTO {table} (id, slug, name, {extra}created_at, updated_at)"
                            f" VALUES ('{table}1', '{table}1', 'One', "
                            f"{repr('ngo') + ', ' if extra else ''}:at, :at)"
                        ).bindparams(at),
                        {"at": past},
                    )
                for name, kind, status, published, deleted in (
                    ("out", "article", "published", past, None),
                    ("later", "article", "published", future, None),
                    ("draft", "article", "draft", past, None),
                    ("gone", "article", "published", past, past),
                    ("page", "page", "published", past, None),
                ):
                    connection.execute(
                        text(
                            "INSERT INTO articles (id, slug, kind, title, body_html, body_text, "
                            "lang, status, published_at, created_at, updated_at, deleted_at, "
                            "word_count, reading_time) VALUES (:id, :id, :kind, 'T', '', '', "
                            "'en', :status, :published, :at, :at, :deleted, 0, 0)"
                        ).bindparams(
                            at,
                            bindparam("published", type_=UTCDateTime()),
                            bindparam("deleted", type_=UTCDateTime()),
                        ),
                        {
                            "id": name,
                            "kind": kind,
                            "status": status,
                            "published": published,
                            "deleted": deleted,
                            "at": past,
                        },
                    )
                    connection.execute(
                        text(
                            "INSERT INTO article_tags (article_id, tag_id, position) "
                            "VALUES (:id, 'tags1', 0)"
                        ),
                        {"id": name},
                    )
                    connection.execute(
                        text(
                            "INSERT INTO article_authors (article_id, author_id, position) "
                            "VALUES (:id, 'authors1', 0)"
                        ),
                        {"id": name},
                    )
                    for position in (0, 1):  # cited twice: one article
                        connection.execute(
                            text(
                                "INSERT INTO citations (id, article_id, source_id, position) "
                                "VALUES (:cid, :id, 'sources1', :position)"
                            ),
                            {"cid": f"{name}-{position}", "id": name, "position": position},
                        )
            migrations.upgrade(engine, "0015")
            expected = {"tag": {"tags1": 1}, "source": {"sources1": 1}, "author": {"authors1": 1}}
            assert stored(engine, FIXED_NOW) == expected == recount(engine, FIXED_NOW)
            assert stored(engine, future)["tag"] == {"tags1": 2} == recount(engine, future)["tag"]
        finally:
            engine.dispose()

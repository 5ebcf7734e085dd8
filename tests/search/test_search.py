"""GET /v1/search and /v1/articles?q=: ranked, highlighted, safe with any input (CONTRACT §2)."""

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from api.articles.models import Article
from tests.conftest import FIXED_NOW
from tests.factories import article, bundle, iso, load, tag

CAMPAIGN = [f"campaign-{n}" for n in range(1, 7)]


def newsroom() -> dict[str, Any]:
    """Articles whose words are chosen so each query below has one right answer."""
    return bundle(
        tags=[
            tag("refugees", name="Refugees"),
            tag("lgbt-rights", name="LGBT rights", hashtag="#StopThePurge"),
        ],
        articles=[
            article("gulag-title", days_ago=9, title="The new gulag", body_html="<p>Camps.</p>"),
            article(
                "gulag-body",
                days_ago=1,
                title="Far north report",
                body_html="<p>Former inmates describe the gulag, and why the gulag endures.</p>",
            ),
            article(
                "refugees-tag",
                days_ago=8,
                title="Crossing the border",
                tags=["refugees"],
                body_html="<p>Families waited for days at the crossing.</p>",
            ),
            article(
                "refugees-body",
                days_ago=2,
                title="Aid convoy arrives",
                body_html="<p>Many refugees were helped by volunteers.</p>",
            ),
            article(
                "secret-prisons",
                title="Detention sites",
                body_html="<p>Witnesses described secret prisons near Grozny.</p>",
            ),
            article(
                "prisons-secret",
                title="Official denial",
                body_html="<p>Officials said the prisons were never secret.</p>",
            ),
            article("chechnya", title="Chechnya today", body_html="<p>Dispatches.</p>"),
            article("chechen", title="Chechen officials respond", body_html="<p>Quotes.</p>"),
            article("czech", title="Czech elections", body_html="<p>Voters in Prague.</p>"),
            article(
                "escaped",
                title="Filed notes",
                body_html=(
                    "<p>How &lt;script&gt;alert(1)&lt;/script&gt; got into the zebra file "
                    "&amp; a &lt;mark&gt;fake&lt;/mark&gt; too.</p>"
                ),
            ),
            article(
                "hashtag",
                title="Persecution continues",
                tags=["lgbt-rights"],
                body_html="<p>Activists count the arrests in an anti-gay crackdown.</p>",
            ),
            article(
                "links",
                title="Where to read more",
                body_html="<p>See hrw.org/news or write to press@amnesty.org today.</p>",
            ),
            article(
                "cyrillic",
                lang="ru",
                title="Новости",
                body_html="<p>Репортаж из Москвы и Грозного.</p>",
            ),
            article("zeppelin-published", body_html="<p>A zeppelin over the city.</p>"),
            article("zeppelin-draft", status="draft", body_html="<p>A zeppelin draft.</p>"),
            article(
                "zeppelin-scheduled",
                published_at=iso(FIXED_NOW + timedelta(hours=1)),
                body_html="<p>A zeppelin tomorrow.</p>",
            ),
            article(
                "zeppelin-deleted",
                deleted_at=iso(FIXED_NOW - timedelta(hours=1)),
                body_html="<p>A zeppelin gone.</p>",
            ),
            *(
                article(
                    slug,
                    days_ago=3 + n / 10,
                    title=f"Update {n}",
                    # Two pairs share a body so their scores tie; the id must break the tie.
                    body_html="<p>" + "The campaign grows. " * (1 + n // 2) + "</p>",
                )
                for n, slug in enumerate(CAMPAIGN)
            ),
        ],
    )


@pytest.fixture
def newsroom_loaded(engine: Engine) -> None:
    load(engine, newsroom())


def search(client: TestClient, q: str, **params: Any) -> dict[str, Any]:
    response = client.get("/v1/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def found(client: TestClient, q: str) -> list[str]:
    return [hit["slug"] for hit in search(client, q, limit=100)["data"]]


def filtered(client: TestClient, q: str) -> list[str]:
    response = client.get("/v1/articles", params={"q": q, "limit": 100})
    assert response.status_code == 200, response.text
    return [item["slug"] for item in response.json()["data"]]


# --- ranking ----------------------------------------------------------------------------------


def test_title_match_ranks_above_body_only_match(client, newsroom_loaded):
    assert found(client, "gulag") == ["gulag-title", "gulag-body"]


def test_tag_name_match_ranks_above_body_only_match(client, newsroom_loaded):
    assert found(client, "refugees") == ["refugees-tag", "refugees-body"]


def test_scores_are_returned_best_first(client, newsroom_loaded):
    hits = search(client, "campaign", limit=100)["data"]
    scores = [hit["score"] for hit in hits]
    assert scores == sorted(scores, reverse=True)
    assert len(set(scores)) < len(scores), "the fixture should produce ties"


# --- syntax -----------------------------------------------------------------------------------

EXPECTED = {
    "gulag": {"gulag-title", "gulag-body"},
    "GULAG": {"gulag-title", "gulag-body"},
    "prisons secret": {"secret-prisons", "prisons-secret"},
    '"secret prisons"': {"secret-prisons"},
    "chech*": {"chechnya", "chechen"},
    "chechnya": {"chechnya"},
    "prisons -grozny": {"prisons-secret"},
    "prisons -Grozny -nothing": {"prisons-secret"},
    'prisons -"secret prisons"': {"prisons-secret"},
    "gulag OR zebra": {"gulag-title", "gulag-body", "escaped"},
    "zebra OR": {"escaped"},
    "OR zebra": {"escaped"},
    "gulag OR zebra OR chechnya": {"gulag-title", "gulag-body", "escaped", "chechnya"},
    "camps OR zebra gulag": {"gulag-title"},
    "purge": {"hashtag"},
    "StopThePurge": {"hashtag"},
    "#StopThePurge": {"hashtag"},
    "lgbt": {"hashtag"},
    "Москвы": {"cyrillic"},
    "zeppelin": {"zeppelin-published"},
    "campaign": set(CAMPAIGN),
    "zebra unicorn": set(),
    # Exclusion always excludes, whichever side of an OR it stands.
    "-camps OR gulag": {"gulag-body"},
    "gulag OR -camps": {"gulag-body"},
    # Words too common to search for are left out on both backends.
    "the": set(),
    "the gulag": {"gulag-title", "gulag-body"},
    "zebra NOT file": {"escaped"},
    # Text that looks like markup, addresses and hyphenated words are plain words.
    "script": {"escaped"},
    "<script>": {"escaped"},
    "fake": {"escaped"},
    "hrw": {"links"},
    "hrw.org": {"links"},
    "amnesty": {"links"},
    "anti-gay": {"hashtag"},
    "gay": {"hashtag"},
}


@pytest.mark.parametrize(("q", "expected"), EXPECTED.items(), ids=EXPECTED.keys())
def test_query_syntax_finds_exactly(client, newsroom_loaded, q, expected):
    assert set(found(client, q)) == expected
    assert set(filtered(client, q)) == expected


def test_articles_q_keeps_the_list_order_and_filters(client, newsroom_loaded):
    assert filtered(client, "gulag") == ["gulag-body", "gulag-title"]
    response = client.get("/v1/articles", params={"q": "campaign", "count": "true", "limit": 2})
    assert response.json()["meta"]["total"] == len(CAMPAIGN)
    assert filtered(client, "zebra") == ["escaped"]
    assert client.get("/v1/articles", params={"q": "zebra", "tag": "refugees"}).json()["data"] == []


# --- snippets ---------------------------------------------------------------------------------


def hit(client: TestClient, q: str, slug: str) -> dict[str, Any]:
    hits = {h["slug"]: h for h in search(client, q, limit=100)["data"]}
    return hits[slug]


def test_snippet_marks_the_match(client, newsroom_loaded):
    snippet = hit(client, "gulag", "gulag-body")["snippet"]
    assert "<mark>gulag</mark>" in snippet
    assert "describe the" in snippet


def test_snippet_escapes_html_from_the_article(client, newsroom_loaded):
    snippet = hit(client, "zebra", "escaped")["snippet"]
    assert "<mark>zebra</mark>" in snippet
    assert "<script" not in snippet.lower()
    assert "&lt;script&gt;" in snippet
    # Only our own marks are markup: the article's literal "<mark>" text stays text.
    assert snippet.count("<mark>") == snippet.count("</mark>") == 1
    assert "&lt;mark&gt;fake" in snippet
    assert "&amp;" in snippet


def test_a_search_for_a_tag_word_returns_the_article_with_its_tags(client, newsroom_loaded):
    data = search(client, "purge")["data"]
    assert [h["slug"] for h in data] == ["hashtag"]
    assert data[0]["tags"][0]["hashtag"] == "#StopThePurge"
    assert "body_html" not in data[0]


# --- visibility -------------------------------------------------------------------------------


def test_drafts_scheduled_and_deleted_are_never_found(client, newsroom_loaded, app):
    body = search(client, "zeppelin", count="true")
    assert [h["slug"] for h in body["data"]] == ["zeppelin-published"]
    assert body["meta"]["total"] == 1
    # Once its time comes, the scheduled one is found too (the others never are).
    app.state.clock = lambda: FIXED_NOW + timedelta(hours=2)
    assert set(found(client, "zeppelin")) == {"zeppelin-published", "zeppelin-scheduled"}
    assert set(filtered(client, "zeppelin")) == {"zeppelin-published", "zeppelin-scheduled"}


# --- pagination and counting ------------------------------------------------------------------


def test_cursor_pages_return_each_hit_exactly_once(client, newsroom_loaded):
    everything = found(client, "campaign")
    assert len(everything) == len(CAMPAIGN)
    seen: list[str] = []
    params: dict[str, Any] = {"q": "campaign", "limit": 2}
    for _page in range(10):
        body = client.get("/v1/search", params=params).json()
        assert len(body["data"]) <= 2
        seen += [h["slug"] for h in body["data"]]
        if body["meta"]["next_cursor"] is None:
            break
        assert body["links"]["next"]
        params["cursor"] = body["meta"]["next_cursor"]
    assert seen == everything


def test_count_gives_the_total_of_all_pages(client, newsroom_loaded):
    body = search(client, "campaign", limit=2, count="true")
    assert body["meta"]["total"] == len(CAMPAIGN)
    assert len(body["data"]) == 2
    assert search(client, "zebra unicorn", count="true")["meta"]["total"] == 0


def test_a_cursor_from_another_query_is_not_a_500(client, newsroom_loaded):
    cursor = search(client, "campaign", limit=2)["meta"]["next_cursor"]
    response = client.get("/v1/search", params={"q": "gulag", "cursor": cursor})
    assert response.status_code in (200, 400)
    broken = client.get("/v1/search", params={"q": "gulag", "cursor": "not-a-cursor"})
    assert broken.status_code == 400
    assert broken.headers["content-type"] == "application/problem+json"


# --- any input is safe ------------------------------------------------------------------------

PUNCTUATION = ["!!!", "...", "—", "&&", "?", "()", '" "', "-", "*", "OR", "|", "- - -", "🔥"]


@pytest.mark.parametrize("q", PUNCTUATION)
def test_a_query_with_no_words_finds_nothing_without_error(client, newsroom_loaded, q):
    body = search(client, q, count="true")
    assert body["data"] == [] and body["meta"]["total"] == 0
    assert filtered(client, q) == []


NASTY = [
    '"',
    "*",
    "OR",
    "-",
    "NOT",
    "AND (",
    "AND",
    "title:foo",
    "body:zebra",
    "NEAR(a b)",
    "NEAR(zebra file, 2)",
    "a AND",
    "zebra AND",
    "zebra NOT file",
    "NOT zebra",
    '"unterminated',
    'zebra "unterminated',
    "^x",
    "^zebra",
    "ünïcödé",
    "Чечня",
    "日本語のテキスト",
    "🏳️‍🌈 pride",
    "zebra 🦓",
    "a OR",
    "OR OR OR",
    '""',
    '"" OR ""',
    "'",
    "zebra's",
    "\\",
    "%",
    "_",
    "%_%",
    "a*b*",
    "**",
    "*zebra",
    "zeb*ra",
    "(",
    ")",
    "{zebra file}",
    "[zebra]",
    "+zebra",
    "~zebra",
    "zebra^2",
    "zebra:*",
    "zebra:* & !file",
    "!zebra",
    "zebra | file",
    "zebra <-> file",
    "zebra/file",
    "e-mail",
    "C++",
    "U.S.A.",
    "@user",
    "\ue000zebra\ue001",
    "\u200bzebra",
    "zebra\tfile\nnew",
    "'; DROP TABLE articles; --",
    "<script>alert(1)</script>",
    "x" * 200,
    " ".join(["zebra"] * 16),
    "-zebra file",
    "zebra OR -file",
    "-zebra OR file",
]
REFUSED = [
    "a\x00b",
    "-zebra",
    "--zebra",
    '-"zebra file"',
    "- -zebra",
    "x" * 201,
    " ".join(["w"] * 17),
]


@pytest.mark.parametrize("q", NASTY)
@pytest.mark.parametrize("path", ["/v1/search", "/v1/articles"])
def test_nasty_queries_are_answered_not_500(client, newsroom_loaded, path, q):
    response = client.get(path, params={"q": q})
    assert response.status_code == 200, response.text
    assert isinstance(response.json()["data"], list)


@pytest.mark.parametrize("q", REFUSED)
@pytest.mark.parametrize("path", ["/v1/search", "/v1/articles"])
def test_queries_without_a_wanted_term_or_too_long_are_refused(client, newsroom_loaded, path, q):
    response = client.get(path, params={"q": q})
    assert response.status_code == (400 if "\x00" in q else 422), response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_syntax_of_the_engines_is_never_syntax_here(client, newsroom_loaded):
    """Column filters and operators of FTS5/tsquery are words, not commands."""
    assert found(client, "zebra:file") == ["escaped"]  # FTS5 would read a column filter
    assert found(client, "zebra:* & !file") == ["escaped"]  # tsquery would exclude `file`
    assert found(client, "body:zebra") == []  # the phrase "body zebra", not a column filter
    assert found(client, "NEAR(zebra file)") == []  # the words NEAR, zebra, file


def test_an_empty_q_is_422(client, newsroom_loaded):
    assert client.get("/v1/search?q=").status_code == 422
    assert client.get("/v1/search").status_code == 422


# --- pages chosen among the best matches ------------------------------------------------------
# A page is first chosen among the best 2 x (limit + 1) + 64 matches; it must be the page a
# ranking of every match gives, or the search must rank every match.


def walk(client: TestClient, q: str, limit: int) -> list[str]:
    seen: list[str] = []
    params: dict[str, Any] = {"q": q, "limit": limit}
    for _page in range(200):
        body = search(client, **params)
        seen += [hit["slug"] for hit in body["data"]]
        if body["meta"]["next_cursor"] is None:
            return seen
        params["cursor"] = body["meta"]["next_cursor"]
    raise AssertionError("the walk did not end")


def test_a_page_cut_from_the_best_matches_is_the_page_of_all_matches(
    uncached_client, engine, count_statements
):
    # 100 visible matches with distinct scores: the word more often in a shorter body.
    load(
        engine,
        bundle(
            articles=[
                article(f"zep-{n:03d}", body_html="<p>" + "zeppelin " * (1 + n) + "</p>")
                for n in range(100)
            ]
        ),
    )
    client = uncached_client
    everything = found(client, "zeppelin")  # limit=100: every match is a candidate
    assert len(everything) == 100
    with count_statements() as counter:
        first = search(client, "zeppelin", limit=5)
    assert [hit["slug"] for hit in first["data"]] == everything[:5]
    # page, snippets, tags, authors, corrections, and the site (the hits' `canonical_url`
    # fallback)
    assert counter.count == 6, "the page came from the candidates: no second ranking"
    assert walk(client, "zeppelin", 5) == everything


def test_hidden_best_matches_fall_back_to_ranking_every_match(
    uncached_client, engine, count_statements
):
    # The 90 best matches are drafts or scheduled: no candidate is visible.
    hidden = [
        article(f"draft-{n:02d}", status="draft", title="Zeppelin", body_html="<p>Zeppelin.</p>")
        for n in range(60)
    ] + [
        article(
            f"later-{n:02d}",
            title="Zeppelin",
            published_at=iso(FIXED_NOW + timedelta(days=1)),
            body_html="<p>Zeppelin.</p>",
        )
        for n in range(30)
    ]
    shown = [
        article(f"shown-{n:02d}", body_html="<p>" + "word " * (20 + n) + "zeppelin</p>")
        for n in range(12)
    ]
    load(engine, bundle(articles=[*hidden, *shown]))
    client = uncached_client
    expected = found(client, "zeppelin")  # limit=100: every match is a candidate
    assert sorted(expected) == [f"shown-{n:02d}" for n in range(12)]
    with count_statements() as counter:
        first = search(client, "zeppelin", limit=5)
    assert [hit["slug"] for hit in first["data"]] == expected[:5]
    assert counter.count == 7, "one more statement: the search ranked every match"
    assert walk(client, "zeppelin", 5) == expected
    assert search(client, "zeppelin", count="true")["meta"]["total"] == 12


def test_ties_across_the_cut_are_paged_in_id_order_each_once(uncached_client, engine, session):
    load(
        engine,
        bundle(articles=[article(f"tie-{n:03d}", body_html="<p>Zeppelin.</p>") for n in range(90)]),
    )
    ids = dict(session.execute(select(Article.slug, Article.id)).all())
    expected = sorted((slug for slug in ids), key=lambda slug: ids[slug], reverse=True)
    assert walk(uncached_client, "zeppelin", 7) == expected

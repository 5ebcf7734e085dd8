"""Editors and cited links: what needs a fix (`/v1/admin/citations`), archived copies
(`/v1/admin/cited-links/{id}`), and the public citations that show both, without N+1."""

from typing import Any

import pytest
from sqlalchemy import update

from api.citations.links import link_id
from api.citations.models import CitedLink
from api.core.db import make_sessionmaker
from tests.factories import article, bundle, load, source

ARCHIVE = "https://web.archive.org/web/2017/https://hrw.example.org/report"


def cite(engine: Any, slug: str, *urls: str, days_ago: float = 1, **overrides: Any) -> None:
    load(
        engine,
        bundle(
            sources=[source("hrw")],
            articles=[
                article(
                    slug,
                    days_ago=days_ago,
                    sources=[{"source": "hrw", "cited_url": url} for url in urls],
                    **overrides,
                )
            ],
        ),
    )


def mark(engine: Any, url: str, status: str) -> None:
    with make_sessionmaker(engine)() as session, session.begin():
        session.execute(update(CitedLink).where(CitedLink.id == link_id(url)).values(status=status))


def get_link(client: Any, as_: Any, url: str) -> Any:
    response = client.get(f"/v1/admin/cited-links/{link_id(url)}", headers=as_("editor"))
    assert response.status_code == 200, response.text
    return response


def test_broken_citations_newest_articles_first_page_by_page(client, engine, as_):
    for n, days_ago in enumerate([5, 1, 3]):
        cite(engine, f"story-{n}", f"https://gone.example.org/{n}", days_ago=days_ago)
    cite(engine, "fine", "https://fine.example.org/", days_ago=0.5)
    cite(engine, "draft", "https://gone.example.org/draft", status="draft", published_at=None)
    for n in range(3):
        mark(engine, f"https://gone.example.org/{n}", "broken")
    mark(engine, "https://gone.example.org/draft", "broken")
    mark(engine, "https://fine.example.org/", "ok")

    seen = []
    url = "/v1/admin/citations?status=broken&limit=2&count=true"
    while url:
        response = client.get(url, headers=as_("editor"))
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["meta"]["total"] == 4
        seen += [(c["article"]["slug"], c["link"]["status"]) for c in body["data"]]
        cursor = body["meta"]["next_cursor"]
        url = f"/v1/admin/citations?status=broken&limit=2&count=true&cursor={cursor}" * bool(cursor)
    # The draft was created now (FIXED_NOW): newer than every publication.
    assert seen == [
        ("draft", "broken"),
        ("story-1", "broken"),
        ("story-2", "broken"),
        ("story-0", "broken"),
    ]
    everything = client.get("/v1/admin/citations", headers=as_("editor")).json()["data"]
    assert len(everything) == 5
    one = next(c for c in everything if c["article"]["slug"] == "fine")
    assert one["cited_url"] == "https://fine.example.org/"
    assert one["source"]["slug"] == "hrw" and one["article"]["kind"] == "article"
    assert one["link"] | {"next_check_at": None, "id": None} == {
        "id": None,
        "url": "https://fine.example.org/",
        "status": "ok",
        "last_status_code": None,
        "last_error": None,
        "last_checked_at": None,
        "first_failed_at": None,
        "consecutive_failures": 0,
        "next_check_at": None,
        "archived_url": None,
        "version": 0,
    }


def test_the_list_takes_the_same_statements_whatever_the_page_size(
    client, engine, as_, count_statements
):
    for n in range(12):
        cite(engine, f"story-{n}", f"https://gone.example.org/{n}", days_ago=n + 1)
    client.get("/v1/admin/citations", headers=as_("editor"))  # the token's first use is noted
    counts = []
    for limit in (2, 12):
        with count_statements() as counter:
            response = client.get(f"/v1/admin/citations?limit={limit}", headers=as_("editor"))
        assert len(response.json()["data"]) == limit
        counts.append(counter.count)
    assert counts[0] == counts[1]


def test_an_archived_copy_shows_on_every_citing_article(client, engine, as_):
    url = "https://hrw.example.org/report"
    cite(engine, "one", url)
    cite(engine, "two", url + "#p3", days_ago=2)
    etag = get_link(client, as_, url).headers["etag"]
    response = client.patch(
        f"/v1/admin/cited-links/{link_id(url)}",
        json={"archived_url": ARCHIVE},
        headers={**as_("editor"), "If-Match": etag},
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["archived_url"] == ARCHIVE
    assert response.json()["data"]["version"] == 1
    for slug in ("one", "two"):
        [citation] = client.get(f"/v1/articles/{slug}").json()["data"]["sources"]
        assert (citation["archived_url"], citation["status"]) == (ARCHIVE, "unchecked")
    listed = client.get("/v1/articles?include=sources").json()["data"]
    assert [a["sources"][0]["archived_url"] for a in listed] == [ARCHIVE, ARCHIVE]
    audit = client.get("/v1/admin/audit", headers=as_("admin")).json()["data"][0]
    assert (audit["action"], audit["entity_type"], audit["entity_id"]) == (
        "cited_link.update",
        "cited_link",
        link_id(url),
    )
    # And removed again.
    etag = response.headers["etag"]
    response = client.patch(
        f"/v1/admin/cited-links/{link_id(url)}",
        json={"archived_url": None},
        headers={**as_("editor"), "If-Match": etag},
    )
    assert response.status_code == 200, response.text
    assert client.get("/v1/articles/one").json()["data"]["sources"][0]["archived_url"] is None


def test_the_archived_copy_goes_out_to_sync(client, engine, as_):
    url = "https://hrw.example.org/report"
    cite(engine, "one", url)
    since = client.get("/v1/sync").json()["meta"]["next_since"]
    etag = get_link(client, as_, url).headers["etag"]
    client.patch(
        f"/v1/admin/cited-links/{link_id(url)}",
        json={"archived_url": ARCHIVE},
        headers={**as_("editor"), "If-Match": etag},
    )
    changed = client.get(f"/v1/sync?since={since}").json()["data"]["articles"]["upserted"]
    assert [a["sources"][0]["archived_url"] for a in changed] == [ARCHIVE]


def test_a_write_needs_a_current_if_match(client, engine, as_):
    url = "https://hrw.example.org/report"
    cite(engine, "one", url)
    path = f"/v1/admin/cited-links/{link_id(url)}"
    body = {"archived_url": ARCHIVE}
    assert client.patch(path, json=body, headers=as_("editor")).status_code == 428
    stale = {**as_("editor"), "If-Match": '"stale"'}
    assert client.patch(path, json=body, headers=stale).status_code == 412
    assert get_link(client, as_, url).json()["data"]["archived_url"] is None


@pytest.mark.parametrize(
    "body",
    [
        {"archived_url": "ftp://archive.example.org/x"},
        {"archived_url": "javascript:alert(1)"},
        {"archived_url": "/relative"},
        {"archived_url": "https://archive.example.org/" + "x" * 2100},
        {"archived_url": "https://user:pw@archive.example.org/"},
        {"archived_url": 5},
        {"status": "ok"},
    ],
)
def test_bad_input_is_422(client, engine, as_, body):
    url = "https://hrw.example.org/report"
    cite(engine, "one", url)
    headers = {**as_("editor"), "If-Match": get_link(client, as_, url).headers["etag"]}
    response = client.patch(f"/v1/admin/cited-links/{link_id(url)}", json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


def test_unknown_links_and_statuses(client, as_):
    assert client.get("/v1/admin/cited-links/" + "0" * 32, headers=as_("editor")).status_code == 404
    response = client.get("/v1/admin/citations?status=dead", headers=as_("editor"))
    assert response.status_code == 422
    assert client.get("/v1/admin/citations?cursor=x", headers=as_("editor")).status_code == 400


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/admin/citations"),
        ("GET", "/v1/admin/cited-links/" + "0" * 32),
        ("PATCH", "/v1/admin/cited-links/" + "0" * 32),
    ],
)
def test_only_editors_and_admins(client, as_, method, path):
    kwargs = {"json": {"archived_url": ARCHIVE}} if method == "PATCH" else {}
    assert client.request(method, path, **kwargs).status_code == 401
    for role in ("contributor", "content"):
        assert client.request(method, path, headers=as_(role), **kwargs).status_code == 403
    assert client.request(method, path, headers=as_("editor"), **kwargs).status_code != 403


def test_public_citations_load_in_one_statement_whatever_the_page(
    uncached_client, engine, count_statements
):
    for n in range(12):
        cite(
            engine,
            f"story-{n}",
            f"https://a.example.org/{n}",
            f"https://b.example.org/{n}",
            days_ago=n + 1,
        )
    mark(engine, "https://a.example.org/0", "broken")
    counts = []
    for limit in (2, 12):
        with count_statements() as counter:
            response = uncached_client.get(f"/v1/articles?include=sources&limit={limit}")
        assert len(response.json()["data"]) == limit
        counts.append(counter.count)
    assert counts[0] == counts[1]
    first = response.json()["data"][0]["sources"]
    assert [c["status"] for c in first] == ["broken", "unchecked"]

"""The link checker against real pages on loopback: what each kind of answer makes of a
cited link, the cadence, leases, and the address rules (on both databases)."""

import threading
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update

from api.articles.models import Citation
from api.citations.checker import claim_due, link_checker_enabled
from api.citations.links import link_id
from api.citations.models import CitedLink
from api.core import fetch
from api.core.db import make_sessionmaker
from api.core.fetch import MAX_BYTES
from api.core.settings import load_settings
from api.main import create_app
from tests.conftest import FIXED_NOW
from tests.factories import article, bundle, load, source

DAY = timedelta(days=1)


def cite(engine: Any, *urls: str, slug: str = "story", days_ago: float = 1) -> None:
    """An article (published `days_ago`) citing each URL, through the import path."""
    load(
        engine,
        bundle(
            sources=[source("hrw")],
            articles=[
                article(
                    slug,
                    days_ago=days_ago,
                    sources=[{"source": "hrw", "cited_url": url} for url in urls],
                )
            ],
        ),
    )


def public_citations(client: Any, slug: str = "story") -> list[dict[str, Any]]:
    response = client.get(f"/v1/articles/{slug}")
    assert response.status_code == 200, response.text
    return response.json()["data"]["sources"]  # type: ignore[no-any-return]


def link_of(session: Any, url: str) -> CitedLink:
    session.rollback()  # a fresh read: what the checker's own transactions committed
    link = session.get(CitedLink, link_id(url))
    assert link is not None
    return link


def test_a_page_that_answers_is_ok(client, engine, session, site, run_pass):
    url = site.url("/ok")
    cite(engine, url)
    assert public_citations(client)[0] | {"source": None} == {
        "source": None,
        "cited_url": url,
        "context": None,
        "position": 0,
        "status": "unchecked",
        "archived_url": None,
    }
    [(checked, found)] = run_pass()
    assert checked == link_id(url) and found.status_code == 200
    assert site.paths() == [("HEAD", "/ok")]  # HEAD was enough
    link = link_of(session, url)
    assert (link.status, link.last_status_code, link.last_error) == ("ok", 200, None)
    assert link.last_checked_at == FIXED_NOW and link.first_failed_at is None
    assert link.next_check_at == FIXED_NOW + 7 * DAY
    assert public_citations(client)[0]["status"] == "ok"  # the cached answer was renewed


def test_a_404_is_broken_at_once(client, engine, session, site, run_pass):
    url = site.url("/gone")
    cite(engine, url)
    run_pass()
    link = link_of(session, url)
    assert (link.status, link.last_status_code, link.last_error) == ("broken", 404, "HTTP 404")
    assert link.first_failed_at == FIXED_NOW and link.consecutive_failures == 1
    # HEAD said 404; a ranged GET confirmed it (some servers answer HEAD wrongly).
    assert site.paths() == [("HEAD", "/gone"), ("GET", "/gone")]
    assert public_citations(client)[0]["status"] == "broken"


def test_a_500_then_a_200_is_a_failure_then_ok(client, engine, session, site, run_pass):
    url = site.url("/flaky")
    cite(engine, url)
    run_pass()
    link = link_of(session, url)
    assert (link.status, link.last_status_code, link.consecutive_failures) == ("unchecked", 500, 1)
    assert link.first_failed_at == FIXED_NOW
    assert link.next_check_at == FIXED_NOW + DAY  # sooner than the weekly cadence
    assert public_citations(client)[0]["status"] == "unchecked"

    assert run_pass(FIXED_NOW + DAY - timedelta(seconds=1)) == []  # not due yet
    site.flaky_status = 200
    run_pass(FIXED_NOW + DAY)
    link = link_of(session, url)
    assert (link.status, link.consecutive_failures, link.first_failed_at) == ("ok", 0, None)
    assert public_citations(client)[0]["status"] == "ok"


def test_failures_in_a_row_make_it_broken(client, engine, session, site, run_pass):
    url = site.url("/flaky")
    cite(engine, url)
    for day in range(3):
        run_pass(FIXED_NOW + day * DAY)
        assert link_of(session, url).status == ("broken" if day == 2 else "unchecked")
    link = link_of(session, url)
    assert link.consecutive_failures == 3
    assert link.first_failed_at == FIXED_NOW  # when the failures began
    assert link.last_checked_at == FIXED_NOW + 2 * DAY
    assert link.next_check_at == FIXED_NOW + 2 * DAY + 7 * DAY  # broken: weekly again
    assert public_citations(client)[0]["status"] == "broken"


def test_an_ok_link_that_fails_stays_ok_until_it_is_broken(engine, session, site, run_pass):
    url = site.url("/flaky")
    cite(engine, url)
    site.flaky_status = 200
    run_pass()
    site.flaky_status = 503
    run_pass(FIXED_NOW + 7 * DAY)
    link = link_of(session, url)
    assert (link.status, link.consecutive_failures, link.last_status_code) == ("ok", 1, 503)
    assert link.first_failed_at == FIXED_NOW + 7 * DAY


def test_each_link_is_checked_at_most_once_per_interval(engine, session, site, run_pass):
    url = site.url("/ok")
    cite(engine, url)
    run_pass()
    assert run_pass(FIXED_NOW + 7 * DAY - timedelta(seconds=1)) == []
    assert len(run_pass(FIXED_NOW + 7 * DAY)) == 1
    assert site.paths() == [("HEAD", "/ok")] * 2


def test_a_redirect_is_followed_to_the_page(engine, session, site, run_pass):
    url = site.url("/moved")
    cite(engine, url)
    [(_id, found)] = run_pass()
    assert (found.status_code, found.redirects, found.final_url) == (200, 1, site.url("/ok"))
    assert site.paths() == [("HEAD", "/moved"), ("HEAD", "/ok")]
    assert link_of(session, url).status == "ok"


def test_endless_redirects_are_a_failure(engine, session, site, run_pass):
    url = site.url("/loop")
    cite(engine, url)
    [(_id, found)] = run_pass()
    assert found.error == "more than 5 redirects"
    assert site.paths() == [("HEAD", "/loop")] * 6
    link = link_of(session, url)
    assert (link.consecutive_failures, link.last_error) == (1, "more than 5 redirects")


@pytest.mark.parametrize(
    "private", ["http://169.254.169.254/latest/meta-data", "http://10.0.0.1/", "http://[::1]/"]
)
def test_a_redirect_to_a_private_address_is_refused(
    engine, session, site, run_pass, monkeypatch, private
):
    # The rule in force (no relaxation), with only the test's own server counting as public:
    # the first request is made, the redirect's target is refused before any connection.
    real = fetch.is_public
    monkeypatch.setattr(fetch, "is_public", lambda a: str(a) == "127.0.0.1" or real(a))
    site.moved_to = private
    url = site.url("/moved")
    cite(engine, url)
    [(_id, found)] = run_pass(webhook_allow_private=False)
    assert found.status_code is None and found.error.startswith("refused: ")
    assert "private or reserved address" in found.error
    assert site.paths() == [("HEAD", "/moved")]
    assert link_of(session, url).last_error.startswith("refused: ")


def test_without_the_relaxation_loopback_is_refused(client, engine, session, site, run_pass):
    url = site.url("/ok")
    cite(engine, url)
    [(_id, found)] = run_pass(webhook_allow_private=False)
    assert site.asked == []  # no request reached the server
    assert found.error.startswith("refused: 127.0.0.1 resolves to 127.0.0.1")
    link = link_of(session, url)
    assert (link.status, link.last_status_code, link.consecutive_failures) == ("unchecked", None, 1)
    assert public_citations(client)[0]["status"] == "unchecked"


def test_a_slow_page_times_out(engine, session, site, run_pass):
    url = site.url("/slow")
    cite(engine, url)
    [(_id, found)] = run_pass(link_check_timeout_seconds=0.5)
    assert found.error == "timed out"
    assert site.paths() == [("HEAD", "/slow")]  # no GET after a timeout
    link = link_of(session, url)
    assert (link.status, link.consecutive_failures, link.last_error) == (
        "unchecked",
        1,
        "timed out",
    )


def test_head_refused_then_a_ranged_get(engine, session, site, run_pass):
    url = site.url("/no-head")
    cite(engine, url)
    [(_id, found)] = run_pass()
    assert (found.method, found.status_code) == ("GET", 200)
    assert site.paths() == [("HEAD", "/no-head"), ("GET", "/no-head")]
    assert site.asked[1].headers["range"] == f"bytes=0-{MAX_BYTES - 1}"
    assert link_of(session, url).status == "ok"


def test_a_huge_answer_is_read_no_further_than_the_cap(engine, session, site, run_pass):
    url = site.url("/huge")
    cite(engine, url)
    [(_id, found)] = run_pass()
    assert (found.method, found.status_code, found.bytes_read) == ("GET", 200, MAX_BYTES)
    assert link_of(session, url).status == "ok"
    # The client hung up: the server could not send the 20 MiB (socket buffers hold a few).
    assert site.huge_sent < 20 * 1024 * 1024


def test_one_url_cited_many_times_is_checked_once(client, engine, session, site, run_pass):
    url = site.url("/ok")
    cite(engine, url, url + "#section-2", slug="one")
    cite(engine, url.replace("http://", "HTTP://"), slug="two", days_ago=2)
    assert session.scalars(select(CitedLink.id)).all() == [link_id(url)]
    assert len(run_pass()) == 1
    assert site.paths() == [("HEAD", "/ok")]
    for slug in ("one", "two"):
        assert {c["status"] for c in public_citations(client, slug)} == {"ok"}


def test_saving_an_article_again_keeps_its_links_status(client, engine, session, site, run_pass):
    url = site.url("/gone")
    cite(engine, url)
    run_pass()
    cite(engine, url, site.url("/ok"))  # the same article, saved with another citation
    assert [c["status"] for c in public_citations(client)] == ["broken", "unchecked"]


def test_citations_without_a_link_are_linked_then_checked(client, engine, session, site, run_pass):
    url = site.url("/ok")
    cite(engine, url)
    # As citations stored before links existed look.
    with make_sessionmaker(engine)() as other, other.begin():
        other.execute(update(Citation).values(link_id=None))
        other.execute(text("DELETE FROM cited_links"))
    assert public_citations(client)[0]["status"] == "unchecked"
    assert len(run_pass()) == 1
    assert session.scalars(select(Citation.link_id)).all() == [link_id(url)]
    assert public_citations(client)[0]["status"] == "ok"


def test_links_no_article_cites_are_not_checked(engine, session, site, run_pass):
    cite(engine, site.url("/ok"))
    cite(engine)  # the article now cites nothing
    assert run_pass() == []
    assert site.asked == []


def test_workers_share_links_through_leases(engine, site):
    for n in range(5):
        cite(engine, site.url(f"/ok?n={n}"), slug=f"story-{n}")
    factory = make_sessionmaker(engine, lock_first=True)
    lease = FIXED_NOW + timedelta(minutes=10)
    claimed: list[list[str]] = []
    barrier = threading.Barrier(2)

    def claim() -> None:
        barrier.wait()
        with factory() as session, session.begin():
            claimed.append([link.id for link in claim_due(session, FIXED_NOW, 3, lease)])

    workers = [threading.Thread(target=claim) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    every = [i for batch in claimed for i in batch]
    assert sorted(len(batch) for batch in claimed) == [2, 3]  # all five, none twice
    assert len(set(every)) == 5
    with factory() as session, session.begin():
        assert claim_due(session, FIXED_NOW, 3, lease) == []  # all leased
        after = FIXED_NOW + timedelta(minutes=11)  # leases expired: a worker died mid-check
        assert len(claim_due(session, after, 10, after + timedelta(minutes=10))) == 5


def test_the_checker_is_off_in_tests_and_on_elsewhere_unless_set():
    assert link_checker_enabled(load_settings(environment="test")) is False
    assert link_checker_enabled(load_settings(environment="development")) is True
    assert link_checker_enabled(load_settings(environment="test", link_checker=True)) is True
    assert link_checker_enabled(load_settings(link_checker=False)) is False


def test_the_app_runs_the_checker_in_the_background_until_it_stops(app, engine, session, site):
    cite(engine, site.url("/ok"))
    settings = app.state.settings.model_copy(
        update={"link_checker": True, "link_check_poll_seconds": 0.05}
    )
    background = create_app(settings, engine=engine)
    background.state.clock = lambda: FIXED_NOW
    with TestClient(background):
        assert site.arrived.wait(30), "the checker asked for nothing"
    # Shut down: the pass under way finished with the link it was checking, then stopped.
    assert link_of(session, site.url("/ok")).status == "ok"
    assert site.paths() == [("HEAD", "/ok")]

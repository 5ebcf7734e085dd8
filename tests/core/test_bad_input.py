"""Bad input on the public list endpoints is a 4xx problem document, never a 500 (CONTRACT §2, §4).

Each case goes through HTTP to the real app, on every configured database backend.
"""

import base64
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.core.problems import PROBLEM_MEDIA_TYPE, assert_problem, error_locations
from tests.factories import article, bundle, load, two_of_each


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    paginated: bool = True
    # A query giving a cursor for a sort order other than this endpoint's default.
    other_sort: str | None = None

    def get(self, client: Any, params: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        return client.get(self.path, params={**self.params, **(params or {})}, **kwargs)

    def __str__(self) -> str:
        return self.name


ARTICLES = Endpoint("articles", "/v1/articles", other_sort="/v1/articles?sort=title&limit=1")
TAGS = Endpoint("tags", "/v1/tags", other_sort="/v1/tags?sort=-name&limit=1")
SOURCES = Endpoint("sources", "/v1/sources", other_sort="/v1/sources?sort=-name&limit=1")
ACTIONS = Endpoint("actions", "/v1/actions", other_sort="/v1/actions?sort=title&limit=1")
AUTHORS = Endpoint("authors", "/v1/authors", other_sort="/v1/authors?sort=-name&limit=1")
# Search ranks by relevance only; an article-list cursor belongs to another order.
SEARCH = Endpoint("search", "/v1/search", {"q": "rights"}, other_sort="/v1/articles?limit=1")
RELATED = Endpoint("related", "/v1/articles/first-story/related", paginated=False)

LISTS = [ARTICLES, TAGS, SOURCES, ACTIONS, AUTHORS, SEARCH, RELATED]
PAGINATED = [e for e in LISTS if e.paginated]
WITH_INCLUDE = [ARTICLES, SEARCH, RELATED]
WITH_SLUG_FILTERS = [
    (ARTICLES, "tag"),
    (ARTICLES, "source"),
    (ARTICLES, "action"),
    (ARTICLES, "author"),
    (SEARCH, "tag"),
]


@pytest.fixture
def seeded(engine: Any) -> None:
    """At least two of everything, so each list has a second page and related has a hit."""
    load(
        engine,
        bundle(
            **two_of_each(),
            articles=[
                article(
                    "first-story",
                    days_ago=3,
                    title="Rights first",
                    tags=["rights"],
                    authors=["alex"],
                    sources=[{"source": "hrw"}],
                    actions=["petition"],
                ),
                article("second-story", days_ago=2, title="Rights second", tags=["rights"]),
                article("third-story", days_ago=1, title="Rights third", tags=["rights", "russia"]),
            ],
        ),
    )


def encode(payload: Any) -> str:
    raw = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode(cursor: str) -> Any:
    return orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))


def first_cursor(client: Any, endpoint: Endpoint) -> str:
    response = endpoint.get(client, {"limit": 1})
    assert response.status_code == 200, response.text
    cursor = response.json()["meta"]["next_cursor"]
    assert cursor, f"{endpoint} needs a second page for this test"
    return str(cursor)


# --- limit -----------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", LISTS, ids=str)
@pytest.mark.parametrize(
    "limit", ["0", "101", "all", "-1", "1.5", "", "1e2", "99999999999999999999"]
)
def test_out_of_range_or_non_integer_limit_is_422(client, seeded, endpoint, limit):
    body = assert_problem(endpoint.get(client, {"limit": limit}), 422)
    assert ["query", "limit"] in error_locations(body)


@pytest.mark.parametrize("endpoint", LISTS, ids=str)
@pytest.mark.parametrize("limit", ["1", "100"])
def test_limit_bounds_are_accepted(client, seeded, endpoint, limit):
    response = endpoint.get(client, {"limit": limit})
    assert response.status_code == 200, response.text
    assert response.json()["meta"]["limit"] == int(limit)


# --- cursor ----------------------------------------------------------------------------

GARBAGE_CURSORS = [
    "garbage!!",
    "not a cursor",
    "AAAA",
    "%%%",
    "é",
    encode(b"hello"),
    encode(b"\xff\xfe\x00"),
    encode(b"[1,2,3,4]"),
    encode(b'"a string"'),
    encode(b"{}"),
    encode(b"null"),
    encode(b"[]"),
    encode({"sort": "name", "kind": "s", "value": "x", "id": "y"}),
]


@pytest.mark.parametrize("endpoint", PAGINATED, ids=str)
@pytest.mark.parametrize("cursor", GARBAGE_CURSORS)
def test_malformed_cursor_is_400(client, seeded, endpoint, cursor):
    body = assert_problem(endpoint.get(client, {"cursor": cursor}), 400)
    assert "cursor" in body["detail"]


def _flip_kind(parts: list[Any]) -> list[Any]:
    return [parts[0], "s" if parts[1] == "t" else "t", *parts[2:]]


# Each tampering of a real cursor must be refused as malformed on every sort column.
TAMPERINGS = {
    "kind-flipped": _flip_kind,
    "unknown-kind": lambda p: [p[0], "x", *p[2:]],
    "value-null": lambda p: [p[0], p[1], None, p[3]],
    "value-boolean": lambda p: [p[0], p[1], True, p[3]],
    "value-list": lambda p: [p[0], p[1], [p[2]], p[3]],
    "value-object": lambda p: [p[0], p[1], {"v": p[2]}, p[3]],
    "id-number": lambda p: [*p[:3], 5],
    "id-null": lambda p: [*p[:3], None],
    "id-with-nul": lambda p: [*p[:3], p[3] + "\x00"],
    "id-missing": lambda p: p[:3],
    "extra-part": lambda p: [*p, "more"],
}
# Tamperings that only make sense for one kind of sort column.
TYPED_TAMPERINGS = {
    "time": {
        "not-a-time": lambda p: [p[0], "t", "last tuesday", p[3]],
        "time-as-number": lambda p: [p[0], "t", 1700000000, p[3]],
        "after-year-9999-in-utc": lambda p: [p[0], "t", "9999-12-31T23:59:59-23:59", p[3]],
        "before-year-1-in-utc": lambda p: [p[0], "t", "0001-01-01T00:00:00+01:00", p[3]],
    },
    "text": {
        "text-as-number": lambda p: [p[0], "s", 5, p[3]],
        "text-as-huge-number": lambda p: [p[0], "s", 1e308, p[3]],
        "text-as-time": lambda p: [p[0], "t", "2020-01-01T00:00:00", p[3]],
        "text-with-nul": lambda p: [p[0], "s", "Ri\x00ghts", p[3]],
    },
    "number": {
        "number-as-text": lambda p: [p[0], "s", "abc", p[3]],
        "number-as-numeric-text": lambda p: [p[0], "s", "1.5", p[3]],
        "number-as-time": lambda p: [p[0], "t", "2020-01-01T00:00:00", p[3]],
    },
}
SORT_COLUMN_KIND = {
    "articles": "time",
    "actions": "time",
    "tags": "text",
    "sources": "text",
    "authors": "text",
    "search": "number",
}
TAMPER_CASES = [
    pytest.param(endpoint, name, tamper, id=f"{endpoint}-{name}")
    for endpoint in PAGINATED
    for name, tamper in [
        *TAMPERINGS.items(),
        *TYPED_TAMPERINGS[SORT_COLUMN_KIND[endpoint.name]].items(),
    ]
]


@pytest.mark.parametrize(("endpoint", "name", "tamper"), TAMPER_CASES)
def test_tampered_cursor_is_400(client, seeded, endpoint, name, tamper):
    parts = decode(first_cursor(client, endpoint))
    assert isinstance(parts, list) and len(parts) == 4, parts
    tampered = encode(tamper(list(parts)))
    body = assert_problem(endpoint.get(client, {"cursor": tampered}), 400)
    assert "cursor" in body["detail"]


@pytest.mark.parametrize("endpoint", PAGINATED, ids=str)
def test_untampered_cursor_round_trip_is_accepted(client, seeded, endpoint):
    """The control for the tampering cases: re-encoding a real cursor unchanged works."""
    cursor = encode(decode(first_cursor(client, endpoint)))
    response = endpoint.get(client, {"cursor": cursor, "limit": 1})
    assert response.status_code == 200, response.text
    assert len(response.json()["data"]) == 1


@pytest.mark.parametrize("endpoint", PAGINATED, ids=str)
def test_cursor_from_another_sort_is_400(client, seeded, endpoint):
    assert endpoint.other_sort
    other = client.get(endpoint.other_sort).json()["meta"]["next_cursor"]
    assert other
    body = assert_problem(endpoint.get(client, {"cursor": other}), 400)
    assert "sort" in body["detail"]


@pytest.mark.parametrize("endpoint", PAGINATED, ids=str)
def test_over_long_cursor_is_422(client, seeded, endpoint):
    body = assert_problem(endpoint.get(client, {"cursor": "A" * 513}), 422)
    assert ["query", "cursor"] in error_locations(body)


def test_related_takes_no_cursor(client, seeded):
    body = assert_problem(RELATED.get(client, {"cursor": first_cursor(client, ARTICLES)}), 422)
    assert ["query", "cursor"] in error_locations(body)


# --- unknown parameters, fields, include, sort -------------------------------------------


@pytest.mark.parametrize("endpoint", LISTS, ids=str)
@pytest.mark.parametrize("name", ["bogus", "status", "offset", "page", "Limit"])
def test_unknown_query_parameter_is_422_naming_it(client, seeded, endpoint, name):
    body = assert_problem(endpoint.get(client, {name: "1"}), 422)
    assert ["query", name] in error_locations(body)
    assert name in body["detail"]


@pytest.mark.parametrize("endpoint", LISTS, ids=str)
@pytest.mark.parametrize("fields", ["nope", "slug,nope", "password", "", ",", "slug;title"])
def test_unknown_fields_are_422(client, seeded, endpoint, fields):
    body = assert_problem(endpoint.get(client, {"fields": fields}), 422)
    assert all(loc == ["query", "fields"] for loc in error_locations(body))
    for name in {"nope", "password", "slug;title"} & set(fields.split(",")):
        assert name in body["detail"]


@pytest.mark.parametrize("endpoint", LISTS, ids=str)
def test_known_field_is_accepted(client, seeded, endpoint):
    """The control for the `fields` cases: a real field name gives a sparse 200."""
    response = endpoint.get(client, {"fields": "slug"})
    assert response.status_code == 200, response.text
    assert all(set(item) == {"id", "slug"} for item in response.json()["data"])


@pytest.mark.parametrize("endpoint", WITH_INCLUDE, ids=str)
@pytest.mark.parametrize("include", ["bogus", "tags,bogus", "TAGS", "body_html", "tags;authors"])
def test_unknown_include_is_422(client, seeded, endpoint, include):
    body = assert_problem(endpoint.get(client, {"include": include}), 422)
    assert error_locations(body) and all(
        loc == ["query", "include"] for loc in error_locations(body)
    )


@pytest.mark.parametrize("endpoint", [TAGS, SOURCES, ACTIONS, AUTHORS], ids=str)
def test_include_is_unknown_where_nothing_is_embedded(client, seeded, endpoint):
    body = assert_problem(endpoint.get(client, {"include": "tags"}), 422)
    assert ["query", "include"] in error_locations(body)


@pytest.mark.parametrize("endpoint", LISTS, ids=str)
@pytest.mark.parametrize("sort", ["bogus", "random()", "-", "--title", "title desc", "id"])
def test_unknown_sort_is_422(client, seeded, endpoint, sort):
    body = assert_problem(endpoint.get(client, {"sort": sort}), 422)
    assert ["query", "sort"] in error_locations(body)


def test_another_lists_sort_is_422_on_articles(client, seeded):
    body = assert_problem(ARTICLES.get(client, {"sort": "name"}), 422)
    assert ["query", "sort"] in error_locations(body)


@pytest.mark.parametrize("endpoint", PAGINATED, ids=str)
@pytest.mark.parametrize("count", ["maybe", "2", "yes please"])
def test_non_boolean_count_is_422(client, seeded, endpoint, count):
    body = assert_problem(endpoint.get(client, {"count": count}), 422)
    assert ["query", "count"] in error_locations(body)


# --- filters -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("published_after", "yesterday"),
        ("published_after", "2020-13-01"),
        ("published_after", "2020-01-01T25:00:00Z"),
        ("published_before", "2020-02-30"),
        ("published_before", "01/02/2020"),
        ("updated_after", "now"),
        ("updated_after", "2020-01-01T00:00:00+25:00"),
        # Not RFC 3339 `date-time`, though Pydantic alone would read them (found by fuzzing).
        ("published_after", "0"),
        ("published_after", "1700000000"),
        ("published_after", "2020-01-01"),
        ("published_before", "2020-01-01T00:00:00"),
        ("published_before", "2020-01-01 00:00:00Z"),
        ("updated_after", "2020-01-01T00:00Z"),
    ],
)
def test_bad_dates_are_422(client, seeded, name, value):
    body = assert_problem(ARTICLES.get(client, {name: value}), 422)
    assert ["query", name] in error_locations(body)


def test_lower_case_t_and_z_are_rfc_3339(client, seeded):
    response = ARTICLES.get(client, {"published_after": "2000-01-01t00:00:00z"})
    assert response.status_code == 200, response.text
    assert response.json()["data"]


@pytest.mark.parametrize(
    ("bound", "expect_all"),
    [
        ("9999-12-31T23:59:59-23:59", False),  # after a time past 9999: nothing
        ("0001-01-01T00:00:00+01:00", True),  # after a time before year 1: everything
    ],
)
def test_filter_time_beyond_utc_range_means_its_end(client, seeded, bound, expect_all):
    """Valid `date-time`s that UTC cannot hold are not refused: they bound the range."""
    every = ARTICLES.get(client, {"limit": 100}).json()["data"]
    response = ARTICLES.get(client, {"published_after": bound, "limit": 100})
    assert response.status_code == 200, response.text
    assert response.json()["data"] == (every if expect_all else [])


@pytest.mark.parametrize(("endpoint", "name"), WITH_SLUG_FILTERS, ids=str)
@pytest.mark.parametrize("value", ["UPPER!", "a b", "a_b", "-leading", "ok,Not-Ok", "x" * 201])
def test_invalid_slug_list_is_422(client, seeded, endpoint, name, value):
    body = assert_problem(endpoint.get(client, {name: value}), 422)
    assert ["query", name] in error_locations(body)


@pytest.mark.parametrize(("endpoint", "name"), WITH_SLUG_FILTERS, ids=str)
def test_too_many_slugs_is_422(client, seeded, endpoint, name):
    many = ",".join(f"s{i}" for i in range(51))
    body = assert_problem(endpoint.get(client, {name: many}), 422)
    assert ["query", name] in error_locations(body)


@pytest.mark.parametrize("endpoint", [ARTICLES, SEARCH], ids=str)
@pytest.mark.parametrize("lang", ["english", "e", "en_US", "12", "en-", "en--gb", "-en"])
def test_bad_lang_is_422(client, seeded, endpoint, lang):
    body = assert_problem(endpoint.get(client, {"lang": lang}), 422)
    assert ["query", "lang"] in error_locations(body)


@pytest.mark.parametrize("endpoint", [ARTICLES, SEARCH], ids=str)
def test_q_over_200_characters_is_422(client, seeded, endpoint):
    body = assert_problem(endpoint.get(client, {"q": "a" * 201}), 422)
    assert ["query", "q"] in error_locations(body)
    assert endpoint.get(client, {"q": "a" * 200}).status_code == 200


@pytest.mark.parametrize("query", ["", "?q=", "?limit=2"])
def test_search_without_q_is_422(client, seeded, query):
    body = assert_problem(client.get(f"/v1/search{query}"), 422)
    assert ["query", "q"] in error_locations(body)


@pytest.mark.parametrize(
    ("name", "value"), [("kind", "blog"), ("kind", "NGO"), ("country", "GBR"), ("country", "1")]
)
def test_bad_source_filters_are_422(client, seeded, name, value):
    body = assert_problem(SOURCES.get(client, {name: value}), 422)
    assert ["query", name] in error_locations(body)


@pytest.mark.parametrize(("name", "value"), [("active", "maybe"), ("kind", "riot")])
def test_bad_action_filters_are_422(client, seeded, name, value):
    body = assert_problem(ACTIONS.get(client, {name: value}), 422)
    assert ["query", name] in error_locations(body)


@pytest.mark.parametrize(
    "url",
    [
        "/v1/articles/%00",
        "/v1/tags/%00",
        "/v1/sources/a%00b",
        "/v1/actions/%00",
        "/v1/authors/%00",
        "/v1/articles?q=%00",
        "/v1/search?q=rights%00",
        "/v1/articles?tag=rights%00",
        "/v1/tags?fields=slug%00",
    ],
)
def test_nul_anywhere_in_the_url_is_a_4xx_problem(client, seeded, url):
    response = client.get(url)
    assert 400 <= response.status_code < 500, response.text
    assert_problem(response, response.status_code)


# --- size, routes, methods ---------------------------------------------------------------


@pytest.mark.parametrize("endpoint", LISTS, ids=str)
def test_query_string_over_2048_bytes_is_414(client, seeded, endpoint):
    response = endpoint.get(client, {"tag": "a" * 2100})
    body = assert_problem(response, 414)
    assert "2048" in body["detail"]


def test_query_string_of_exactly_2048_bytes_is_not_414(client, seeded):
    query = "zz=" + "a" * 2045
    assert len(query) == 2048
    body = assert_problem(client.get(f"/v1/articles?{query}"), 422)
    assert ["query", "zz"] in error_locations(body)
    assert_problem(client.get(f"/v1/articles?{query}a"), 414)


@pytest.mark.parametrize(
    "path",
    [
        "/v1/nothing",
        "/v1",
        "/nothing",
        "/v1/articles/first-story/nothing",
        "/v1/tags/a/b",
        "/v2/tags",
    ],
)
def test_unknown_route_is_404_problem(client, seeded, path):
    assert_problem(client.get(path), 404)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/tags"),
        ("PUT", "/v1/articles"),
        ("DELETE", "/v1/sources"),
        ("PATCH", "/v1/actions"),
        ("POST", "/v1/authors"),
        ("POST", "/v1/search"),
        ("POST", "/v1/articles/first-story/related"),
        ("DELETE", "/v1/articles/first-story"),
    ],
)
def test_wrong_method_is_405_problem(client, seeded, method, path):
    response = client.request(method, path)
    assert_problem(response, 405)
    assert "GET" in response.headers["allow"]


# --- property: nothing a client sends makes the server fail ------------------------------

SORT_NAMES = ["-published_at", "title", "name", "-name", "-created_at", "-relevance", "x"]
forged_cursors = st.builds(
    lambda parts: encode(parts),
    st.tuples(
        st.sampled_from(SORT_NAMES),
        st.sampled_from(["t", "s", "x"]),
        st.one_of(
            st.text(max_size=30),
            st.integers(min_value=-(2**63), max_value=2**63 - 1),
            st.floats(allow_nan=False, allow_infinity=False),
            st.none(),
            st.booleans(),
            st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
        ),
        st.one_of(st.text(max_size=40), st.integers(-(2**63), 2**63 - 1), st.none()),
    ).map(list),
)
awkward_values = st.sampled_from(
    ["0", "101", "-1", "1.5", "all", "", ",", "title", "-title", "name", "slug,,title", "%00"]
)
parameter_values = st.one_of(st.text(max_size=60), awkward_values, forged_cursors)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    endpoint=st.sampled_from(LISTS),
    params=st.dictionaries(
        st.sampled_from(["limit", "cursor", "fields", "sort", "tag"]),
        parameter_values,
        max_size=5,
    ),
)
def test_random_parameters_never_cause_a_5xx(client, seeded, endpoint, params):
    response = endpoint.get(client, params)
    assert response.status_code < 500, (params, response.text[:300])
    if response.status_code >= 400:
        assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
        assert response.json()["status"] == response.status_code

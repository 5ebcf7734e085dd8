"""The response-model check (`tests/response_models.py`) can fail: throw-away routes whose
bodies do not match their declared models are caught, and the plugin fails the test."""

from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from fastapi.testclient import TestClient
from pydantic import BaseModel

from api.core.envelopes import ItemEnvelope, ListEnvelope
from api.core.errors import PROBLEM_MEDIA_TYPE
from tests.response_models import ResponseModelCheck

ROOT = Path(__file__).resolve().parent.parent


class Part(BaseModel):
    name: str


class Thing(BaseModel):
    id: str
    count: int
    label: str | None
    parts: list[Part]


GOOD = {"id": "t1", "count": 2, "label": None, "parts": [{"name": "p"}]}


def thing_app(body: Any, *, status: int = 200, media_type: str = "application/json") -> FastAPI:
    app = FastAPI()

    @app.get("/thing", response_model=ItemEnvelope[Thing])
    def thing() -> Response:
        return JSONResponse({"data": body}, status_code=status, media_type=media_type)

    @app.get("/things", response_model=ListEnvelope[Thing])
    def things() -> Response:
        meta = {"limit": 1, "next_cursor": None}
        links = {"self": "/things", "next": None}
        return JSONResponse({"data": [body], "meta": meta, "links": links})

    return app


def check(body: Any, url: str = "/thing", **kwargs: Any) -> tuple[ResponseModelCheck, list[str]]:
    checker = ResponseModelCheck()
    app = thing_app(body, **kwargs)
    with TestClient(checker.wrap(app), raise_server_exceptions=False) as client:
        client.get(url)
    return checker, checker.take()


def test_a_matching_body_passes_and_is_counted():
    checker, found = check(GOOD)
    assert found == []
    assert checker.counts == {"validated: declared response models (routed)": 1}
    assert check(GOOD, "/things")[1] == []


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({k: v for k, v in GOOD.items() if k != "count"}, "data.count\n  Field required"),
        ({**GOOD, "count": "2"}, "data.count\n  Input should be a valid integer"),
        ({**GOOD, "count": 2.5}, "data.count\n  Input should be a valid integer"),
        ({**GOOD, "id": None}, "data.id\n  Input should be a valid string"),
        ({**GOOD, "parts": [{"name": 1}]}, "data.parts.0.name\n  Input should be a valid string"),
        ({**GOOD, "parts": {"name": "p"}}, "data.parts\n  Input should be a valid array"),
    ],
    ids=["missing", "string-for-int", "float-for-int", "null", "nested-type", "dict-for-list"],
)
def test_a_body_that_does_not_match_its_model_is_reported(body, error):
    _checker, found = check(body)
    assert len(found) == 1
    assert found[0].startswith("GET /thing -> 200: response does not match ItemEnvelope[Thing]:")
    assert error in found[0]


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({**GOOD, "secret": "x"}, "data.secret"),
        ({**GOOD, "parts": [{"name": "p", "extra": 1}]}, "data.parts[0].extra"),
    ],
)
def test_keys_the_model_does_not_declare_are_reported(body, where):
    found = check(body)[1]
    assert found == [
        "GET /thing -> 200: response does not match ItemEnvelope[Thing]: "
        f"keys it does not declare: {where}"
    ]


def test_a_list_envelope_is_checked_item_by_item():
    found = check({**GOOD, "label": 3}, "/things?limit=1")[1]
    assert found[0].startswith("GET /things?limit=1 -> 200: response does not match")
    assert "data.0.label" in found[0]


def test_a_sparse_fieldset_may_leave_out_what_it_did_not_ask_for_and_nothing_else():
    assert check({"id": "t1", "count": 2}, "/things?fields=count")[1] == []
    found = check({"id": "t1"}, "/things?fields=count")[1]
    assert len(found) == 1 and "data.0.count\n  Field required" in found[0]
    found = check({"id": "t1", "count": "2"}, "/things?fields=count")[1]
    assert len(found) == 1 and "Input should be a valid integer" in found[0]


def test_problem_documents_are_checked_against_problem():
    app = FastAPI()

    @app.get("/broken")
    def broken_problem() -> Response:
        return JSONResponse({"title": "Oops", "status": "404"}, 404, media_type=PROBLEM_MEDIA_TYPE)

    @app.get("/plain-error")
    def plain_error() -> Response:
        return JSONResponse({"error": "nope"}, 404)

    checker = ResponseModelCheck()
    with TestClient(checker.wrap(app), raise_server_exceptions=False) as client:
        client.get("/broken")
        client.get("/plain-error")
        client.get("/no-such-route")  # FastAPI's own 404: JSON, not a problem document
    broken, plain, unrouted = checker.take()
    assert broken.startswith("GET /broken -> 404: response does not match Problem:")
    assert "type\n  Field required" in broken
    assert "status\n  Input should be a valid integer" in broken
    assert plain == (
        "GET /plain-error -> 404: response an error answered as JSON, not as a problem document"
    )
    assert unrouted.startswith("GET /no-such-route -> 404")


def test_gzip_bodies_and_bodies_that_are_no_json_are_handled():
    from starlette.middleware.gzip import GZipMiddleware

    app = thing_app({**GOOD, "parts": [{"name": "p" * 2000}]})
    app.add_middleware(GZipMiddleware, minimum_size=10)
    checker = ResponseModelCheck()
    with TestClient(checker.wrap(app)) as client:
        assert client.get("/thing").headers["content-encoding"] == "gzip"
    assert checker.take() == []
    assert checker.counts["validated: declared response models (routed)"] == 1

    found = check("not json", media_type="text/plain")[1]
    assert found == []


INNER_TESTS = """
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from pydantic import BaseModel

from api.main import Masthead


class Thing(BaseModel):
    count: int


def app_answering(body):
    app = Masthead()

    @app.get("/thing", response_model=Thing)
    def thing():
        return JSONResponse(body)

    return app


def test_wrong_body():
    with TestClient(app_answering({"count": "many"}), raise_server_exceptions=False) as client:
        assert client.get("/thing").status_code == 200


def test_right_body():
    with TestClient(app_answering({"count": 3}), raise_server_exceptions=False) as client:
        assert client.get("/thing").status_code == 200
"""


def test_the_plugin_fails_the_test_that_received_a_mismatch(pytester, monkeypatch):
    """The same hook, installed as the suite installs it (around every `Masthead` app), in a
    pytest run of its own: the test that got the wrong body fails, the other passes."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")  # a quicker start
    pytester.makepyfile(test_inner=INNER_TESTS)
    result = pytester.runpytest_subprocess("-p", "tests.response_models", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ test_wrong_body _*",
            "Responses that do not match their declared models:",
            "GET /thing -> 200: response does not match Thing:",
            "*Input should be a valid integer*",
            "*responses checked against their declared models*",
            "1 responses validated",
            "*1  mismatches",
            "FAILED test_inner.py::test_wrong_body*",
        ]
    )

"""What every error response must look like (CONTRACT §2 "Envelopes", RFC 9457)."""

from typing import Any

PROBLEM_MEDIA_TYPE = "application/problem+json"


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status; returns the document."""
    assert response.status_code == status, (response.status_code, response.text[:500])
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE, response.headers
    body = response.json()
    assert body["status"] == status
    for member in ("type", "title", "detail"):
        assert isinstance(body[member], str) and body[member], (member, body)
    assert "Traceback" not in response.text
    if status == 422:
        assert body["errors"], body
        for issue in body["errors"]:
            assert set(issue) == {"loc", "msg"}, issue
            assert isinstance(issue["loc"], list) and issue["loc"], issue
            assert isinstance(issue["msg"], str) and issue["msg"], issue
    return body  # type: ignore[no-any-return]


def error_locations(body: dict[str, Any]) -> list[list[str | int]]:
    return [issue["loc"] for issue in body["errors"]]

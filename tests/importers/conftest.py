"""Running `masthead import --from …` against the test database, and reading the result."""

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner, Result

from api.cli import app

FIXTURES = Path(__file__).parent / "fixtures"
GHOST_SITE = "https://campaign.example.org"
runner = CliRunner()


@pytest.fixture
def masthead(engine: Engine) -> Callable[..., Result]:
    """`masthead(*args)` runs the real command on the test database."""
    env = {"MASTHEAD_DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    return lambda *args: runner.invoke(app, [str(arg) for arg in args], env=env)


def one_line(text: str) -> str:
    lines = text.strip("\n").splitlines()
    assert len(lines) == 1, f"expected one line, got {text!r}"
    return lines[0]


def public_answers(client: TestClient) -> dict[str, bytes]:
    """Every public answer an import shapes: lists, each article, tags, authors, a feed."""
    paths = ["/v1/articles?limit=100", "/v1/tags?limit=100", "/v1/authors?limit=100"]
    listing = client.get(paths[0])
    assert listing.status_code == 200, listing.text
    paths += [f"/v1/articles/{a['slug']}" for a in listing.json()["data"]]
    paths += [f"/v1/tags/{t['slug']}" for t in client.get(paths[1]).json()["data"]]
    paths += ["/feeds/rss.xml", "/v1/search?q=the"]
    answers = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, (path, response.text)
        answers[path] = response.content
    return answers


def counts(report: dict[str, dict[str, int]], heading: str) -> dict[str, int]:
    return {kind: n for kind, n in report[heading].items() if n}

"""`/examples/` is served only when MASTHEAD_EXAMPLES is on, from the repository's folder,
under a content security policy that allows this origin only."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.examples import EXAMPLE_POLICY, MissingExamples, install_examples
from api.main import create_app


def test_examples_are_not_served_by_default(client):
    assert client.get("/examples/seed-page/").status_code == 404


def test_the_seed_page_is_served_when_asked(settings, engine):
    app = create_app(settings.model_copy(update={"examples": True}), engine=engine)
    with TestClient(app) as client:
        page = client.get("/examples/seed-page/")
        assert page.status_code == 200
        assert page.headers["Content-Type"].startswith("text/html")
        assert page.headers["Content-Security-Policy"] == EXAMPLE_POLICY
        assert "default-src 'self'" in EXAMPLE_POLICY
        assert '<script type="module" src="seed-page.js">' in page.text
        module = client.get("/examples/seed-page/seed-page.js")
        assert module.status_code == 200
        assert "javascript" in module.headers["Content-Type"]
        # Every request of the module goes to the API it was served with.
        assert "http://" not in module.text and "https://" not in module.text
        assert client.get("/examples/seed-page/seed-page.css").status_code == 200
        assert client.get("/examples/../api/main.py").status_code == 404


def test_a_missing_examples_folder_is_said_at_start_up(tmp_path: Path, app):
    with pytest.raises(MissingExamples, match="does not exist"):
        install_examples(app, tmp_path / "nowhere")

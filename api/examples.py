"""The example frontends of `examples/`, served at `/examples/` when `MASTHEAD_EXAMPLES` is
on (`masthead serve --examples`): same origin as the API, so they need no CORS."""

import os
from pathlib import Path

from fastapi import FastAPI
from starlette.responses import Response
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Scope

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
# The examples load nothing from any other host; the browser holds them to it.
EXAMPLE_POLICY = (
    "default-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'; object-src 'none'"
)


class MissingExamples(RuntimeError):
    """`MASTHEAD_EXAMPLES` is on but there is no `examples/` folder (an installed package
    has none; a checkout of the repository has)."""


class ExampleFiles(StaticFiles):
    """Static files under a content security policy allowing this origin only."""

    def file_response(
        self,
        full_path: PathLike,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Content-Security-Policy"] = EXAMPLE_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def install_examples(app: FastAPI, directory: Path = EXAMPLES) -> None:
    if not directory.is_dir():
        raise MissingExamples(
            f"MASTHEAD_EXAMPLES is on but {directory} does not exist; run from a checkout "
            "of the repository"
        )
    app.mount("/examples", ExampleFiles(directory=directory, html=True), name="examples")

"""`masthead import`, `masthead export`, `masthead openapi` and settings errors (CONTRACT §8)."""

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner, Result

from api.bundle.validation import KINDS
from api.cli import app
from tests.bundle.conftest import exported, small_bundle
from tests.factories import load

runner = CliRunner()


@pytest.fixture
def env(engine: Engine) -> dict[str, str]:
    return {"MASTHEAD_DATABASE_URL": engine.url.render_as_string(hide_password=False)}


def masthead(env: dict[str, str], *args: str, stdin: bytes | None = None) -> Result:
    return runner.invoke(app, list(args), env=env, input=stdin)


def write(path: Path, data: Any) -> Path:
    path.write_bytes(orjson.dumps(data))
    return path


def one_line(text: str) -> str:
    lines = text.strip("\n").splitlines()
    assert len(lines) == 1, f"expected one line, got {text!r}"
    return lines[0]


def test_import_prints_a_json_report(env, engine, tmp_path):
    data = small_bundle()
    bundle_file = write(tmp_path / "bundle.json", data)

    first = masthead(env, "import", str(bundle_file))
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout) == {
        "created": {kind: len(data[kind]) for kind in KINDS},
        "updated": dict.fromkeys(KINDS, 0),
        "unchanged": dict.fromkeys(KINDS, 0),
    }
    assert sorted(a["slug"] for a in exported(engine)["articles"]) == [
        f"story-{n}" for n in range(5)
    ]

    again = masthead(env, "import", str(bundle_file))
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["unchanged"] == {kind: len(data[kind]) for kind in KINDS}


def test_import_reads_standard_input(env, engine):
    result = masthead(env, "import", "-", stdin=orjson.dumps(small_bundle()))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["created"]["articles"] == 5
    assert len(exported(engine)["articles"]) == 5


def test_a_bad_bundle_exits_1_naming_the_item_and_changes_nothing(env, engine, state, tmp_path):
    load(engine, small_bundle())
    before = state()
    data = small_bundle()
    data["articles"][0]["title"] = "Changed, but must not land"
    data["articles"][3]["slug"] = "a-rather-long-slug-so-the-message-would-wrap-on-a-terminal"
    data["articles"][3]["tags"] = ["rights", "a-tag-nobody-defined-anywhere-in-this-bundle"]

    result = masthead(env, "import", str(write(tmp_path / "bad.json", data)))

    assert result.exit_code == 1
    line = one_line(result.stderr)
    assert line.startswith("masthead: ")
    assert "articles[3]" in line and "a-tag-nobody-defined-anywhere-in-this-bundle" in line
    assert result.stdout == ""
    assert state() == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "is not JSON"),
        (b'{"format": "masthead-bundle", "version": 1, "tags": [{"slug": "x"}]}', "tags[0]"),
        (b"[]", "bundle"),
    ],
    ids=["not json", "missing name", "not an object"],
)
def test_an_unreadable_bundle_exits_1_with_one_line(env, tmp_path, content, message):
    bundle_file = tmp_path / "bundle.json"
    bundle_file.write_bytes(content)
    result = masthead(env, "import", str(bundle_file))
    assert result.exit_code == 1
    line = one_line(result.stderr)
    assert line.startswith("masthead: ") and message in line


def test_a_missing_bundle_file_exits_1(env, tmp_path):
    result = masthead(env, "import", str(tmp_path / "nowhere.json"))
    assert result.exit_code == 1
    assert one_line(result.stderr).startswith("masthead: cannot read the bundle")


def test_export_writes_a_bundle_that_imports_as_unchanged(env, engine, tmp_path):
    load(engine, small_bundle())
    out = tmp_path / "export.json"

    result = masthead(env, "export", str(out))

    assert result.exit_code == 0, result.output
    written = orjson.loads(out.read_bytes())
    assert written == exported(engine)
    assert written["format"] == "masthead-bundle" and written["version"] == 1
    again = masthead(env, "import", str(out))
    assert again.exit_code == 0, again.output
    report = json.loads(again.stdout)
    assert report["unchanged"] == {kind: len(written[kind]) for kind in KINDS}
    assert set(report["created"].values()) == set(report["updated"].values()) == {0}


def test_export_without_a_file_writes_standard_output(env, engine):
    load(engine, small_bundle())
    result = masthead(env, "export")
    assert result.exit_code == 0, result.output
    assert orjson.loads(result.stdout) == exported(engine)


def test_openapi_writes_the_document(tmp_path):
    out = tmp_path / "nested" / "openapi.json"
    result = runner.invoke(app, ["openapi", "--output", str(out)])
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text())
    assert document["openapi"].startswith("3.1")
    assert {"/v1/articles", "/v1/search", "/v1/tags"} <= set(document["paths"])


def test_db_current_names_the_head(env):
    result = masthead(env, "db", "current")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith("(head)")


@pytest.mark.parametrize("command", [["db", "current"], ["export"], ["import", "-"]], ids=" ".join)
def test_a_bad_setting_exits_2_with_one_line_naming_it(env, command):
    result = masthead({**env, "MASTHEAD_CACHE_MAX_AGE": "-5"}, *command, stdin=b"{}")
    assert result.exit_code == 2
    assert one_line(result.stderr).startswith("masthead: invalid setting MASTHEAD_CACHE_MAX_AGE")
    assert result.stdout == ""

"""An operator's mistake ends in one line on stderr naming the cause and the setting or
argument to fix, and a non-zero exit; a traceback only with --debug or
MASTHEAD_LOG_LEVEL=debug. Each test runs the real `masthead` command."""

import subprocess
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.cli.live import masthead, operator_env

UNREACHABLE_PG = "postgresql+psycopg://masthead@127.0.0.1:1/masthead"


def one_line_error(result: subprocess.CompletedProcess[str], *names: str) -> str:
    """The one `masthead: ` line, last on stderr (after any progress lines)."""
    assert result.returncode != 0, result
    lines = result.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("masthead: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], f"not one line:\n{result.stderr}"
    assert "Traceback" not in result.stderr and len(lines) <= 3, result.stderr
    line = errors[0]
    for name in names:
        assert name in line, (name, line)
    return line


@pytest.fixture
def sqlite_env(tmp_path: Path) -> dict[str, str]:
    return operator_env(f"sqlite:///{tmp_path / 'masthead.db'}")


def test_an_unreachable_database_is_one_line_naming_the_setting(tmp_path):
    result = masthead("serve", "--port", "1", env=operator_env(UNREACHABLE_PG), cwd=tmp_path)
    line = one_line_error(result, "MASTHEAD_DATABASE_URL", "cannot reach the database")
    assert "127.0.0.1:1" in line


def test_a_bad_migration_revision_is_one_line_naming_the_argument(engine: Engine, tmp_path):
    env = operator_env(engine.url.render_as_string(hide_password=False))
    result = masthead("db", "downgrade", "nope", env=env, cwd=tmp_path)
    one_line_error(result, "'nope'", "REVISION", "masthead db history")


def test_debug_shows_the_traceback(sqlite_env, tmp_path):
    flagged = masthead("--debug", "db", "downgrade", "nope", env=sqlite_env, cwd=tmp_path)
    assert flagged.returncode != 0 and "Traceback" in flagged.stderr
    by_setting = masthead(
        "db", "downgrade", "nope", env={**sqlite_env, "MASTHEAD_LOG_LEVEL": "debug"}, cwd=tmp_path
    )
    assert by_setting.returncode != 0 and "Traceback" in by_setting.stderr


@pytest.mark.parametrize("port", ["0", "65536"])
def test_a_port_outside_1_to_65535_is_one_line_naming_the_option(sqlite_env, tmp_path, port):
    result = masthead("serve", "--port", port, env=sqlite_env, cwd=tmp_path)
    one_line_error(result, "--port")
    assert result.returncode == 2


def test_a_missing_bundle_file_is_one_line_naming_the_argument(sqlite_env, tmp_path):
    result = masthead("import", "missing.json", env=sqlite_env, cwd=tmp_path)
    one_line_error(result, "FILE", "missing.json", "No such file")


def test_a_bad_setting_is_one_line_naming_it(sqlite_env, tmp_path):
    env = {**sqlite_env, "MASTHEAD_CACHE_MAX_AGE": "soon"}
    one_line_error(masthead("serve", env=env, cwd=tmp_path), "MASTHEAD_CACHE_MAX_AGE")


def test_a_database_path_that_cannot_be_made_is_one_line(tmp_path):
    (tmp_path / "file").write_text("not a directory")
    env = operator_env(f"sqlite:///{tmp_path / 'file' / 'masthead.db'}")
    one_line_error(masthead("db", "upgrade", env=env, cwd=tmp_path), "MASTHEAD_DATABASE_URL")


def test_production_without_smtp_refuses_to_serve_sign_ups(tmp_path):
    env = operator_env(
        f"sqlite:///{tmp_path / 'masthead.db'}",
        MASTHEAD_ENVIRONMENT="production",
        MASTHEAD_SECRET_KEY="a-production-secret-of-some-length",
    )
    result = masthead("serve", "--port", "1", env=env, cwd=tmp_path)
    one_line_error(result, "MASTHEAD_SMTP_URL", "MASTHEAD_SIGNUPS_ENABLED=false")
    assert not (tmp_path / "masthead.db").exists(), "it refused before touching the database"

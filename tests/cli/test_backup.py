"""`masthead backup` copies a running SQLite database consistently; `masthead restore` puts
a backup in place (refusing to overwrite without --force); the restored database answers
the API as the original did. PostgreSQL: the commands name pg_dump/pg_restore and stop."""

import sqlite3
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from api.auth.models import Role
from api.auth.service import issue_token
from api.core.db import make_sessionmaker
from tests.cli.live import LiveServer, live_server, masthead, operator_env
from tests.conftest import FIXED_NOW

READS = [
    "/v1/articles?limit=100&include=tags,authors,sources,actions",
    "/v1/tags?limit=100&count=true",
    "/v1/authors",
    "/v1/sources",
    "/v1/actions?active=all",
    "/v1/search?q=chech*",
]

# Both servers link to one public URL, so their answers can be compared whole.
QUIET = {"MASTHEAD_LOG_LEVEL": "warning", "MASTHEAD_PUBLIC_URL": "https://news.example"}


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Path]]:
    """A live server on an SQLite database with the demo content, shared by this module."""
    directory = tmp_path_factory.mktemp("backup")
    env = operator_env(f"sqlite:///{directory / 'live.db'}", **QUIET)
    with live_server(env, directory) as server:
        yield server, directory


def editor_token(database: Path) -> str:
    from api.core.db import make_engine
    from api.core.settings import load_settings

    engine = make_engine(load_settings(database_url=f"sqlite:///{database}"))
    try:
        with make_sessionmaker(engine)() as session, session.begin():
            _row, token = issue_token(
                session, name=f"writer-{uuid.uuid4().hex}", role=Role.editor, now=FIXED_NOW
            )
    finally:
        engine.dispose()
    return token


def every_page(base: str, path: str) -> list[Any]:
    items: list[Any] = []
    url: str | None = base + path
    while url:
        page = httpx.get(url.replace("https://news.example", base)).json()
        items += page["data"]
        url = page["links"].get("next")
    return items


def answers(base: str) -> dict[str, Any]:
    return {path: every_page(base, path) for path in READS}


def test_a_backup_taken_during_writes_restores_to_the_same_answers(running, tmp_path):
    server, directory = running
    auth = {"Authorization": f"Bearer {editor_token(directory / 'live.db')}"}
    stop = threading.Event()
    published: list[str] = []

    def write() -> None:
        with httpx.Client(base_url=server.base, headers=auth, timeout=30) as client:
            while not stop.is_set():
                n = len(published)
                created = client.post(
                    "/v1/admin/articles",
                    json={"title": f"During the backup {n}", "body_html": "<p>x</p>",
                          "tags": ["backups", f"batch-{n % 3}"]},
                )  # fmt: skip
                assert created.status_code == 201, created.text
                article_id = created.json()["data"]["id"]
                done = client.post(f"/v1/admin/articles/{article_id}/publish")
                assert done.status_code == 200, done.text
                published.append(article_id)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while len(published) < 3:
            stop.wait(0.05)
        env = operator_env(f"sqlite:///{directory / 'live.db'}")
        backup_file = tmp_path / "copy.db"
        made = masthead("backup", str(backup_file), env=env, cwd=tmp_path)
        assert made.returncode == 0, made.stderr
        assert "backed up to" in made.stderr
        written_before = len(published)
        while len(published) < written_before + 2:  # writes went on meanwhile
            stop.wait(0.05)
    finally:
        stop.set()
        writer.join()
    with sqlite3.connect(backup_file) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)

    restored_env = operator_env(f"sqlite:///{tmp_path / 'restored.db'}", **QUIET)
    restored = masthead("restore", str(backup_file), env=restored_env, cwd=tmp_path)
    assert restored.returncode == 0, restored.stderr
    with live_server(restored_env, tmp_path, "--no-demo") as copy:
        restored_answers = answers(copy.base)
    titles = [a["title"] for a in restored_answers[READS[0]]]
    backed_up = [t for t in titles if t.startswith("During the backup")]
    assert len(backed_up) >= 3
    # A consistent snapshot: the articles published up to some moment, each whole.
    assert sorted(backed_up) == sorted(f"During the backup {n}" for n in range(len(backed_up)))
    # Every article the copy has is the original's, answered alike; the rest is unchanged.
    live = answers(server.base)
    by_slug = {a["slug"]: a for a in live[READS[0]]}
    for article in restored_answers[READS[0]]:
        assert by_slug[article["slug"]] == article
    for path in READS[2:5]:
        assert restored_answers[path] == live[path], path
    tags = {t["slug"]: t["article_count"] for t in restored_answers[READS[1]]}
    assert tags["backups"] == len(backed_up)


def test_restore_refuses_to_overwrite_without_force(running, tmp_path):
    _server, directory = running
    env = operator_env(f"sqlite:///{directory / 'live.db'}")
    backup_file = tmp_path / "before.db"
    assert masthead("backup", str(backup_file), env=env, cwd=tmp_path).returncode == 0
    again = masthead("backup", str(backup_file), env=env, cwd=tmp_path)
    assert again.returncode == 1 and "--force" in again.stderr

    target = tmp_path / "target.db"
    target_env = operator_env(f"sqlite:///{target}")
    assert masthead("restore", str(backup_file), env=target_env, cwd=tmp_path).returncode == 0
    refused = masthead("restore", str(backup_file), env=target_env, cwd=tmp_path)
    assert refused.returncode == 1
    [line] = refused.stderr.strip().splitlines()
    assert "--force" in line and "MASTHEAD_DATABASE_URL" in line
    forced = masthead("restore", "--force", str(backup_file), env=target_env, cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr

    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("hello")
    bad = masthead("restore", "--force", str(not_a_backup), env=target_env, cwd=tmp_path)
    assert bad.returncode == 1 and len(bad.stderr.strip().splitlines()) == 1
    assert "not an SQLite database" in bad.stderr


def test_restore_over_a_running_server_is_seen_at_once(running, tmp_path):
    """The restored content replaces the live content in one step, and cached answers go."""
    server, directory = running
    env = operator_env(f"sqlite:///{directory / 'live.db'}")
    backup_file = tmp_path / "now.db"
    assert masthead("backup", str(backup_file), env=env, cwd=tmp_path).returncode == 0
    before = every_page(server.base, READS[1])
    auth = {"Authorization": f"Bearer {editor_token(directory / 'live.db')}"}
    made = httpx.post(f"{server.base}/v1/admin/tags", headers=auth, json={"name": "After"})
    assert made.status_code == 201, made.text
    assert every_page(server.base, READS[1]) != before  # cached anew
    forced = masthead("restore", "--force", str(backup_file), env=env, cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert every_page(server.base, READS[1]) == before


def test_on_postgresql_backup_and_restore_name_pg_dump_and_stop(engine: Engine, tmp_path):
    if engine.dialect.name != "postgresql":
        pytest.skip("the PostgreSQL answer")
    env = operator_env(engine.url.render_as_string(hide_password=False))
    for command in ("backup", "restore"):
        result = masthead(command, str(tmp_path / "x.db"), env=env, cwd=tmp_path)
        assert result.returncode == 1
        [line] = result.stderr.strip().splitlines()
        assert "pg_dump" in line and "pg_restore" in line, line

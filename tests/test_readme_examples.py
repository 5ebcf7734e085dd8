"""Every command of the README's "Try it" section runs as written against a live
`masthead serve` with the demo content, and answers 2xx or 3xx.

The commands are taken from the section's `sh` blocks; `localhost:8000` becomes the live
server's port and `.venv/bin/masthead` this environment's command. A placeholder such as
`<meta.next_since>` or `<id>` is filled from the newest earlier JSON answer that has that
field (`<etag>` from the newest `etag:` header shown). `curl` runs with `--fail`, so a 4xx or
5xx fails the command, and with `pipefail`, so a `| grep` that finds nothing fails it too.
"""

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cli.live import MASTHEAD, LiveServer, live_server, operator_env
from tests.conftest import fresh_database

README = Path(__file__).resolve().parents[1] / "README.md"
PLACEHOLDER = re.compile(r"<([a-z_]+(?:\.[a-z_]+)*)>")
ASSIGNMENT = re.compile(r"^([A-Z_]+)=\$\((.*)\)$")


def try_it_commands(text: str) -> list[str]:
    """The shell commands of the "Try it" section, continuation lines joined."""
    section = text.split("\n## Try it\n", 1)[1].split("\n## ", 1)[0]
    commands: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", section, flags=re.S):
        joined = re.sub(r"\\\n\s*", " ", block)
        # A comment is ` # ` after the command (there is no `#` inside the commands).
        commands += [re.sub(r"\s+#\s.*$", "", line).strip() for line in joined.splitlines()]
    return [command for command in commands if command and not command.startswith("#")]


def json_answers(outputs: list[str]) -> Iterator[Any]:
    """Earlier outputs that are JSON (a `-i` answer's body after its headers), newest first."""
    for output in reversed(outputs):
        body = output.split("\r\n\r\n", 1)[-1]
        try:
            yield json.loads(body)
        except ValueError:
            continue


def fill(command: str, outputs: list[str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "etag":
            for output in reversed(outputs):
                if found := re.search(r'(?im)^etag: (?:W/)?"([^"]+)"', output):
                    return found.group(1)
            raise AssertionError(f"no earlier answer shows an ETag for {command!r}")
        path = name.split(".") if "." in name else ["data", name]
        for answer in json_answers(outputs):
            node = answer
            for key in path:
                node = node.get(key) if isinstance(node, dict) else None
            if isinstance(node, str | int):
                return str(node)
        raise AssertionError(f"no earlier answer has {name!r} for {command!r}")

    return PLACEHOLDER.sub(value, command)


@pytest.fixture(scope="module")
def demo_server(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    """One live server with the demo content per database, shared by this module."""
    directory = tmp_path_factory.mktemp(f"readme-{backend}")
    with fresh_database(backend, directory) as url:
        env = operator_env(url, MASTHEAD_LOG_LEVEL="warning")
        with live_server(env, directory) as server:
            yield server, env


def test_the_readme_lists_the_commands_this_test_runs():
    commands = try_it_commands(README.read_text())
    assert len(commands) >= 25, commands
    assert any("<meta.next_since>" in c for c in commands)
    assert any(c.startswith("TOKEN=$(") for c in commands)


def test_every_try_it_command_runs_as_written(demo_server):
    server, env = demo_server
    env = dict(env)
    outputs: list[str] = []
    for written in try_it_commands(README.read_text()):
        command = fill(written, outputs)
        command = command.replace("localhost:8000", f"127.0.0.1:{server.port}")
        command = command.replace(".venv/bin/masthead", " ".join(MASTHEAD))
        command = re.sub(r"\bcurl ", "curl --fail --max-time 30 ", command)
        assignment = ASSIGNMENT.match(command)
        result = subprocess.run(
            ["bash", "-o", "pipefail", "-c", assignment.group(2) if assignment else command],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, (
            f"README command failed (exit {result.returncode}): {written}\n"
            f"ran: {command}\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
        )
        if assignment:
            env[assignment.group(1)] = result.stdout.strip()
        outputs.append(result.stdout)


def links_of(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for value in node.values():
            yield from links_of(value)
    elif isinstance(node, str):
        yield node


def test_every_entry_point_listed_at_the_root_answers(demo_server):
    server, _env = demo_server
    index = httpx.get(f"{server.base}/").json()
    links = [link for link in links_of(index["links"]) if "{" not in link]
    assert f"{server.base}/redoc" in links and f"{server.base}/docs" in links
    for link in links:
        assert httpx.get(link).status_code == 200, link


def test_serve_says_what_it_does_and_where_to_start(demo_server):
    server, _env = demo_server
    said = server.output()
    for line in (
        "migrating ",
        "database at migration ",
        "loaded the demo content",
        f"Masthead is serving at {server.base}/",
        f"{server.base}/docs",
        f"{server.base}/v1/articles/demonstrations-in-london-as-russia-refuses-to-act-over-chechnya",
        "tokens create --name you --role editor",
    ):
        assert line in said, (line, said)
    article = said.split(f"{server.base}/v1/articles/", 1)[1].split()[0]
    assert httpx.get(f"{server.base}/v1/articles/{article}").status_code == 200

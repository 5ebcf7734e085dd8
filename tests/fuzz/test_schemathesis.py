"""Schemathesis against a live Masthead: every check, every phase, bounded in time.

Skipped unless `MASTHEAD_FUZZ=1` (`make fuzz`). For each database (SQLite, then a throw-away
PostgreSQL database) it migrates, issues an admin token with `masthead tokens create`, serves
the API with `masthead serve` on a free loopback port, loads the served `/openapi.json` and
runs schemathesis's engine over it with every built-in check, for `MASTHEAD_FUZZ_SECONDS` per
database in two runs: the examples, coverage and fuzzing phases (60%), then the stateful phase
(40%); the engine stops by itself. A phase that could run and did not fails the test.
Any failure, or any traceback in the server's log, fails the test; each distinct failure is
listed with a curl reproduction, and the run's report is written as JSON and text.

Environment:
    MASTHEAD_FUZZ=1             run at all
    MASTHEAD_FUZZ_SECONDS       time budget per database (default 120)
    MASTHEAD_FUZZ_SEED          reuse a run's seed (each run prints its own)
    MASTHEAD_FUZZ_WORKERS       concurrent schemathesis workers (default 1)
    MASTHEAD_FUZZ_POSTGRES_URL  server the throw-away database is created on (default: the
                                server of MASTHEAD_TEST_DATABASE_URL, else
                                postgresql+psycopg://postgres@127.0.0.1:5432/postgres)
    MASTHEAD_FUZZ_REPORT_DIR    where fuzz-<database>.json/.txt go (default: pytest's tmp dir)

What the harness knows that the document does not say in a machine-readable way:

* Admin routes take `Authorization: Bearer <token>`, but the document declares no security
  scheme. The harness declares one (`adminBearer`, on every /v1/admin/ operation) when the
  document has none, so schemathesis sends the token to those routes only and its
  `ignored_auth` check can verify that they refuse requests without it.
* `PATCH` needs `If-Match` with the item's current ETag (428 without). A `before_call` hook
  reads the item first and sends its ETag, so the fuzzed bodies reach the update itself.
* Rejections the document states in prose but not in its schemas are accepted one by one
  (`DOCUMENTED_REJECTIONS` below: opaque cursors and tokens, sparse fieldsets, URL and
  country rules...). Each is matched on the problem document's own `errors[].loc` or detail,
  so any other rejection of a valid request still fails. A URL field's rejection is accepted
  when the field's own description says it takes an absolute http(s) URL.
* A 501 is accepted where the operation declares it: oEmbed's answer for a format it does
  not serve (`/oembed?format=xml`).
"""

import copy
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.skipif(
    os.environ.get("MASTHEAD_FUZZ") != "1",
    reason="schemathesis fuzzing runs only with MASTHEAD_FUZZ=1 (make fuzz)",
)

SECONDS = int(os.environ.get("MASTHEAD_FUZZ_SECONDS", "120"))
# One worker: the client is CPU-bound under the GIL, so a second thread sends no more requests
# (1704 against 1592 in 60 s), and concurrent draws hit races in Python 3.11.7 and Hypothesis
# (gh-106905 "AST constructor recursion depth mismatch"; lazy imports in `st.randoms()`).
WORKERS = int(os.environ.get("MASTHEAD_FUZZ_WORKERS", "1"))
SEED = os.environ.get("MASTHEAD_FUZZ_SEED")
POSTGRES_URL = (
    os.environ.get("MASTHEAD_FUZZ_POSTGRES_URL")
    or os.environ.get("MASTHEAD_TEST_DATABASE_URL")
    or "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
MAX_QUERY_LENGTH = 2048  # the default `MASTHEAD_MAX_QUERY_LENGTH`, set explicitly below
MAX_RESPONSE_SECONDS = 10  # `max_response_time`: generous for a 2-core CI machine
SCHEME = "adminBearer"
BODY_CHARS = 2000  # of a failing response, in the report
ADMIN_PREFIX = "/v1/admin/"

# The server as documented, minus what would leave the machine or throttle the fuzzer.
SERVER_SETTINGS = {
    "MASTHEAD_ENVIRONMENT": "test",
    "MASTHEAD_LOG_LEVEL": "warning",
    "MASTHEAD_MAX_QUERY_LENGTH": str(MAX_QUERY_LENGTH),
    # No deliveries to fuzzed webhook URLs and no email (there is no SMTP server anyway).
    "MASTHEAD_WEBHOOK_WORKER": "false",
    "MASTHEAD_OUTBOX_SENDER": "false",
    # Every request comes from 127.0.0.1: per-address limits would turn the run into 429s
    # (`ignored_auth` sends requests without a token on purpose; they count as failures).
    "MASTHEAD_AUTH_FAILURE_LIMIT": "100000",
    "MASTHEAD_SUBSCRIPTION_LIMIT_PER_ADDRESS": "1000000",
    "MASTHEAD_SUBSCRIPTION_LIMIT_PER_EMAIL": "1000000",
}


# --- Documented rejections ----------------------------------------------------------------
#
# `positive_data_acceptance` fails when the API rejects a request its schema allows. These are
# the rejections the served document announces in a description although its JSON Schema does
# not encode them; each names where it is announced. A rejection is accepted only when every
# entry of the problem's `errors` (or its detail, for 400s without `errors`) matches.

# 400 for an opaque value the schema can only call a string: query parameter -> detail prefix.
OPAQUE_PARAMETERS = {
    # "Opaque `meta.next_cursor` of the previous page. Malformed cursors are a 400."
    "cursor": "The cursor is malformed",
    # "`meta.next_since` of the previous call ... Malformed tokens are a 400."
    "since": "The `since` token is malformed",
    # "The signed token from the email's link." (400 documented on the operation)
    "token": "This link is not valid",
}


@dataclass(frozen=True)
class Rejection:
    """A 422 error entry the document announces: where it points and what it says."""

    loc: tuple[str, ...]  # "*" matches any one element (a list index)
    message: str  # a regular expression the entry's `msg` must match
    documented: str


URL_MESSAGES = r"(?i)url|resolve|address|host"
BUNDLE_KINDS = ("authors", "tags", "sources", "actions", "articles")
DOCUMENTED_REJECTIONS = [
    Rejection(
        ("query", "fields"),
        r"unknown field|no field named",
        "`fields`: 'Comma-separated fields to return ... Unknown names are a 422.'",
    ),
    Rejection(
        ("query", "include"),
        r"unknown relation|no relation",
        "`include`: 'Comma-separated relations to embed: `tags`, `authors`, `sources`, `actions`.'",
    ),
    *(
        Rejection(
            ("query", name),
            r"invalid slug",
            f"`{name}`: 'Comma-separated {name} slugs'; a slug is `[a-z0-9-]` (the `slug` "
            "fields' pattern)",
        )
        for name in ("tag", "source", "action", "author")
    ),
    Rejection(("body", "country"), r"ISO 3166", "`country`: 'ISO 3166-1 alpha-2 code'"),
    Rejection(
        ("body", "sources"),
        r"unknown slug",
        "`sources[].source`: 'The cited source's slug (it must exist; 422 otherwise)'",
    ),
    *(
        Rejection(
            ("body", name),
            r"unknown slug",
            f"`{name}`: '{name.title()[:-1]} slugs, in ... order; each must exist (422 otherwise)'",
        )
        for name in ("authors", "actions")
    ),
    Rejection(
        ("body", "expires_at"),
        r"must be in the future",
        "`expires_at`: 'When it stops working (RFC 3339 with an offset, in the future; 422 "
        "otherwise)'",
    ),
    # A stored time must lie in the years 1 to 9999 once in UTC: "0001-01-01T00:00:00+01:00"
    # is a valid `date-time` that no UTC time can hold.
    *(
        Rejection(
            ("body", *path),
            r"must be from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z",
            f"`{path[-1]}`: 'RFC 3339 with an offset, 0001-01-01T00:00:00Z to "
            "9999-12-31T23:59:59Z in UTC'",
        )
        for path in (
            ("published_at",),
            ("starts_at",),
            ("ends_at",),
            ("expires_at",),
            *((kind, "*", name) for kind in BUNDLE_KINDS for name in ("created_at", "updated_at")),
            ("articles", "*", "published_at"),
            ("articles", "*", "deleted_at"),
            ("actions", "*", "starts_at"),
            ("actions", "*", "ends_at"),
        )
    ),
    Rejection(
        ("body",),
        r"ends_at must be after starts_at",
        "`ends_at`: 'End of the window ..., after `starts_at` (422 otherwise)'",
    ),
    # POST /v1/admin/import: "Besides its schema, a bundle is refused (422, `errors[].loc`
    # pointing at the item) when a slug or an id is used twice in one kind, when an article
    # names an author, tag, action or source the bundle does not carry, or when an item's slug
    # or id is stored already with another id or slug."
    *(
        Rejection(
            ("body", kind, "*", name),
            r"used twice in the bundle|exists with another id|belongs to another item",
            "import: 'a slug or an id is used twice in one kind ... stored already with "
            "another id or slug'",
        )
        for kind in BUNDLE_KINDS
        for name in ("slug", "id")
    ),
    *(
        Rejection(
            ("body", "articles", "*", kind),
            r"not in the bundle",
            "import: 'an article names an author, tag, action or source the bundle does not carry'",
        )
        for kind in ("authors", "tags", "actions", "sources")
    ),
    Rejection(
        ("body", "actions", "*"),
        r"ends_at must be after starts_at",
        "import, `actions[].ends_at`: 'End of the window, after `starts_at`'",
    ),
    Rejection(
        ("body", "email"),
        r"(?i)email|@",
        "`email`: 'The address to subscribe; validated and normalised'",
    ),
    Rejection(
        ("body",),
        r"body_html or body_markdown",
        "`body_markdown`: 'Give this or `body_html`, not both.'",
    ),
]


def _problem(response: Any) -> dict[str, Any]:
    try:
        document = json.loads(response.content or b"null")
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def _loc_matches(pattern: tuple[str, ...], loc: list[Any]) -> bool:
    if len(pattern) != len(loc):
        return False
    return all(p in ("*", str(part)) for p, part in zip(pattern, loc, strict=True))


def documented_rejection(
    failure: Any, case: Any, response: Any, document: dict[str, Any]
) -> str | None:
    """Why this failure is the documented behaviour, or None when it is a real failure."""
    from schemathesis.core.failures import ServerError
    from schemathesis.openapi.checks import RejectedPositiveData, UnsupportedMethodResponse

    status = response.status_code
    query = urlsplit(response.request.url).query
    if (
        status == 414
        and len(query.encode()) > MAX_QUERY_LENGTH
        and isinstance(failure, RejectedPositiveData | UnsupportedMethodResponse)
    ):
        # The query string is over `MASTHEAD_MAX_QUERY_LENGTH` (default 2048 bytes; 414
        # documented on /v1): schema-valid values can be that long together, and the length
        # is refused before routing, so before a 405 too.
        return "query string over MASTHEAD_MAX_QUERY_LENGTH: 414 (documented limit)"
    if isinstance(failure, ServerError) and status == 501:
        operation = document["paths"].get(case.path, {}).get(case.method.lower(), {})
        if "501" in operation.get("responses", {}):
            # oEmbed (oembed.com, 2.3.5): "501 Not Implemented: the provider cannot return a
            # response in the requested format"; `/oembed` declares it for `format=xml`.
            return "501 for a format the operation declares it does not serve (oEmbed)"
    if not isinstance(failure, RejectedPositiveData):
        return None
    problem = _problem(response)
    if status == 400 and not problem.get("errors"):
        detail = str(problem.get("detail", ""))
        for name, prefix in OPAQUE_PARAMETERS.items():
            if (case.query or {}).get(name) is not None and detail.startswith(prefix):
                return f"malformed opaque `{name}`: 400 (documented)"
        return None
    errors = problem.get("errors")
    if status != 422 or not isinstance(errors, list) or not errors:
        return None
    body = case.body if isinstance(case.body, dict) else {}
    reasons = []
    for error in errors:
        loc, message = error.get("loc") or [], str(error.get("msg", ""))
        if loc[:1] == ["body"] and not _was_sent(body, loc):
            return None
        for rule in DOCUMENTED_REJECTIONS:
            if _loc_matches(rule.loc, loc) and re.search(rule.message, message):
                reasons.append(rule.documented)
                break
        else:
            described = _body_field_description(document, case, loc)
            if not (re.search(URL_MESSAGES, message) and "http(s)" in described):
                return None
            # Every URL field says "absolute http(s) URL" (or "...a path ... or an absolute
            # http(s) URL") in its description; a JSON Schema `format: uri` would admit
            # other schemes, relative references and unresolvable hosts.
            reasons.append(f"`{'.'.join(map(str, loc[1:]))}`: '{described}'")
    return "; ".join(sorted(set(reasons)))


def _body_field_description(document: dict[str, Any], case: Any, loc: list[Any]) -> str:
    """The description the document gives the body field at `loc` (["body", name, ...])."""
    operation = document["paths"].get(case.path, {}).get(case.method.lower(), {})
    content = operation.get("requestBody", {}).get("content", {})
    schema: Any = content.get("application/json", {}).get("schema", {})
    description = ""
    for part in loc[1:]:
        schema = _resolved(document, schema)
        if isinstance(part, int) or str(part).isdigit():
            schema = schema.get("items", {})
        else:
            schema = schema.get("properties", {}).get(str(part), {})
        description = str(schema.get("description", ""))
    return description


def _resolved(document: dict[str, Any], schema: Any) -> dict[str, Any]:
    """A schema with its `$ref` followed and a nullable `anyOf` reduced to the non-null one."""
    while isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            schema = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
            continue
        branches = [b for b in schema.get("anyOf", ()) if b.get("type") != "null"]
        if len(branches) == 1:
            schema = branches[0]
            continue
        return schema
    return {}


def _was_sent(body: dict[str, Any], loc: list[Any]) -> bool:
    """Whether a body error is about what the request sent (a restore sends no body at all)."""
    if len(loc) == 1:  # the body as a whole: a rule across its fields
        return bool(body)
    return loc[1] in body


# --- The server -----------------------------------------------------------------------------


@dataclass
class Masthead:
    base_url: str
    token: str
    log: Path
    process: subprocess.Popen[bytes]


def _command() -> list[str]:
    script = Path(sys.executable).with_name("masthead")
    return [str(script)] if script.exists() else [sys.executable, "-m", "api.cli"]


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _environment(database_url: str) -> dict[str, str]:
    # Nothing from the caller's MASTHEAD_* settings (nor a .env: the server runs elsewhere).
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASTHEAD_")}
    env.update(SERVER_SETTINGS, MASTHEAD_DATABASE_URL=database_url, PYTHONUNBUFFERED="1")
    return env


def _get(url: str, timeout: float = 2.0) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


@contextmanager
def serve(database_url: str, workdir: Path) -> Iterator[Masthead]:
    env = _environment(database_url)

    def run(*args: str) -> str:
        done = subprocess.run(
            [*_command(), *args], env=env, cwd=workdir, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, f"masthead {' '.join(args)}: {done.stderr}{done.stdout}"
        return done.stdout

    run("db", "upgrade")
    token = run("tokens", "create", "--name", "fuzz", "--role", "admin").strip().splitlines()[-1]
    port = _free_port()
    log = workdir / "server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=workdir,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, f"masthead serve exited:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"masthead serve never ready:\n{log.read_text()}"
            try:
                if _get(f"{base_url}/readyz") == 200:
                    break
            except OSError:
                pass
            time.sleep(0.25)
        yield Masthead(base_url, token, log, process)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def fresh_database(kind: str, workdir: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'fuzz.db'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError

    server = make_url(POSTGRES_URL).set(drivername="postgresql+psycopg")
    name = f"masthead_fuzz_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        pytest.fail(
            f"cannot create a database on {server.render_as_string()}: {exc.orig}; set "
            "MASTHEAD_FUZZ_POSTGRES_URL, or run SQLite only with `-k sqlite`",
            pytrace=False,
        )
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def masthead(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Masthead]:
    with fresh_database(request.param, tmp_path) as url, serve(url, tmp_path) as server:
        yield server


# --- The run --------------------------------------------------------------------------------


def declare_admin_security(document: dict[str, Any]) -> str:
    """The bearer scheme of the admin operations; declared when the document has none."""
    schemes = document.setdefault("components", {}).setdefault("securitySchemes", {})
    for name, scheme in schemes.items():
        if scheme.get("type") == "http" and str(scheme.get("scheme", "")).lower() == "bearer":
            return str(name)
    schemes[SCHEME] = {"type": "http", "scheme": "bearer", "description": "An API token."}
    for path, operations in document.get("paths", {}).items():
        if path.startswith(ADMIN_PREFIX):
            for method, operation in operations.items():
                if method in ("get", "post", "put", "patch", "delete"):
                    operation.setdefault("security", [{SCHEME: []}])
    return SCHEME


# The budget is split between two runs of the engine on the same server: the examples,
# coverage and fuzzing phases first, then the stateful phase alone. In one run the stateful
# phase comes last and gets what is left, which on a loaded machine was nothing: coverage
# passes re-run after fuzzing ("catch-up") took the share the engine meant to keep for it.
PASSES = {
    "unit": (0.6, {"stateful": {"enabled": False}}),
    "stateful": (
        0.4,
        {name: {"enabled": False} for name in ("examples", "coverage", "fuzzing")},
    ),
}


def fuzz_config(
    base_url: str, scheme: str, token: str, seed: int, seconds: int, phases: dict[str, Any]
) -> dict[str, Any]:
    return {
        "base-url": base_url,
        "seed": seed,
        "max-time": seconds,
        "phases": phases,
        "workers": WORKERS,
        "continue-on-failure": True,
        "request-timeout": 30,
        "generation": {"database": "none"},  # nothing written into the working tree
        "cache": {"enabled": False},
        "auth": {"openapi": {scheme: {"bearer": token}}},
        "checks": {
            "enabled": True,  # every built-in check
            "max_response_time": MAX_RESPONSE_SECONDS,
            # A 414 (query string over the documented limit) is a rejection too.
            "negative_data_rejection": {
                "expected-statuses": [
                    *("400", "401", "403", "404", "405", "406", "409", "414", "415"),
                    *("422", "428", "429", "5xx"),
                ]
            },
        },
        # Show `?token=` values (subscription links) in reproductions; hide the bearer token.
        "output": {
            "sanitization": {
                "keys-to-sanitize": ["authorization"],
                "sensitive-markers": ["authorization"],
            }
        },
    }


@dataclass
class Report:
    database: str
    seed: int
    failures: dict[tuple[str, str, str, int | None], dict[str, Any]] = field(default_factory=dict)
    accepted: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    checks_run: Counter[str] = field(default_factory=Counter)
    scenarios: Counter[str] = field(default_factory=Counter)
    phases: dict[str, str] = field(default_factory=dict)
    stop_reason: str = ""
    running_time: float = 0.0
    server_errors: list[str] = field(default_factory=list)
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    operations: set[str] = field(default_factory=set)
    succeeded: set[str] = field(default_factory=set)

    def answered(self, operation: str, response: Any) -> None:
        self.requests += 1
        self.statuses[response.status_code] += 1
        if 200 <= response.status_code < 400:
            self.succeeded.add(operation)

    def add_failure(self, *, check: str, info: Any, response: Any, server: Masthead) -> None:
        failure = info.failure
        status = response.status_code if response is not None else None
        key = (failure.operation, check, failure.title, status)
        curl = portable(info.code_sample, server)
        steps = [portable(step.curl, server) for step in info.steps] if len(info.steps) > 1 else []
        body = response.content[:BODY_CHARS].decode(errors="replace") if response else ""
        entry = self.failures.get(key)
        if entry is None or len(curl) + sum(map(len, steps)) < entry["_size"]:
            self.failures[key] = {
                "operation": failure.operation,
                "check": check,
                "code": failure.code,
                "title": failure.title,
                "status": status,
                "message": failure.message,
                "response": body,
                "curl": curl,
                "steps": steps,
                "count": entry["count"] if entry else 0,
                "_size": len(curl) + sum(map(len, steps)),
            }
        self.failures[key]["count"] += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "seed": self.seed,
            "stop_reason": self.stop_reason,
            "running_time": round(self.running_time, 1),
            "phases": self.phases,
            "scenarios": dict(self.scenarios),
            "requests": self.requests,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "never_succeeded": sorted(self.operations - self.succeeded),
            "checks_run": dict(self.checks_run),
            "failures": [
                {k: v for k, v in entry.items() if not k.startswith("_")}
                for _, entry in sorted(self.failures.items(), key=lambda kv: str(kv[0]))
            ],
            "accepted_as_documented": dict(self.accepted),
            "errors": self.errors,
            "server_errors": self.server_errors,
        }

    def as_text(self) -> str:
        lines = [
            f"schemathesis on {self.database}: {len(self.failures)} distinct failure(s), "
            f"{len(self.errors)} error(s), {len(self.server_errors)} server traceback(s); "
            f"{self.requests} requests in {self.running_time:.0f}s, stopped: {self.stop_reason}, "
            f"seed {self.seed} (MASTHEAD_FUZZ_SEED)",
            "phases: " + ", ".join(f"{k} {v}" for k, v in self.phases.items()),
            "checks run: " + ", ".join(f"{k} {v}" for k, v in sorted(self.checks_run.items())),
            "responses: " + ", ".join(f"{k} x{v}" for k, v in sorted(self.statuses.items())),
            "operations never answered 2xx/3xx: "
            + (", ".join(sorted(self.operations - self.succeeded)) or "none"),
            "reproductions use BASE=http://127.0.0.1:8000 (any Masthead) and an admin token, "
            "TOKEN=$(masthead tokens create --name fuzz --role admin | tail -n 1); a PATCH's "
            "If-Match must be the item's current ETag",
        ]
        for entry in self.as_dict()["failures"]:
            lines += [
                "",
                f"{entry['operation']}: {entry['check']} ({entry['code']} {entry['title']}), "
                f"status {entry['status']}, {entry['count']} time(s)",
                *("    " + line for line in entry["message"].splitlines()),
                *("    " + _clip(step) for step in entry["steps"]),
                "    " + _clip(entry["curl"]),
                "    -> " + _clip(entry["response"]),
            ]
        if self.accepted:
            lines += ["", "accepted as documented behaviour:"]
            lines += [f"    {n} x {why}" for why, n in sorted(self.accepted.items())]
        for error in self.errors:
            lines += ["", "error: " + _clip(error, 3000)]
        for traceback in self.server_errors:
            lines += ["", "server log: " + traceback]
        return "\n".join(lines)


def portable(curl: str, server: Masthead) -> str:
    """A reproduction for any Masthead: `$BASE` (e.g. http://127.0.0.1:8000) and `$TOKEN`."""
    curl = curl.replace("'Authorization: [Filtered]'", '"Authorization: Bearer $TOKEN"')
    curl = curl.replace(server.token, "$TOKEN")
    return curl.replace(f"'{server.base_url}", '"$BASE"\'').replace(server.base_url, '"$BASE"')


def _clip(text: str, limit: int = 600) -> str:
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars; see the .json)"


def _if_match_hook(base_url: str, token: str) -> Callable[..., None]:
    """`before_call`: a PATCH of an admin item sends the item's current ETag as `If-Match`."""
    import requests

    local = threading.local()

    def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
        if case.method.upper() != "PATCH" or not case.path.startswith(ADMIN_PREFIX):
            return
        meta = getattr(case, "meta", None)
        if meta is not None and not meta.generation.mode.is_positive:
            return  # an invalid request as drawn (its If-Match may be what is invalid)
        # The document declares If-Match as a string: a drawn one is valid by the schema but
        # not the item's current ETag, which only the server knows ("412 when the item
        # changed since"), so a valid request carries the real one.
        headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "if-match"}
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        try:
            response = session.get(
                base_url + case.formatted_path,
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
        except Exception:  # e.g. a path no URL can carry: the PATCH then shows the 428
            return
        etag = response.headers.get("ETag")
        if response.status_code == 200 and etag:
            headers["If-Match"] = etag
            case.headers = headers

    return before_call


def run_schemathesis(server: Masthead, report: Report) -> None:
    import requests
    import schemathesis
    from schemathesis.config import SchemathesisConfig
    from schemathesis.engine import from_schema

    document = requests.get(f"{server.base_url}/openapi.json", timeout=30).json()
    scheme = declare_admin_security(document)
    report.operations = {
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method in operations
        if method in ("get", "put", "post", "patch", "delete")
    }

    def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
        reason = documented_rejection(failure, case, response, document)
        if reason is not None:
            report.accepted[reason] += 1
        return reason is None

    before_call = schemathesis.hook("before_call")(_if_match_hook(server.base_url, server.token))
    try:
        for share, phases in PASSES.values():
            seconds = max(1, round(SECONDS * share))
            settings = fuzz_config(
                server.base_url, scheme, server.token, report.seed, seconds, phases
            )
            config = SchemathesisConfig.from_dict(settings)
            schema = schemathesis.openapi.from_dict(copy.deepcopy(document), config=config)
            schema.hook(filter_failure)
            run_pass(from_schema(schema).execute(), seconds, server, report)
    finally:
        schemathesis.hooks.unregister(before_call)


def run_pass(stream: Any, seconds: int, server: Masthead, report: Report) -> None:
    """Consume one engine run's events into the report."""
    from schemathesis.engine import Status, events

    watchdog = threading.Timer(seconds + 120, stream.stop)  # the engine stops itself before
    watchdog.start()
    started: dict[str, float] = {}
    try:
        for event in stream:
            if isinstance(event, events.PhaseStarted):
                started[event.phase.name.value] = time.monotonic()
            elif isinstance(event, events.PhaseFinished):
                name, skipped = event.phase.name.value, event.phase.skip_reason
                took = time.monotonic() - started.get(name, time.monotonic())
                if skipped is not None and skipped.value == "disabled" and name in report.phases:
                    continue  # the phase of the other pass
                report.phases[name] = event.status.value + (
                    f" ({skipped.value})" if skipped is not None else f" {took:.0f}s"
                )
            elif isinstance(event, events.ScenarioFinished):
                report.scenarios[event.phase.value] += 1
                recorder = event.recorder
                for case_id, interaction in recorder.interactions.items():
                    node = recorder.cases.get(case_id)
                    if interaction.response is not None and node is not None:
                        report.answered(node.value.operation.label, interaction.response)
                for case_id, checks in recorder.checks.items():
                    interaction = recorder.interactions.get(case_id)
                    response = interaction.response if interaction is not None else None
                    for check in checks:
                        report.checks_run[check.name] += 1
                        if check.status == Status.FAILURE and check.failure_info is not None:
                            report.add_failure(
                                check=check.name,
                                info=check.failure_info,
                                response=response,
                                server=server,
                            )
            elif isinstance(event, events.NonFatalError):
                report.errors.append(
                    f"{event.label}: {event.info.title}: {event.info.message}\n"
                    + event.info.traceback
                )
            elif isinstance(event, events.FatalError):
                report.errors.append(f"fatal: {event.exception!r}")
            elif isinstance(event, events.EngineFinished):
                report.stop_reason = event.stop_reason.value
                report.running_time += event.running_time
                for failure in event.failures:  # from checks that judge the run as a whole
                    report.failures[(failure.operation, "after_run", failure.title, None)] = {
                        "operation": failure.operation,
                        "check": "after_run",
                        "code": failure.code,
                        "title": failure.title,
                        "status": None,
                        "message": failure.message,
                        "response": "",
                        "curl": "",
                        "steps": [],
                        "count": 1,
                    }
    finally:
        watchdog.cancel()


def server_tracebacks(log: Path) -> list[str]:
    text = log.read_text(errors="replace")
    return [chunk.strip()[-2000:] for chunk in text.split("Traceback")[1:]]


def test_schemathesis(masthead: Masthead, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    database = request.node.callspec.params["masthead"]
    seed = int(SEED) if SEED else secrets.randbits(63)
    report = Report(database=database, seed=seed)
    started = time.monotonic()
    run_schemathesis(masthead, report)
    report.server_errors = server_tracebacks(masthead.log)
    elapsed = time.monotonic() - started

    out = Path(os.environ.get("MASTHEAD_FUZZ_REPORT_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"fuzz-{database}.json").write_text(json.dumps(report.as_dict(), indent=2) + "\n")
    text = report.as_text()
    (out / f"fuzz-{database}.txt").write_text(text + "\n")
    print(f"\n{text}\n(report: {out}/fuzz-{database}.txt; {elapsed:.0f}s with start-up)")

    assert report.stop_reason in ("max_time", "completed"), text
    # Every phase that can run did (the examples phase has nothing to send: the document
    # carries no examples); the stateful one needs time left after fuzzing.
    for phase in ("coverage", "fuzzing", "stateful"):
        assert report.phases.get(phase, "").startswith(("success", "failure")), (phase, text)
    assert not report.failures and not report.errors and not report.server_errors, text

"""Schemathesis against a live Masthead: every check, every phase, bounded in time.

Skipped unless `MASTHEAD_FUZZ=1` (`make fuzz`). For each database (SQLite, then a throw-away
PostgreSQL database) it migrates, issues an admin token with `masthead tokens create`, serves
the API with `masthead serve` on a free loopback port, loads the served `/openapi.json` and
runs schemathesis's engine over it: the examples, coverage, fuzzing and stateful phases, every
built-in check, for `MASTHEAD_FUZZ_SECONDS` per database; the engine then stops by itself.
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
  so any other rejection of a valid request still fails.
"""

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
    Rejection(
        ("body", "url"),
        URL_MESSAGES,
        "`url`: 'absolute http(s) URL'; a webhook's 'must resolve to public addresses (private, "
        "loopback and link-local targets are refused with a 422)'",
    ),
    *(
        Rejection(("body", *path), URL_MESSAGES, f"`{'.'.join(path)}`: 'absolute http(s) URL'")
        for path in (
            ("canonical_url",),
            ("feature_image", "url"),
            ("sources", "*", "cited_url"),
        )
    ),
    Rejection(("body", "country"), r"ISO 3166", "`country`: 'ISO 3166-1 alpha-2 code'"),
    Rejection(
        ("body", "sources"),
        r"unknown slug",
        "`sources[].source`: 'The cited source's slug (it must exist; 422 otherwise)'",
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


def documented_rejection(failure: Any, case: Any, response: Any) -> str | None:
    """Why this failure is the documented behaviour, or None when it is a real failure."""
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
            return None
    return "; ".join(sorted(set(reasons)))


def _was_sent(body: dict[str, Any], loc: list[Any]) -> bool:
    """Whether a body error is about what the request sent (a restore sends no body at all)."""
    if len(loc) == 1:  # the body as a whole: only "give body_html or body_markdown, not both"
        return body.get("body_html") is not None and body.get("body_markdown") is not None
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


def fuzz_config(base_url: str, scheme: str, token: str, seed: int) -> dict[str, Any]:
    return {
        "base-url": base_url,
        "seed": seed,
        "max-time": SECONDS,
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
        headers = dict(case.headers or {})
        if any(name.lower() == "if-match" for name in headers):
            return
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
    from schemathesis.engine import Status, events, from_schema

    document = requests.get(f"{server.base_url}/openapi.json", timeout=30).json()
    scheme = declare_admin_security(document)
    config = SchemathesisConfig.from_dict(
        fuzz_config(server.base_url, scheme, server.token, report.seed)
    )
    schema = schemathesis.openapi.from_dict(document, config=config)
    report.operations = {
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method in operations
        if method in ("get", "put", "post", "patch", "delete")
    }

    @schema.hook
    def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
        reason = documented_rejection(failure, case, response)
        if reason is not None:
            report.accepted[reason] += 1
        return reason is None

    before_call = schemathesis.hook("before_call")(_if_match_hook(server.base_url, server.token))
    stream = from_schema(schema).execute()
    watchdog = threading.Timer(SECONDS + 120, stream.stop)  # the engine stops itself before
    watchdog.start()
    try:
        for event in stream:
            if isinstance(event, events.PhaseFinished):
                report.phases[event.phase.name.value] = event.status.value
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
                report.running_time = event.running_time
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
        schemathesis.hooks.unregister(before_call)


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
    assert not report.failures and not report.errors and not report.server_errors, text

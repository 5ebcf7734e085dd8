#!/usr/bin/env python3
"""Masthead soak: mixed traffic for a while, optionally with the database going away, then a
check that every acknowledged write is there, exactly once.

    .venv/bin/python bench/soak.py                                 # SQLite, 64 connections, 60 s
    .venv/bin/python bench/soak.py --postgres --outage --duration 30
    .venv/bin/python bench/soak.py --outage --duration 30           # SQLite: 20 writers + 20
                                                                    # readers on 2 workers
    .venv/bin/python bench/soak.py --help

Traffic (asyncio + httpx, one connection per client task, each request after the last):
85% public reads (the article list, plain and by tag, an article by slug, the tags, search),
10% admin writes (half read an article and PATCH it with its ETag in If-Match, half create
one), 5% newsletter sign-ups. With `--writers W --readers R` the clients are split instead:
R only read, W only write (admin writes and sign-ups, 2:1). After a 503 or no answer a client
pauses `--error-pause` seconds before its next request.

`--outage` on PostgreSQL stops the database (`pg_ctlcluster ... stop -m immediate`) at 30%
of the run (`--outage-at`), for `--outage-seconds`, then starts it again; a probe connects to
PostgreSQL directly, so the moment it accepts connections again is measured. It runs as a
throw-away cluster made for the run (Debian's pg_createcluster, root only, on a free loopback
port, dropped afterwards), or with `--pg-url` on an existing server (no outage there). On
SQLite there is no database to stop: `--outage` means write contention instead, 20 writers and
20 readers on 2 workers (unless given).

Afterwards, through the admin API: every acknowledged create is read back by id and counted by
title over the whole admin list; every acknowledged PATCH must be in its article's revisions,
once; every acknowledged sign-up must be listed by `GET /v1/admin/subscribers`, once. The
summary is printed and a JSON record is written to bench/results/soak-<UTC timestamp>.json
(no absolute paths). The exit status is 1 when a write was lost or duplicated, a request
failed with a 5xx other than 503, or went unanswered.

Everything listens on 127.0.0.1; every step has a time limit; every process started here is
stopped, and the throw-away cluster dropped, on exit. Helpers come from bench/run.py.
"""

import argparse
import asyncio
import contextlib
import os
import random
import re
import shutil
import signal
import ssl
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import run as bench  # bench/run.py: processes, databases, imports, machine info, records

HOST = bench.HOST
RESULTS_DIR = bench.RESULTS_DIR
READ_MIX = {"list": 15, "list-tag": 10, "slug": 35, "tags": 10, "search": 15}
WRITE_MIX = {"patch": 5, "create": 5}
SIGNUP_SHARE = 5
GROUPS = {"read": set(READ_MIX), "write": {"patch", "create"}, "signup": {"signup"}}
log = bench.log


def add_server_options(p: argparse.ArgumentParser, *, idle_wait: float, before: str) -> None:
    """The options of the server a harness starts and waits for (soak.py and burst.py)."""
    p.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="Extra server setting, e.g. MASTHEAD_DATABASE_POOL_SIZE=20 (repeatable).",
    )
    p.add_argument("--log-level", default="warning", help="Server log level.")
    p.add_argument("--startup-timeout", type=float, default=120.0, help="Seconds to /readyz.")
    p.add_argument("--import-timeout", type=float, default=900.0, help="Seconds for the import.")
    p.add_argument(
        "--idle-wait", type=float, default=idle_wait, help="Wait for the server to idle."
    )
    p.add_argument(
        "--quiet-wait",
        type=float,
        default=30.0,
        help=f"Before {before}, wait up to this long for other programs to go quiet.",
    )
    p.add_argument(
        "--quiet-threshold", type=float, default=0.10, help="'Quiet': their share of all CPUs."
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Soak Masthead with mixed traffic (and a database outage); check writes.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--connections", type=int, default=64, help="Client connections (mixed).")
    p.add_argument("--duration", type=float, default=60.0, help="Seconds of traffic.")
    p.add_argument("--writers", type=int, default=None, help="Write-only clients (split mode).")
    p.add_argument("--readers", type=int, default=None, help="Read-only clients (split mode).")
    p.add_argument("--workers", type=int, default=None, help="Server workers (default 1).")
    p.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite.")
    p.add_argument(
        "--pg-url",
        default=None,
        help="Use this PostgreSQL server (no database name) instead of a throw-away cluster; "
        "no --outage there.",
    )
    p.add_argument("--pg-version", default="15", help="Major version of the throw-away cluster.")
    p.add_argument("--outage", action="store_true", help="Stop and restart the database.")
    p.add_argument("--outage-at", type=float, default=0.3, help="When, as a share of the run.")
    p.add_argument("--outage-seconds", type=float, default=5.0, help="How long it is down.")
    p.add_argument("--articles", type=int, default=500, help="Articles imported first.")
    p.add_argument("--words", type=int, default=300, help="Approximate words per article.")
    p.add_argument(
        "--dataset-script", type=Path, default=bench.DATASET_SCRIPT, help="make_dataset.py."
    )
    p.add_argument("--timeout", type=float, default=10.0, help="Per-request timeout, s.")
    p.add_argument("--error-pause", type=float, default=0.05, help="Pause after a 503, s.")
    p.add_argument("--seed", type=int, default=1, help="Random seed of the traffic mix.")
    add_server_options(p, idle_wait=120.0, before="the load")
    p.add_argument("--keep-db", action="store_true", help="Keep the database and temp dir.")
    p.add_argument("--output", type=Path, default=None, help="Results JSON path.")
    args = p.parse_args(argv)
    if args.pg_url:
        args.postgres = True
        if args.outage:
            p.error("--outage needs the throw-away cluster (leave out --pg-url)")
    if args.duration < 5:
        p.error("--duration must be at least 5 s")
    if not 0.05 <= args.outage_at <= 0.8:
        p.error("--outage-at must be between 0.05 and 0.8")
    if (args.writers is None) != (args.readers is None):
        p.error("give --writers and --readers together")
    if args.outage and not args.postgres:
        if args.writers is None:
            args.writers, args.readers = 20, 20
        if args.workers is None:
            args.workers = 2
    args.workers = args.workers or 1
    if args.writers is not None and args.writers + args.readers < 1:
        p.error("--writers plus --readers must be at least 1")
    for item in args.server_env:
        if "=" not in item or not item.startswith("MASTHEAD_"):
            p.error(f"--server-env wants MASTHEAD_NAME=VALUE, not {item!r}")
    return args


# ---------------------------------------------------------------- the throw-away cluster


class Cluster:
    """A PostgreSQL cluster made for this run, `masthead_soak_<pid>`; never the shared one."""

    def __init__(self, version: str) -> None:
        self.version = version
        self.name = f"masthead_soak_{os.getpid()}"
        self.port = bench.free_port()
        self.created = False
        assert self.name != "main"

    @staticmethod
    def available() -> str | None:
        """Why there can be no throw-away cluster here, or None."""
        if shutil.which("pg_createcluster") is None:
            return "pg_createcluster not found (Debian's postgresql-common)"
        if os.geteuid() != 0:
            return "creating a PostgreSQL cluster needs root"
        return None

    def _run(self, cmd: list[str], timeout: float = 60) -> None:
        result = bench.run_bounded(cmd, timeout=timeout)
        if result.returncode != 0:
            raise bench.BenchError(f"{' '.join(cmd)} failed:\n{result.stdout}{result.stderr}")

    def ctl(self, *action: str) -> None:
        self._run(["pg_ctlcluster", "--skip-systemctl-redirect", self.version, self.name, *action])

    def create(self) -> None:
        if Path(f"/etc/postgresql/{self.version}/{self.name}").exists():
            self.drop()  # left by an earlier run with the same pid: ours by its name
        self.created = True
        self._run(
            ["pg_createcluster", self.version, self.name, "-p", str(self.port)]
            + ["--start-conf", "manual", "--", "--auth=trust"]  # listens on localhost only
        )
        self.ctl("start")
        log(f"postgres: throw-away cluster {self.version}/{self.name} on port {self.port}")

    def drop(self) -> None:
        try:
            self._run(["pg_dropcluster", "--stop", self.version, self.name])
        except Exception as exc:  # cleanup must not hide the real outcome
            log(f"could not drop cluster {self.name}: {exc}")

    @property
    def server_url(self) -> str:
        return f"postgresql://postgres@{HOST}:{self.port}"

    def accepts(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(self.server_url + "/postgres", connect_timeout=1) as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False


# ---------------------------------------------------------------- records


@dataclass(slots=True)
class Rec:
    op: str
    start: float
    end: float
    status: int | None  # None: no answer
    problem: str | None = None  # the problem's type, or the transport error
    retry_after: bool = False

    @property
    def group(self) -> str:
        return next((g for g, ops in GROUPS.items() if self.op in ops), "other")

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def latency(self) -> float:
        return self.end - self.start

    @property
    def label(self) -> str:
        if self.status is None:
            return f"no answer ({self.problem})"
        return f"{self.status} {self.problem}" if self.problem else str(self.status)


@dataclass
class Probe:
    start: float
    end: float
    accepted: bool


@dataclass
class Outage:
    stop_called: float | None = None
    down: float | None = None
    start_called: float | None = None
    start_returned: float | None = None
    probes: list[Probe] = field(default_factory=list)
    error: str | None = None


class Load:
    """The clients, their records, and the writes the server acknowledged."""

    def __init__(self, args: argparse.Namespace, base: str, token: str, catalog: dict[str, Any]):
        self.args = args
        self.base = base
        self.auth = {"Authorization": f"Bearer {token}"}
        self.catalog = catalog
        self.run_id = uuid.uuid4().hex[:8]
        self.records: list[Rec] = []
        self.created: list[dict[str, Any]] = []  # acknowledged creates: id, title
        self.create_attempts: list[str] = []  # every title sent
        self.patched: list[dict[str, Any]] = []  # acknowledged patches: id, version, token
        self.patch_attempts: list[str] = []
        self.signed_up: list[str] = []  # acknowledged emails
        self.signup_attempts: list[str] = []
        self.samples: dict[str, str] = {}  # one answer body per error label
        self.counter = 0
        self.t0 = 0.0
        self.end_at = 0.0

    def now(self) -> float:
        return time.monotonic() - self.t0

    def unique(self) -> str:
        self.counter += 1
        return f"{self.run_id}-{self.counter}"

    async def request(
        self, client: httpx.AsyncClient, op: str, method: str, path: str, **kwargs: Any
    ) -> tuple[Rec, httpx.Response | None]:
        start = self.now()
        try:
            response = await client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            rec = Rec(op, start, self.now(), None, type(exc).__name__)
            self.records.append(rec)
            return rec, None
        rec = Rec(op, start, self.now(), response.status_code)
        rec.retry_after = "retry-after" in response.headers
        if response.headers.get("content-type", "").startswith("application/problem+json"):
            with contextlib.suppress(Exception):
                rec.problem = str(response.json().get("type", "")).rstrip("/").rsplit("/", 1)[-1]
        self.records.append(rec)
        if not rec.ok and rec.label not in self.samples:
            self.samples[rec.label] = f"{method} {path.split('?')[0]}: {response.text[:300]}"
        return rec, response

    # -- operations

    async def read(self, client: httpx.AsyncClient, op: str, rng: random.Random) -> Rec:
        c = self.catalog
        if op == "list":
            path = "/v1/articles" if rng.random() < 0.7 else "/v1/articles?limit=50"
        elif op == "list-tag":
            path = f"/v1/articles?tag={quote(rng.choice(c['tags']))}"
        elif op == "slug":
            path = f"/v1/articles/{quote(rng.choice(c['slugs']))}"
        elif op == "tags":
            path = "/v1/tags"
        else:
            path = f"/v1/search?q={quote(rng.choice(c['words']))}"
        rec, _ = await self.request(client, op, "GET", path)
        return rec

    async def create(self, client: httpx.AsyncClient, rng: random.Random) -> Rec:
        title = f"Soak {self.unique()}"
        self.create_attempts.append(title)
        body = {
            "title": title,
            "body_markdown": f"Written by the soak, run {self.run_id}. " * rng.randint(1, 20),
            "tags": [rng.choice(self.catalog["tags"])],
        }
        rec, response = await self.request(
            client, "create", "POST", "/v1/admin/articles", json=body, headers=self.auth
        )
        if response is not None and rec.ok:
            self.created.append({"id": response.json()["data"]["id"], "title": title})
        return rec

    async def patch(self, client: httpx.AsyncClient, rng: random.Random) -> Rec:
        article_id = rng.choice(self.catalog["ids"])
        path = f"/v1/admin/articles/{article_id}"
        got, response = await self.request(client, "admin-get", "GET", path, headers=self.auth)
        if response is None or not got.ok:
            return got
        token = f"soak {self.unique()}"
        self.patch_attempts.append(token)
        headers = {**self.auth, "If-Match": response.headers.get("etag", "")}
        rec, response = await self.request(
            client, "patch", "PATCH", path, json={"subtitle": token}, headers=headers
        )
        if response is not None and rec.ok:
            version = response.json()["data"].get("version")
            self.patched.append({"id": article_id, "version": version, "token": token})
        return rec

    async def signup(self, client: httpx.AsyncClient) -> Rec:
        email = f"soak-{self.unique()}@example.com"
        self.signup_attempts.append(email)
        body = {"email": email, "consent": True, "policy_version": "2026-01", "source": "/soak"}
        rec, _ = await self.request(client, "signup", "POST", "/v1/subscriptions", json=body)
        if rec.status == 202:
            self.signed_up.append(email)
        return rec

    # -- clients

    def pick(self, rng: random.Random, role: str) -> str:
        if role == "reader":
            mix = READ_MIX
        elif role == "writer":
            mix = {**WRITE_MIX, "signup": SIGNUP_SHARE}
        else:
            mix = {**READ_MIX, **WRITE_MIX, "signup": SIGNUP_SHARE}
        return rng.choices(list(mix), weights=list(mix.values()))[0]

    async def client_loop(self, client: httpx.AsyncClient, number: int, role: str) -> None:
        rng = random.Random(self.args.seed * 100_003 + number)
        while self.now() < self.end_at:
            op = self.pick(rng, role)
            if op in READ_MIX:
                rec = await self.read(client, op, rng)
            elif op == "create":
                rec = await self.create(client, rng)
            elif op == "patch":
                rec = await self.patch(client, rng)
            else:
                rec = await self.signup(client)
            if rec.status is None or rec.status == 503:
                await asyncio.sleep(self.args.error_pause)

    def roles(self) -> list[str]:
        if self.args.writers is None:
            return ["mixed"] * self.args.connections
        return ["writer"] * self.args.writers + ["reader"] * self.args.readers

    async def run(self, cluster: Cluster | None) -> Outage:
        roles = self.roles()
        outage = Outage()
        # One client per connection: httpx's shared pool costs ~15 ms of client CPU per
        # request at 64 connections (measured), one client each ~2 ms. Plain http, so the
        # TLS context (expensive to build) is made once and shared.
        tls = ssl.create_default_context()
        one = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with contextlib.AsyncExitStack() as stack:
            clients = [
                await stack.enter_async_context(
                    httpx.AsyncClient(
                        base_url=self.base, timeout=self.args.timeout, limits=one, verify=tls
                    )
                )
                for _ in roles
            ]
            self.t0 = time.monotonic()
            self.end_at = self.args.duration
            tasks = [
                asyncio.create_task(self.client_loop(client, i, role))
                for i, (client, role) in enumerate(zip(clients, roles, strict=True))
            ]
            if cluster is not None and self.args.outage:
                tasks.append(asyncio.create_task(self.break_database(cluster, outage)))
            await asyncio.wait_for(
                asyncio.gather(*tasks), timeout=self.args.duration + self.args.timeout + 120
            )
        return outage

    async def break_database(self, cluster: Cluster, outage: Outage) -> None:
        """Stop PostgreSQL mid-run (immediate: no clean shutdown), start it again; probe it."""
        stop_probing = threading.Event()

        def probe() -> None:
            while not stop_probing.is_set():
                start = self.now()
                accepted = cluster.accepts()
                outage.probes.append(Probe(start, self.now(), accepted))
                time.sleep(0.02)

        await asyncio.sleep(max(0.0, self.args.duration * self.args.outage_at - 1.0 - self.now()))
        prober = threading.Thread(target=probe, daemon=True)
        prober.start()
        try:
            await asyncio.sleep(1.0)
            log("outage: pg_ctlcluster stop -m immediate")
            outage.stop_called = self.now()
            await asyncio.to_thread(cluster.ctl, "stop", "-m", "immediate")
            outage.down = self.now()
            await asyncio.sleep(self.args.outage_seconds)
            log("outage: pg_ctlcluster start")
            outage.start_called = self.now()
            await asyncio.to_thread(cluster.ctl, "start")
            outage.start_returned = self.now()
            log(f"outage: started again ({outage.start_returned - outage.start_called:.1f}s)")
            await asyncio.sleep(1.0)
        except Exception as exc:
            outage.error = str(exc)
            log(f"outage: {exc}")
        finally:
            stop_probing.set()
            await asyncio.to_thread(prober.join, 5)


# ---------------------------------------------------------------- set-up


def catalog_of(base: str, token: str) -> dict[str, Any]:
    """What the clients pick from: slugs, ids of articles to PATCH, tags, search words."""
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, timeout=30) as client:
        articles = client.get("/v1/articles", params={"limit": 100})
        articles.raise_for_status()
        items = articles.json()["data"]
        if not items:
            raise bench.BenchError("no published articles after the import")
        tags = [t["slug"] for t in client.get("/v1/tags", params={"limit": 100}).json()["data"]]
        words = []
        for word in ["karimo", *" ".join(a["title"] for a in items[:20]).lower().split()]:
            word = "".join(ch for ch in word if ch.isalnum())
            if len(word) >= 4 and word not in words:
                found = client.get("/v1/search", params={"q": word})
                if found.status_code == 200 and found.json()["data"]:
                    words.append(word)
            if len(words) >= 5:
                break
        admin = client.get("/v1/admin/articles", params={"limit": 100}, headers=auth)
        admin.raise_for_status()
    return {
        "slugs": [a["slug"] for a in items],
        "tags": tags or ["soak"],
        "words": words or ["soak"],
        "ids": [a["id"] for a in admin.json()["data"]],
    }


def log_summary(text: str) -> dict[str, Any]:
    """The server log in numbers: its lines, tracebacks, and its top-level messages (the
    lines that are neither traceback frames nor blank) counted, with paths cut to file names."""
    skip = ("Traceback (most recent call last)", "The above exception", "During handling")
    messages: Counter[str] = Counter()
    for line in text.splitlines():
        if not line.strip() or line[0].isspace() or line.startswith(skip):
            continue
        messages[re.sub(r"(?<![\w:/])/(?:[\w.-]+/)+", "", line)[:200]] += 1
    return {
        "lines": text.count("\n"),
        "tracebacks": text.count("Traceback (most recent call last)"),
        "messages": dict(messages.most_common(15)),
    }


def make_token(env: dict[str, str], workdir: Path) -> str:
    cmd = [bench.masthead_bin(), "tokens", "create", "--name", "soak", "--role", "admin"]
    result = bench.run_bounded(cmd, timeout=60, env=env, cwd=workdir)
    if result.returncode != 0:
        raise bench.BenchError(f"masthead tokens create failed:\n{result.stdout}{result.stderr}")
    return result.stdout.strip().splitlines()[-1]


# ---------------------------------------------------------------- checking the writes


async def paged(client: httpx.AsyncClient, path: str, auth: dict[str, str]) -> list[dict]:
    """Every item of an admin list, page by page (bounded)."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(10_000):
        params: dict[str, Any] = {"limit": 100}
        if cursor:
            params["cursor"] = cursor
        page = await client.get(path, params=params, headers=auth)
        if page.status_code != 200:
            raise bench.BenchError(f"GET {path} answered {page.status_code}: {page.text[:300]}")
        body = page.json()
        items += body["data"]
        cursor = (body.get("meta") or {}).get("next_cursor")
        if not cursor:
            return items
    raise bench.BenchError(f"GET {path}: more pages than expected")


async def verify(load: Load) -> dict[str, Any]:
    auth = load.auth
    limit = asyncio.Semaphore(8)
    async with httpx.AsyncClient(base_url=load.base, timeout=30) as client:

        async def get(path: str) -> httpx.Response:
            async with limit:
                return await client.get(path, headers=auth)

        # Creates: by id, then by title over the whole list.
        read_back = await asyncio.gather(
            *(get(f"/v1/admin/articles/{w['id']}") for w in load.created)
        )
        titles = Counter(a["title"] for a in await paged(client, "/v1/admin/articles", auth))
        lost_creates = [
            w
            for w, r in zip(load.created, read_back, strict=True)
            if r.status_code != 200 or r.json()["data"]["title"] != w["title"]
        ]
        acked_titles = {w["title"] for w in load.created}
        dup_creates = sorted(t for t in load.create_attempts if titles[t] > 1)
        unacked_creates = [t for t in load.create_attempts if t not in acked_titles and titles[t]]
        # Patches: each acknowledged one is in its article's revisions, once.
        ids = sorted({w["id"] for w in load.patched})
        answers = await asyncio.gather(*(get(f"/v1/admin/articles/{i}/revisions") for i in ids))
        revisions = dict(zip(ids, answers, strict=True))
        seen: Counter[str] = Counter()
        versions: dict[str, list[int]] = defaultdict(list)
        for article_id, response in revisions.items():
            if response.status_code != 200:
                raise bench.BenchError(f"revisions of {article_id}: {response.status_code}")
            for revision in response.json()["data"]:
                seen[str(revision["snapshot"].get("subtitle"))] += 1
        for w in load.patched:
            versions[w["id"]].append(w["version"])
        lost_patches = [w for w in load.patched if not seen[w["token"]]]
        dup_patches = [w for w in load.patched if seen[w["token"]] > 1]
        acked_tokens = {w["token"] for w in load.patched}
        unacked_patches = [t for t in load.patch_attempts if t not in acked_tokens and seen[t]]
        same_version = {i: v for i, v in versions.items() if len(v) != len(set(v))}
        # Sign-ups: listed once each.
        subscribers = await paged(client, "/v1/admin/subscribers", auth)
        emails = Counter(s["email"] for s in subscribers)
        consents = {s["email"]: len(s.get("consents") or []) for s in subscribers}
        lost_signups = [e for e in load.signed_up if not emails[e.lower()]]
        dup_signups = [
            e for e in load.signed_up if emails[e.lower()] > 1 or consents.get(e.lower(), 0) > 1
        ]
        acked_emails = set(load.signed_up)
        unacked_signups = [
            e for e in load.signup_attempts if e not in acked_emails and emails[e.lower()]
        ]
    return {
        "creates": {
            "acknowledged": len(load.created),
            "lost": lost_creates,
            "duplicated": dup_creates,
            "unacknowledged_but_stored": len(unacked_creates),
        },
        "patches": {
            "acknowledged": len(load.patched),
            "lost": lost_patches,
            "duplicated": dup_patches,
            "acknowledged_with_the_same_version": same_version,
            "unacknowledged_but_stored": len(unacked_patches),
        },
        "signups": {
            "acknowledged": len(load.signed_up),
            "checked_via": "GET /v1/admin/subscribers",
            "lost": lost_signups,
            "duplicated": dup_signups,
            "unacknowledged_but_stored": len(unacked_signups),
        },
    }


# ---------------------------------------------------------------- analysis


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def latency(records: list[Rec]) -> dict[str, Any]:
    values = [r.latency * 1000 for r in records]
    return {
        "requests": len(values),
        "p50_ms": percentile(values, 0.50),
        "p99_ms": percentile(values, 0.99),
        "max_ms": max(values) if values else None,
    }


def statuses(records: list[Rec]) -> dict[str, int]:
    return dict(sorted(Counter(r.label for r in records).items()))


def analyse(load: Load, outage: Outage | None) -> dict[str, Any]:
    records = sorted(load.records, key=lambda r: r.start)
    result: dict[str, Any] = {
        "requests": len(records),
        "requests_per_second": len(records) / load.args.duration,
        "statuses": statuses(records),
        "errors": statuses([r for r in records if not r.ok]),
        "error_samples": load.samples,
        "latency": latency(records),
        "latency_by_group": {
            g: latency([r for r in records if r.group == g]) for g in ("read", "write", "signup")
        },
        "latency_by_op": {
            op: latency([r for r in records if r.op == op])
            for op in sorted({r.op for r in records})
        },
    }
    if outage is None or outage.down is None:
        return result
    probes = sorted(outage.probes, key=lambda p: p.start)
    refused = [p for p in probes if not p.accepted and p.start >= (outage.stop_called or 0)]
    accept = next((p for p in probes if p.accepted and p.start > outage.down), None)
    t_accept = accept.end if accept else None
    t_refusing = max(
        (p.start for p in refused if accept is None or p.start < accept.start),
        default=outage.down,
    )
    inside = [r for r in records if r.start >= outage.down and r.end <= t_refusing]
    started_inside = [
        r for r in records if r.start >= outage.down and (t_accept is None or r.start < t_accept)
    ]
    bad = [r for r in inside if not (r.status == 503 and r.problem and r.retry_after)]
    info: dict[str, Any] = {
        "stop_called_s": outage.stop_called,
        "down_s": outage.down,
        "start_called_s": outage.start_called,
        "start_returned_s": outage.start_returned,
        "last_refused_s": t_refusing,
        "accepting_again_s": t_accept,
        "error": outage.error,
        "during": {
            **latency(inside),
            "statuses": statuses(inside),
            "not_503_problem_with_retry_after": len(bad),
            "examples_not_503": [asdict(r) for r in bad[:5]],
        },
        "begun_during_answered_in_1s_or_more": len([r for r in started_inside if r.latency >= 1.0]),
        "slowest_begun_during": asdict(max(started_inside, key=lambda r: r.latency))
        if started_inside
        else None,
    }
    stop_called = outage.stop_called or outage.down
    phases = {
        "before": [r for r in records if r.end < stop_called],
        "while_stopping": [r for r in records if r.start < outage.down and r.end >= stop_called],
        "after": [r for r in records if t_accept is not None and r.start >= t_accept],
    }
    for name, group in phases.items():
        slowest = asdict(max(group, key=lambda r: r.latency)) if group else None
        info[name] = {**latency(group), "statuses": statuses(group), "slowest": slowest}
    if t_accept is not None:
        after = [r for r in records if r.start >= outage.down]
        recovery: dict[str, Any] = {}
        for group in ("read", "write", "signup"):
            first = next((r for r in after if r.group == group and r.ok), None)
            recovery[f"first_{group}_ok_ms"] = (
                None if first is None else round((first.end - t_accept) * 1000, 1)
            )
        # Failures the database caused: not conflicts (412), not load shedding (overloaded,
        # which happens before the outage too).
        failures_after = [
            r
            for r in records
            if r.start >= t_accept
            and not r.ok
            and r.status != 412
            and not (r.status == 503 and r.problem == "overloaded")
        ]
        last = failures_after[-1] if failures_after else None
        recovery["last_failure_after_accepting_ms"] = (
            None if last is None else round((last.end - t_accept) * 1000, 1)
        )
        recovery["last_failure_after_accepting"] = None if last is None else asdict(last)
        recovery["failures_after_accepting"] = statuses(failures_after)
        info["recovery"] = recovery
    result["outage"] = info
    return result


def verdict(analysis: dict[str, Any], checks: dict[str, Any]) -> list[str]:
    problems = []
    for kind, check in checks.items():
        for what in ("lost", "duplicated"):
            if check[what]:
                problems.append(f"{len(check[what])} {kind} {what}")
        if check.get("acknowledged_with_the_same_version"):
            problems.append(f"{kind}: two acknowledged PATCHes produced the same version")
    for label, count in analysis["errors"].items():
        if label.startswith("no answer") or (label[:1] == "5" and not label.startswith("503")):
            problems.append(f"{count} requests answered {label}")
    outage = analysis.get("outage")
    if outage:
        if outage["during"]["not_503_problem_with_retry_after"]:
            problems.append(
                f"{outage['during']['not_503_problem_with_retry_after']} answers during the outage "
                "were not 503 with Retry-After"
            )
        if outage["begun_during_answered_in_1s_or_more"]:
            problems.append(
                f"{outage['begun_during_answered_in_1s_or_more']} requests begun during the "
                "outage took 1 s or more"
            )
        if outage.get("accepting_again_s") is None:
            problems.append("PostgreSQL was never seen accepting connections again")
    return problems


# ---------------------------------------------------------------- output


def joined(counts: dict[str, int]) -> str:
    return ", ".join(f"{k}: {v:,}" for k, v in counts.items())


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f} ms"


def print_summary(payload: dict[str, Any]) -> None:
    cfg, a, checks = payload["setup"], payload["analysis"], payload["writes"]
    print(
        f"\nMasthead soak: {cfg['database']}, {cfg['workers']} worker(s), {cfg['clients']}, "
        f"{cfg['duration_s']:.0f} s"
        + (", PostgreSQL stopped and restarted mid-run" if cfg["outage"] else "")
        + (", write contention (SQLite: no outage)" if cfg["sqlite_contention"] else "")
    )
    print(f"  requests: {a['requests']:,} ({a['requests_per_second']:,.0f}/s)")
    lat = a["latency"]
    print(f"  latency: p50 {ms(lat['p50_ms'])}, p99 {ms(lat['p99_ms'])}, max {ms(lat['max_ms'])}")
    for group, g in a["latency_by_group"].items():
        print(
            f"    {group:7} {g['requests']:>7,}  p50 {ms(g['p50_ms'])}, p99 {ms(g['p99_ms'])}, "
            f"max {ms(g['max_ms'])}"
        )
    cpu = payload["cpu"]
    print(
        f"  CPU: server {cpu['server_s']:.1f} s ({cpu['server_ms_per_request']:.2f} ms/request), "
        f"client {cpu['client_s']:.1f} s, other programs {cpu['other_share']:.0%} of the "
        f"machine's {payload['machine']['nproc']} CPUs"
        + (" (PostgreSQL included)" if cpu["other_includes_postgresql"] else "")
    )
    print("  statuses: " + ", ".join(f"{k}: {v:,}" for k, v in a["statuses"].items()))
    print(
        "  errors by status: "
        + (", ".join(f"{k}: {v:,}" for k, v in a["errors"].items()) or "none")
    )
    for label, sample in a["error_samples"].items():
        print(f"    e.g. {label}: {sample[:200]}")
    outage = a.get("outage")
    if outage:
        d = outage["during"]
        print(
            f"  outage: stop -m immediate at {outage['stop_called_s']:.2f} s (down at "
            f"{outage['down_s']:.2f} s), start at {outage['start_called_s'] or 0:.2f} s "
            f"(returned {outage['start_returned_s'] or 0:.2f} s), PostgreSQL accepting again "
            f"at {outage['accepting_again_s'] or 0:.2f} s"
        )
        for phase in ("before", "while_stopping", "during", "after"):
            w = outage[phase]
            line = (
                f"    {phase.replace('_', ' ')}: {w['requests']:,} requests, "
                + joined(w["statuses"])
                + f"; p50 {ms(w['p50_ms'])}, p99 {ms(w['p99_ms'])}, max {ms(w['max_ms'])}"
            )
            if phase == "during":
                line += (
                    f"; not a 503 problem with Retry-After: {d['not_503_problem_with_retry_after']}"
                )
            print(line)
        print(
            f"    begun during the outage and answered in 1 s or more: "
            f"{outage['begun_during_answered_in_1s_or_more']}"
        )
        rec = outage.get("recovery")
        if rec:
            failed_after = rec["failures_after_accepting"]
            print(
                f"  recovery (from PostgreSQL accepting): first read ok "
                f"{ms(rec['first_read_ok_ms'])}, first write ok {ms(rec['first_write_ok_ms'])}, "
                f"first sign-up ok {ms(rec['first_signup_ok_ms'])}; last failure "
                f"{ms(rec['last_failure_after_accepting_ms'])} (not counting load shedding)"
                + (f" ({joined(failed_after)})" if failed_after else "")
            )
    print("  writes (checked through the admin API afterwards):")
    for kind, c in checks.items():
        extra = ""
        if c.get("acknowledged_with_the_same_version"):
            extra = (
                f", {len(c['acknowledged_with_the_same_version'])} articles with a version twice"
            )
        print(
            f"    {kind:8} acknowledged {c['acknowledged']:,}, lost {len(c['lost'])}, "
            f"duplicated {len(c['duplicated'])}, not acknowledged but stored "
            f"{c['unacknowledged_but_stored']}{extra}"
        )
    server_log = payload["server_log"]
    print(
        f"  server log: {server_log['lines']:,} lines, {server_log['tracebacks']} tracebacks"
        + "".join(f"\n    {n:>5} x {m[:150]}" for m, n in list(server_log["messages"].items())[:6])
    )
    problems = payload["problems"]
    print("  verdict: " + ("ok" if not problems else "FAIL: " + "; ".join(problems)))


# ---------------------------------------------------------------- main


def on_signal(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


def soak(args: argparse.Namespace, procs: bench.Processes, workdir: Path, state: dict) -> dict:
    cluster = None
    if args.postgres and not args.pg_url:
        why = Cluster.available()
        if why:
            raise bench.BenchError(f"no throw-away PostgreSQL cluster: {why} (or give --pg-url)")
        cluster = Cluster(args.pg_version)
        state["cluster"] = cluster
        cluster.create()
        args.pg_url = cluster.server_url
    bundle = bench.bundle_path(args, args.articles)
    db = bench.create_database(args, workdir, args.articles)
    state["db"] = db
    import_info = bench.import_bundle(args, db, bundle, workdir)
    env = bench.server_env(db, args)
    # Every sign-up comes from 127.0.0.1: the per-address limit would stop them at 20.
    env["MASTHEAD_SUBSCRIPTION_LIMIT_PER_ADDRESS"] = "1000000000"
    env.update(item.split("=", 1) for item in args.server_env)
    port = bench.free_port()
    log_path = workdir / "masthead.log"
    cmd = [bench.masthead_bin(), "serve", "--host", HOST, "--port", str(port), "--no-demo"]
    cmd += ["--workers", str(args.workers)]
    proc = procs.start(cmd, env=env, cwd=workdir, log_path=log_path)
    base = f"http://{HOST}:{port}"
    bench.wait_ready(proc, base + "/readyz", args.startup_timeout, log_path)
    bench.wait_for_server_idle(proc.pid, args.idle_wait)
    token = make_token(env, workdir)
    catalog = catalog_of(base, token)
    load = Load(args, base, token, catalog)
    clients = (
        f"{args.connections} connections (mixed)"
        if args.writers is None
        else f"{args.writers} writers + {args.readers} readers"
    )
    log(f"load: {clients} for {args.duration:.0f}s against {base}")
    bench.wait_for_quiet(args, proc.pid)
    busy_before, server_before = bench.machine_busy_seconds(), bench.cpu_ticks(proc.pid)
    client_before, wall_before = sum(os.times()[:2]), time.monotonic()
    outage = asyncio.run(load.run(cluster))
    wall = time.monotonic() - wall_before
    server_cpu = bench.cpu_seconds_between(server_before, bench.cpu_ticks(proc.pid))
    client_cpu = sum(os.times()[:2]) - client_before
    other_cpu = max(0.0, bench.machine_busy_seconds() - busy_before - server_cpu - client_cpu)
    cpu = {
        "server_s": round(server_cpu, 2),
        "server_ms_per_request": round(server_cpu * 1000 / max(1, len(load.records)), 2),
        "client_s": round(client_cpu, 2),
        "other_share": round(other_cpu / (wall * (os.cpu_count() or 1)), 3),
        "other_includes_postgresql": bool(args.postgres),
    }
    if proc.poll() is not None:
        raise bench.BenchError(f"the server exited during the run:\n{bench.tail(log_path)}")
    log("checking every acknowledged write")
    checks = asyncio.run(asyncio.wait_for(verify(load), timeout=600))
    analysis = analyse(load, outage if args.outage and args.postgres else None)
    server_log = log_path.read_text(errors="replace")
    return {
        "setup": {
            "database": "postgresql (throw-away cluster)"
            if cluster
            else ("postgresql" if args.postgres else "sqlite"),
            "workers": args.workers,
            "clients": clients,
            "duration_s": args.duration,
            "outage": bool(args.outage and args.postgres),
            "sqlite_contention": bool(args.outage and not args.postgres),
            "mix_percent": {"read": 85, "write": 10, "signup": 5}
            if args.writers is None
            else {"writers": "admin writes 2 : sign-ups 1", "readers": "reads only"},
            "read_mix": READ_MIX,
            "server_settings": {k: v for k, v in env.items() if k.startswith("MASTHEAD_")}
            | {"MASTHEAD_DATABASE_URL": db.kind},
            "dataset": {"articles": args.articles, "words": args.words, **import_info},
            "catalog": {k: len(v) for k, v in catalog.items()},
        },
        "analysis": analysis,
        "cpu": cpu,
        "writes": checks,
        "server_log": log_summary(server_log),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    started = datetime.now(UTC)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    procs = bench.Processes()
    workdir = Path(tempfile.mkdtemp(prefix="masthead-soak-"))
    state: dict[str, Any] = {}
    try:
        payload: dict[str, Any] = {
            "kind": "soak",
            "started_at": started.isoformat(),
            "command": bench.portable_command(
                [sys.argv[0], *(sys.argv[1:] if argv is None else argv)]
            ),
            "git_commit": bench.git_commit(),
            "machine": bench.machine_info(),
            "config": {
                k: bench.portable(v) if isinstance(v, Path) else v
                for k, v in vars(args).items()
                if k != "pg_url"
            },
        }
        payload.update(soak(args, procs, workdir, state))
        payload["problems"] = verdict(payload["analysis"], payload["writes"])
        payload["finished_at"] = datetime.now(UTC).isoformat()
        print_summary(payload)
        path = args.output or RESULTS_DIR / f"soak-{stamp}.json"
        args.output = path
        written = bench.write_results(args, payload, stamp)
        print(f"\nresults: {bench.portable(written)}")
        return 1 if payload["problems"] else 0
    except bench.BenchError as exc:
        log(f"error: {exc}")
        return 1
    finally:
        procs.stop_all()
        if state.get("db") is not None and "cluster" not in state:
            bench.drop_database(args, state["db"])
        if state.get("cluster") is not None and not args.keep_db:
            state["cluster"].drop()
        if args.keep_db:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())

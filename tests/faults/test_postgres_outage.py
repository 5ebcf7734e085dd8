"""PostgreSQL stops under load and starts again; Masthead keeps answering, and loses nothing.

The test makes a PostgreSQL cluster of its own (Debian's `pg_createcluster`, on a free port,
trust authentication on loopback), starts a real `masthead serve` against it, loads a few
articles through the admin API and then runs client threads (public reads, admin writes,
health checks) while the cluster is stopped with `pg_ctlcluster ... stop -m immediate` and
started again. Every response is recorded with its latency. A probe thread connects to
PostgreSQL directly, so the moment the database accepts connections again is measured, not
guessed. Then:

- while the database is away, every API answer is a 503 problem (`application/problem+json`,
  `Retry-After`) in under 1 s, never a 500, never a hang; `/healthz` answers 200, `/readyz` 503;
- once the database accepts connections, a read succeeds within 1 s and a write within 2 s,
  and from 2 s on every request succeeds;
- every write acknowledged with a 2xx is there afterwards (read back by id), exactly once.

Runs only with MASTHEAD_FAULTS=1 (`make faults`), as root, where pg_createcluster exists. The
cluster is dropped and the server killed whatever happens; the whole test is bounded.
"""

import contextlib
import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

HOST = "127.0.0.1"
PG_VERSION = os.environ.get("MASTHEAD_FAULTS_PG_VERSION", "15")
TEST_BOUND_SECONDS = 90
CLIENT_TIMEOUT = 5.0  # longer than any bound asserted, so a hang shows as a latency
OUTAGE_ANSWER_WITHIN = 1.0
READ_RECOVERY_WITHIN = 1.0
WRITE_RECOVERY_WITHIN = 2.0
ALL_WELL_AFTER = 2.0  # from this long after the database accepts, every request succeeds
WARM_SECONDS = 2.5
DOWN_SECONDS = 3.0
AFTER_SECONDS = 5.0
READERS, WRITERS = 3, 2
MAX_REQUESTS = 20_000  # a bound on the traffic, whatever happens
SEED_ARTICLES = 8

pytestmark = [
    pytest.mark.skipif(
        os.environ.get("MASTHEAD_FAULTS") != "1",
        reason="fault test: runs only with MASTHEAD_FAULTS=1 (make faults)",
    ),
    pytest.mark.skipif(
        shutil.which("pg_createcluster") is None,
        reason="pg_createcluster not found (Debian's postgresql-common is needed)",
    ),
    pytest.mark.skipif(
        not Path(f"/usr/lib/postgresql/{PG_VERSION}/bin/initdb").exists(),
        reason=f"PostgreSQL {PG_VERSION} server binaries not installed",
    ),
    pytest.mark.skipif(os.geteuid() != 0, reason="creating a PostgreSQL cluster needs root"),
]


# ---------------------------------------------------------------- processes and the cluster


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def run(cmd: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    """Run a command to completion (bounded); a failure raises with its output."""
    result = subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
        )
    return result


class Cluster:
    """A throw-away PostgreSQL cluster, `masthead_fault_<pid>`, never the shared `main`."""

    def __init__(self, version: str, port: int) -> None:
        self.version = version
        self.name = f"masthead_fault_{os.getpid()}"
        self.port = port
        assert self.name != "main"
        self.created = False

    def ctl(self, action: str, *extra: str, timeout: float = 60) -> None:
        cmd = ["pg_ctlcluster", "--skip-systemctl-redirect", self.version, self.name, action]
        run([*cmd, *extra], timeout)

    def create(self) -> None:
        if Path(f"/etc/postgresql/{self.version}/{self.name}").exists():
            self.drop()  # left over by an earlier run with the same pid: ours by its name
        self.created = True
        run(
            ["pg_createcluster", self.version, self.name, "-p", str(self.port)]
            + ["--start-conf", "manual"]  # listen_addresses stays 'localhost': loopback
            + ["--", "--auth=trust"],
            timeout=60,
        )

    def start(self) -> None:
        self.ctl("start")

    def stop_immediate(self) -> None:
        self.ctl("stop", "-m", "immediate")

    def drop(self) -> None:
        with contextlib.suppress(Exception):
            run(["pg_dropcluster", "--stop", self.version, self.name], timeout=60)

    def url(self, database: str, driver: str = "postgresql") -> str:
        return f"{driver}://postgres@{HOST}:{self.port}/{database}"

    def accepts(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(self.url("postgres"), connect_timeout=1) as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False


def kill_group(proc: subprocess.Popen[Any]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def masthead_bin() -> str:
    local = Path(sys.executable).parent / "masthead"
    return str(local) if local.exists() else shutil.which("masthead") or "masthead"


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the main thread with TimeoutError after `seconds` (the whole test's bound)."""

    def expired(_signum: int, _frame: Any) -> None:
        raise TimeoutError(f"the fault test took over {seconds:.0f}s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# ---------------------------------------------------------------- traffic


@dataclass
class Rec:
    """One request: what, when (seconds since the traffic began), and the answer."""

    kind: str  # read, write, healthz, readyz
    method: str
    path: str
    start: float
    end: float
    status: int | None  # None: no answer (timeout, connection error)
    content_type: str = ""
    retry_after: str | None = None
    detail: str = ""
    article_id: str | None = None
    title: str | None = None

    @property
    def latency(self) -> float:
        return self.end - self.start

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def is_503_problem(self) -> bool:
        return (
            self.status == 503
            and self.content_type.startswith("application/problem+json")
            and bool(self.retry_after)
        )

    def show(self) -> str:
        answer = "no answer" if self.status is None else str(self.status)
        extra = f" Retry-After={self.retry_after}" if self.retry_after else ""
        return (
            f"{self.method} {self.path} at {self.start:.3f}s: {answer} in "
            f"{self.latency * 1000:.0f} ms ({self.content_type or '-'}{extra}) {self.detail}"
        ).rstrip()


@dataclass
class Probe:
    start: float
    end: float
    accepted: bool


class Traffic:
    """Client threads, each with its own HTTP connection, recording every response."""

    def __init__(self, base: str, token: str, slugs: list[str], run_id: str) -> None:
        self.base = base
        self.auth = {"Authorization": f"Bearer {token}"}
        self.slugs = slugs
        self.run_id = run_id
        self.t0 = time.monotonic()
        self.stop = threading.Event()
        self.records: list[Rec] = []
        self.probes: list[Probe] = []
        self.count = itertools.count()
        self.threads: list[threading.Thread] = []
        self.cluster: Cluster | None = None

    def now(self) -> float:
        return time.monotonic() - self.t0

    def request(
        self, client: httpx.Client, kind: str, method: str, path: str, **kwargs: Any
    ) -> tuple[Rec, httpx.Response | None]:
        start = self.now()
        try:
            response = client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            rec = Rec(kind, method, path, start, self.now(), None, detail=repr(exc))
            self.records.append(rec)
            return rec, None
        rec = Rec(
            kind,
            method,
            path,
            start,
            self.now(),
            response.status_code,
            response.headers.get("content-type", ""),
            response.headers.get("retry-after"),
        )
        if not rec.ok:
            rec.detail = response.text[:300]
        self.records.append(rec)
        return rec, response

    def running(self) -> bool:
        return not self.stop.is_set() and next(self.count) < MAX_REQUESTS

    def reader(self, number: int) -> None:
        paths = ["/v1/articles", "/v1/articles?tag=fault&limit=5"]
        paths += [f"/v1/articles/{slug}" for slug in self.slugs]
        with httpx.Client(base_url=self.base, timeout=CLIENT_TIMEOUT) as client:
            for i in itertools.count(number):
                if not self.running():
                    return
                self.request(client, "read", "GET", paths[i % len(paths)])
                time.sleep(0.01)

    def writer(self, number: int) -> None:
        with httpx.Client(base_url=self.base, timeout=CLIENT_TIMEOUT) as client:
            for n in itertools.count():
                if not self.running():
                    return
                title = f"Fault {self.run_id} w{number} n{n}"
                body = {"title": title, "body_markdown": f"Written by writer {number}."}
                rec, response = self.request(
                    client,
                    "write",
                    "POST",
                    "/v1/admin/articles",
                    json={**body, "tags": ["fault-writes"]},
                    headers=self.auth,
                )
                rec.title = title
                if response is not None and rec.ok:
                    rec.article_id = response.json()["data"]["id"]
                time.sleep(0.03)

    def monitor(self) -> None:
        with httpx.Client(base_url=self.base, timeout=CLIENT_TIMEOUT) as client:
            while self.running():
                self.request(client, "healthz", "GET", "/healthz")
                self.request(client, "readyz", "GET", "/readyz")
                time.sleep(0.05)

    def prober(self) -> None:
        """PostgreSQL itself: does it accept a connection (and answer SELECT 1)?"""
        assert self.cluster is not None
        while not self.stop.is_set():
            start = self.now()
            accepted = self.cluster.accepts()
            self.probes.append(Probe(start, self.now(), accepted))
            time.sleep(0.02)

    def begin(self, cluster: Cluster) -> None:
        self.cluster = cluster
        targets: list[tuple[Any, tuple[int, ...]]] = [(self.reader, (i,)) for i in range(READERS)]
        targets += [(self.writer, (i,)) for i in range(WRITERS)]
        targets += [(self.monitor, ()), (self.prober, ())]
        for target, args in targets:
            thread = threading.Thread(target=target, args=args, daemon=True)
            thread.start()
            self.threads.append(thread)

    def end(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=CLIENT_TIMEOUT + 5)


# ---------------------------------------------------------------- setup helpers


def wait_ready(proc: subprocess.Popen[bytes], base: str, log: Path, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"masthead serve exited ({proc.returncode}):\n{log.read_text()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"masthead serve not ready after {within:.0f}s:\n{log.read_text()}")


def seed(base: str, token: str) -> list[str]:
    """A few published articles, through the admin API; their slugs."""
    auth = {"Authorization": f"Bearer {token}"}
    slugs = []
    with httpx.Client(base_url=base, timeout=10, headers=auth) as client:
        for i in range(SEED_ARTICLES):
            created = client.post(
                "/v1/admin/articles",
                json={
                    "title": f"Seed article {i}",
                    "body_markdown": f"Seed **{i}**: the database will go away.",
                    "tags": ["fault"],
                },
            )
            assert created.status_code == 201, created.text
            article = created.json()["data"]
            published = client.post(f"/v1/admin/articles/{article['id']}/publish")
            assert published.status_code == 200, published.text
            slugs.append(article["slug"])
    return slugs


def admin_titles(base: str, token: str) -> Counter[str]:
    """How many live articles carry each title, over every page of the admin list."""
    titles: Counter[str] = Counter()
    cursor = None
    with httpx.Client(base_url=base, timeout=10) as client:
        for _ in range(1000):
            params: dict[str, Any] = {"limit": 100}
            if cursor:
                params["cursor"] = cursor
            page = client.get(
                "/v1/admin/articles", params=params, headers={"Authorization": f"Bearer {token}"}
            )
            assert page.status_code == 200, page.text
            body = page.json()
            titles.update(article["title"] for article in body["data"])
            cursor = body["meta"].get("next_cursor")
            if not cursor:
                break
    return titles


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# ---------------------------------------------------------------- the test


def test_postgres_outage_under_load(tmp_path: Path) -> None:
    cluster = Cluster(PG_VERSION, free_port())
    server: subprocess.Popen[bytes] | None = None
    traffic: Traffic | None = None
    log = tmp_path / "server.log"
    try:
        with time_limit(TEST_BOUND_SECONDS):
            cluster.create()
            cluster.start()
            import psycopg

            with psycopg.connect(cluster.url("postgres"), autocommit=True) as conn:
                conn.execute("CREATE DATABASE masthead_fault")
            env = {k: v for k, v in os.environ.items() if not k.startswith("MASTHEAD_")}
            env.update(
                MASTHEAD_DATABASE_URL=cluster.url("masthead_fault", "postgresql+psycopg"),
                MASTHEAD_ENVIRONMENT="development",
                MASTHEAD_LOG_LEVEL="warning",
                PYTHONUNBUFFERED="1",
            )
            port = free_port()
            base = f"http://{HOST}:{port}"
            with open(log, "wb") as out:
                server = subprocess.Popen(
                    [masthead_bin(), "serve", "--host", HOST, "--port", str(port), "--no-demo"],
                    env=env,
                    cwd=tmp_path,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            wait_ready(server, base, log)
            made = subprocess.run(
                [masthead_bin(), "tokens", "create", "--name", "t", "--role", "admin"],
                env=env,
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=30,
                check=True,
            )
            token = made.stdout.strip().splitlines()[-1]
            slugs = seed(base, token)

            traffic = Traffic(base, token, slugs, uuid.uuid4().hex[:8])
            traffic.begin(cluster)
            time.sleep(WARM_SECONDS)
            t_stop = traffic.now()
            cluster.stop_immediate()
            t_down = traffic.now()
            time.sleep(DOWN_SECONDS)
            t_start = traffic.now()
            cluster.start()  # returns once the server is up (crash recovery included)
            t_started = traffic.now()
            while not any(p.accepted and p.start > t_down for p in list(traffic.probes)):
                time.sleep(0.05)
            time.sleep(AFTER_SECONDS)
            traffic.end()
            t_end = traffic.now()
            assert server.poll() is None, "the server exited during the outage"
            titles = admin_titles(base, token)
            with httpx.Client(base_url=base, timeout=10) as client:
                read_back = {
                    rec.article_id: client.get(
                        f"/v1/admin/articles/{rec.article_id}",
                        headers={"Authorization": f"Bearer {token}"},
                    )
                    for rec in traffic.records
                    if rec.kind == "write" and rec.article_id
                }
        report, failures = judge(
            traffic, t_stop, t_down, t_start, t_started, t_end, titles, read_back
        )
        print("\n" + report)
        if failures:
            pytest.fail(
                "\n".join(["PostgreSQL outage:", *failures, "", report, "", "server log (tail):"])
                + "\n"
                + "\n".join(log.read_text(errors="replace").splitlines()[-40:]),
                pytrace=False,
            )
    finally:
        if traffic is not None:
            traffic.stop.set()
        if server is not None:
            kill_group(server)
        if cluster.created:
            cluster.drop()


def judge(
    traffic: Traffic,
    t_stop: float,
    t_down: float,
    t_start: float,
    t_started: float,
    t_end: float,
    titles: Counter[str],
    read_back: dict[str | None, httpx.Response],
) -> tuple[str, list[str]]:
    """The measurements as a report, and every broken expectation with its evidence."""
    records = sorted(traffic.records, key=lambda r: r.start)
    probes = sorted(traffic.probes, key=lambda p: p.start)
    refused = [p for p in probes if not p.accepted and p.start >= t_stop]
    first_accept = next(p for p in probes if p.accepted and p.start > t_down)
    t_accept = first_accept.end  # the moment PostgreSQL was seen accepting again
    # The last moment PostgreSQL was seen refusing: the outage is [t_down, t_refusing].
    t_refusing = max((p.start for p in refused if p.start < first_accept.start), default=t_down)
    failures: list[str] = []

    def fail(what: str, evidence: list[Rec], limit: int = 8) -> None:
        if evidence:
            lines = [f"  {r.show()}" for r in evidence[:limit]]
            more = f"\n  ... and {len(evidence) - limit} more" if len(evidence) > limit else ""
            failures.append(f"- {what} ({len(evidence)}):\n" + "\n".join(lines) + more)

    api = [r for r in records if r.kind in ("read", "write")]
    # Everywhere: an answer every time, and no error but 503.
    fail("no answer at all (timeout or connection error)", [r for r in records if r.status is None])
    fail(
        "a server error other than 503",
        [r for r in records if r.status is not None and r.status >= 500 and r.status != 503],
    )
    fail(
        "an answer neither 2xx nor 503",
        [r for r in api if r.status is not None and not r.ok and r.status < 500],
    )
    # During the outage (PostgreSQL stopped, then starting up): 503 problems, fast.
    inside = [r for r in records if r.start >= t_down and r.end <= t_refusing]
    started_inside = [r for r in records if t_down <= r.start < t_accept]
    fail(
        "during the outage, an API answer that is not a 503 problem with Retry-After",
        [r for r in inside if r.kind in ("read", "write", "readyz") and not r.is_503_problem()],
    )
    fail(
        "during the outage, /healthz not 200",
        [r for r in inside if r.kind == "healthz" and not r.ok],
    )
    fail(
        f"a request begun during the outage answered in {OUTAGE_ANSWER_WITHIN:.0f} s or more",
        [r for r in started_inside if r.latency >= OUTAGE_ANSWER_WITHIN],
    )
    # Recovery.
    first_read = next((r for r in api if r.kind == "read" and r.ok and r.start >= t_down), None)
    first_write = next((r for r in api if r.kind == "write" and r.ok and r.start >= t_down), None)
    first_ready = next(
        (r for r in records if r.kind == "readyz" and r.ok and r.start >= t_down), None
    )
    read_recovery = first_read.end - t_accept if first_read else None
    write_recovery = first_write.end - t_accept if first_write else None
    if read_recovery is None or read_recovery > READ_RECOVERY_WITHIN:
        failures.append(
            f"- no successful read within {READ_RECOVERY_WITHIN:.0f} s of PostgreSQL accepting "
            f"connections (first: {'none' if first_read is None else first_read.show()})"
        )
    if write_recovery is None or write_recovery > WRITE_RECOVERY_WITHIN:
        failures.append(
            f"- no successful write within {WRITE_RECOVERY_WITHIN:.0f} s of PostgreSQL accepting "
            f"connections (first: {'none' if first_write is None else first_write.show()})"
        )
    if first_ready is None:
        failures.append("- /readyz never answered 200 again after the outage")
    settled = [r for r in records if r.start >= t_accept + ALL_WELL_AFTER]
    fail(
        f"{ALL_WELL_AFTER:.0f} s after PostgreSQL accepts again, a request that failed",
        [r for r in settled if not r.ok],
    )
    # Durability: every acknowledged write is there, once.
    writes = [r for r in api if r.kind == "write"]
    acked = [r for r in writes if r.ok]
    lost = [
        r
        for r in acked
        if read_back[r.article_id].status_code != 200
        or read_back[r.article_id].json()["data"]["title"] != r.title
    ]
    fail("an acknowledged write missing afterwards", lost)
    duplicated = [r for r in writes if r.title and titles[r.title] > 1]
    fail("a write stored more than once", duplicated)
    unacked_stored = [r for r in writes if not r.ok and r.title and titles[r.title] == 1]
    missing_from_list = [r for r in acked if r.title and titles[r.title] == 0]
    fail("an acknowledged write missing from the admin list", missing_from_list)

    def summary(group: list[Rec]) -> str:
        if not group:
            return "none"
        statuses = Counter("none" if r.status is None else str(r.status) for r in group)
        lat = [r.latency * 1000 for r in group]
        by_status = ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items()))
        return (
            f"{len(group)} ({by_status}); latency p50 {percentile(lat, 0.5):.1f} ms, "
            f"p99 {percentile(lat, 0.99):.1f} ms, max {max(lat):.1f} ms"
        )

    def fmt(value: float | None) -> str:
        return "-" if value is None else f"{value * 1000:+.0f} ms"

    before = [r for r in records if r.end < t_stop]
    stopping = [r for r in records if r.start < t_down and r.end >= t_stop]
    after = [r for r in records if r.start >= t_accept]
    lines = [
        "PostgreSQL outage fault test (times in seconds since the traffic began)",
        f"  stop -m immediate called at {t_stop:.3f}, returned at {t_down:.3f}",
        f"  start called at {t_start:.3f}, returned at {t_started:.3f} "
        f"({t_started - t_start:.2f} s, crash recovery included)",
        f"  PostgreSQL last seen refusing at {t_refusing:.3f}, accepting again at {t_accept:.3f} "
        f"(probes: {len(refused)} refused)",
        f"  traffic ended at {t_end:.3f}; {len(records)} requests",
    ]
    for kind in ("read", "write", "readyz", "healthz"):
        lines.append(f"  {kind}:")
        lines.append(f"    before the stop: {summary([r for r in before if r.kind == kind])}")
        lines.append(f"    while stopping: {summary([r for r in stopping if r.kind == kind])}")
        lines.append(f"    during the outage: {summary([r for r in inside if r.kind == kind])}")
        lines.append(
            f"    after PostgreSQL accepts: {summary([r for r in after if r.kind == kind])}"
        )
    lines += [
        f"  first successful read after the outage: {fmt(read_recovery)} from accepting "
        f"(limit {READ_RECOVERY_WITHIN * 1000:.0f} ms)",
        f"  first successful write after the outage: {fmt(write_recovery)} from accepting "
        f"(limit {WRITE_RECOVERY_WITHIN * 1000:.0f} ms)",
        f"  first /readyz 200 after the outage: "
        f"{fmt(first_ready.end - t_accept if first_ready else None)} from accepting",
        f"  writes: {len(writes)} sent, {len(acked)} acknowledged, {len(lost)} lost, "
        f"{len(duplicated)} duplicated, {len(unacked_stored)} not acknowledged but stored",
    ]
    return "\n".join(lines), failures

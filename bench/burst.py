#!/usr/bin/env python3
"""Masthead burst: many requests at the same instant on a cold server. Does every one get an
answer at once (a success, or a 503 with Retry-After), and does `/healthz` keep answering?

    .venv/bin/python bench/burst.py                 # PostgreSQL (throw-away cluster)
    .venv/bin/python bench/burst.py --sqlite
    .venv/bin/python bench/burst.py --help

Two phases, each on a freshly started server (so its pools, caches and statements are cold):

1. `search`: `--search-burst` (60) connections on one worker each send
   `GET /v1/search?q=<--q>` at the same moment, the response cache off (every request runs
   its query). Target: each answered within `--search-within` (1 s) with 200, or 503 with
   Retry-After; no other status, no connection left unanswered.
2. `wide`: `--wide-burst` (500) connections on two workers each send one public read (search,
   the article list, an article by slug, the tags) at the same moment, while a separate
   process asks `/healthz` every 20 ms on a connection of its own (the probes from the first
   request sent to a second after the last answer count). Target: every request
   answered within `--wide-within` (2 s) with a success or a 503 with Retry-After, and every
   `/healthz` within `--health-within` (100 ms) throughout.

Every connection is opened (and used once, for `/healthz`) before the burst, so the burst is
the requests, not the TCP handshakes; then they are released together. The burst's client
speaks HTTP/1.1 over asyncio streams itself (httpx costs milliseconds of client CPU a request,
which at 500 connections would be timed as the server's). The dataset comes from
bench/make_dataset.py (`--articles`, `--words`), imported with `masthead import`. The synthetic
words of that dataset are the default query (`karimo`, which most articles contain); `rights`,
the issue's query, matches none of them, so it is cheaper.

Everything listens on 127.0.0.1; request counts and every wait are bounded; the servers are
stopped and the throw-away cluster dropped on exit. Prints a summary, writes
bench/results/burst-<UTC timestamp>.json, exits 1 when a target is missed.
"""

import argparse
import asyncio
import contextlib
import multiprocessing
import random
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import orjson
import run as bench  # bench/run.py: processes, databases, imports, machine info, records
import soak  # bench/soak.py: the throw-away PostgreSQL cluster, percentiles

HOST = bench.HOST
RESULTS_DIR = bench.RESULTS_DIR
HEALTH_EVERY = 0.02
log = bench.log


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Burst a cold Masthead with simultaneous requests; check every answer.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL.")
    p.add_argument(
        "--pg-url",
        default=None,
        help="Use this PostgreSQL server (no database name) instead of a throw-away cluster.",
    )
    p.add_argument("--pg-version", default="15", help="Major version of the throw-away cluster.")
    p.add_argument("--articles", type=int, default=2000, help="Articles imported first.")
    p.add_argument("--words", type=int, default=300, help="Approximate words per article.")
    p.add_argument(
        "--dataset-script", type=Path, default=bench.DATASET_SCRIPT, help="make_dataset.py."
    )
    p.add_argument("--q", default="karimo", help="The search query of both phases.")
    p.add_argument("--search-burst", type=int, default=60, help="Requests of phase 1.")
    p.add_argument("--search-within", type=float, default=1.0, help="Phase 1 target, s.")
    p.add_argument("--wide-burst", type=int, default=500, help="Requests of phase 2.")
    p.add_argument("--wide-within", type=float, default=2.0, help="Phase 2 target, s.")
    p.add_argument("--health-within", type=float, default=0.1, help="/healthz target, s.")
    p.add_argument("--phases", default="search,wide", help="Which phases, comma-separated.")
    p.add_argument("--timeout", type=float, default=60.0, help="Per-request timeout, s.")
    soak.add_server_options(p, idle_wait=60.0, before="each burst")
    p.add_argument("--seed", type=int, default=1, help="Random seed of the wide burst's mix.")
    p.add_argument("--keep-db", action="store_true", help="Keep the database and temp dir.")
    p.add_argument("--output", type=Path, default=None, help="Results JSON path.")
    args = p.parse_args(argv)
    args.postgres = not args.sqlite
    args.phases = [x.strip() for x in args.phases.split(",") if x.strip()]
    if not set(args.phases) <= {"search", "wide"} or not args.phases:
        p.error("--phases takes search and/or wide")
    if not 1 <= args.search_burst <= 1000 or not 1 <= args.wide_burst <= 2000:
        p.error("bursts are bounded: --search-burst 1..1000, --wide-burst 1..2000")
    for item in args.server_env:
        if "=" not in item or not item.startswith("MASTHEAD_"):
            p.error(f"--server-env wants MASTHEAD_NAME=VALUE, not {item!r}")
    return args


# ---------------------------------------------------------------- the burst


@dataclass(slots=True)
class Answer:
    op: str
    start: float
    end: float
    status: int | None  # None: no answer
    problem: str | None = None
    retry_after: bool = False

    @property
    def latency(self) -> float:
        return self.end - self.start

    @property
    def label(self) -> str:
        if self.status is None:
            return f"no answer ({self.problem})"
        return f"{self.status} {self.problem}" if self.problem else str(self.status)

    @property
    def acceptable(self) -> bool:
        """A success, or a 503 problem telling when to retry."""
        if self.status is None:
            return False
        return 200 <= self.status < 400 or (self.status == 503 and self.retry_after)


class Connection:
    """One keep-alive HTTP/1.1 connection, spoken directly over asyncio streams: at hundreds
    of connections in one process, httpx's own CPU cost (milliseconds a request) would be
    timed as the server's. Requests are written whole; answers read by Content-Length."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        assert self.reader is not None and self.writer is not None
        self.writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            "Accept: application/json\r\n\r\n".encode()
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        body = await self.reader.readexactly(int(headers.get("content-length", "0")))
        return status, headers, body

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()


async def one(conn: Connection, op: str, path: str, go: asyncio.Event, timeout: float) -> Answer:
    await go.wait()
    start = time.monotonic()
    try:
        status, headers, body = await asyncio.wait_for(conn.get(path), timeout)
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError) as exc:
        return Answer(op, start, time.monotonic(), None, type(exc).__name__)
    answer = Answer(op, start, time.monotonic(), status)
    answer.retry_after = "retry-after" in headers
    if headers.get("content-type", "").startswith("application/problem+json"):
        with contextlib.suppress(Exception):
            answer.problem = str(orjson.loads(body).get("type", "")).rsplit("/", 1)[-1]
    return answer


async def burst(base: str, requests: list[tuple[str, str]], timeout: float) -> list[Answer]:
    """Open one connection per request (each used once for /healthz), then send every
    request at the same moment."""
    host, port = base.removeprefix("http://").rsplit(":", 1)
    connections = [Connection(host, int(port)) for _ in requests]
    try:
        # Connect in batches, so the connections do not become a burst of their own.
        for i in range(0, len(connections), 50):
            batch = connections[i : i + 50]
            await asyncio.gather(*(c.open() for c in batch))
            opened = await asyncio.gather(*(c.get("/healthz") for c in batch))
            if any(status != 200 for status, _, _ in opened):
                raise bench.BenchError(f"/healthz answered {[s for s, _, _ in opened]}")
        go = asyncio.Event()
        tasks = [
            asyncio.create_task(one(conn, op, path, go, timeout))
            for conn, (op, path) in zip(connections, requests, strict=True)
        ]
        await asyncio.sleep(0.05)  # every task waits on `go`
        go.set()
        return list(await asyncio.wait_for(asyncio.gather(*tasks), timeout=timeout + 30))
    finally:
        await asyncio.gather(*(c.close() for c in connections))


def probe_health(base: str, stop: Any, out: Any) -> None:
    """In a process of its own: GET /healthz every 20 ms on one connection until `stop` is
    set (at most two minutes); sends back (start, latency or None, status) per request, start
    on the machine's monotonic clock (the same in every process)."""
    samples = []
    deadline = time.monotonic() + 120
    with httpx.Client(base_url=base, timeout=5) as client:
        while not stop.is_set() and time.monotonic() < deadline:
            t0 = time.monotonic()
            try:
                status: int | None = client.get("/healthz").status_code
                latency: float | None = time.monotonic() - t0
            except httpx.HTTPError:
                status, latency = None, None
            samples.append((t0, latency, status))
            time.sleep(max(0.0, HEALTH_EVERY - (time.monotonic() - t0)))
    out.send(samples)
    out.close()


def summarise(answers: list[Answer], within: float) -> dict[str, Any]:
    latencies = [a.latency * 1000 for a in answers]
    slow = [a for a in answers if a.latency >= within]
    return {
        "requests": len(answers),
        "statuses": dict(sorted(Counter(a.label for a in answers).items())),
        "p50_ms": soak.percentile(latencies, 0.5),
        "p99_ms": soak.percentile(latencies, 0.99),
        "max_ms": max(latencies) if latencies else None,
        "answered_within_target": len(answers) - len(slow),
        "not_acceptable": [asdict(a) for a in answers if not a.acceptable][:10],
        "not_acceptable_count": sum(not a.acceptable for a in answers),
        "slowest": asdict(max(answers, key=lambda a: a.latency)) if answers else None,
        "by_op": {
            op: {
                "requests": len(group),
                "statuses": dict(sorted(Counter(a.label for a in group).items())),
                "max_ms": max(a.latency for a in group) * 1000,
            }
            for op in sorted({a.op for a in answers})
            for group in [[a for a in answers if a.op == op]]
        },
    }


# ---------------------------------------------------------------- servers and phases


def start_server(
    args: argparse.Namespace,
    procs: bench.Processes,
    workdir: Path,
    db: bench.Database,
    *,
    workers: int,
    name: str,
) -> tuple[Any, str, Path, dict[str, str]]:
    env = bench.server_env(db, args, cache=False)
    env.update(item.split("=", 1) for item in args.server_env)
    port = bench.free_port()
    log_path = workdir / f"{name}-{port}.log"
    cmd = [bench.masthead_bin(), "serve", "--host", HOST, "--port", str(port), "--no-demo"]
    cmd += ["--workers", str(workers)]
    proc = procs.start(cmd, env=env, cwd=workdir, log_path=log_path)
    base = f"http://{HOST}:{port}"
    bench.wait_ready(proc, base + "/readyz", args.startup_timeout, log_path)
    bench.wait_for_server_idle(proc.pid, args.idle_wait)
    return proc, base, log_path, env


def catalog(base: str) -> dict[str, list[str]]:
    """Slugs to read in the wide burst; checks the query finds something. Only run after the
    burst's server is started, never before a phase (it would warm the server)."""
    with httpx.Client(base_url=base, timeout=30) as client:
        for _ in range(20):
            page = client.get("/v1/articles?limit=100")
            if page.status_code == 200:
                return {"slugs": [a["slug"] for a in page.json()["data"]]}
            time.sleep(1.0)  # a 503 while the server settles: try again, bounded
    raise bench.BenchError(f"GET /v1/articles answered {page.status_code}: {page.text[:300]}")


def run_phase(
    args: argparse.Namespace,
    procs: bench.Processes,
    workdir: Path,
    db: bench.Database,
    phase: str,
    slugs: list[str],
) -> dict[str, Any]:
    workers = 1 if phase == "search" else 2
    count = args.search_burst if phase == "search" else args.wide_burst
    within = args.search_within if phase == "search" else args.wide_within
    proc, base, log_path, env = start_server(
        args, procs, workdir, db, workers=workers, name=f"masthead-{phase}"
    )
    search = f"/v1/search?q={quote(args.q)}"
    if phase == "search":
        requests = [("search", search)] * count
    else:
        rng = random.Random(args.seed)
        paths = {
            "search": lambda: search,
            "list": lambda: "/v1/articles",
            "slug": lambda: f"/v1/articles/{quote(rng.choice(slugs))}",
            "tags": lambda: "/v1/tags",
        }
        ops = rng.choices(list(paths), weights=[25, 25, 40, 10], k=count)
        requests = [(op, paths[op]()) for op in ops]
    bench.wait_for_quiet(args, proc.pid)
    receiver, sender = multiprocessing.Pipe(duplex=False)
    stop_probing = multiprocessing.Event()
    prober = None
    if phase == "wide":
        prober = multiprocessing.Process(
            target=probe_health, args=(base, stop_probing, sender), daemon=True
        )
        prober.start()
    log(f"{phase}: {count} simultaneous requests on {workers} worker(s)")
    answers = asyncio.run(burst(base, requests, args.timeout))
    first = min(a.start for a in answers)
    last = max(a.end for a in answers)
    result: dict[str, Any] = {
        "workers": workers,
        "target_s": within,
        "burst_seconds": round(last - first, 3),
        **summarise(answers, within),
    }
    if prober is not None:
        time.sleep(1.0)  # a second of probes after the last answer
        stop_probing.set()
        samples = receiver.recv() if receiver.poll(30) else []
        prober.join(10)
        # The probes from the first request sent to a second after the last answer.
        window = [s for s in samples if first <= s[0] <= last + 1.0]
        latencies = [s[1] * 1000 for s in window if s[1] is not None]
        slow = [
            {"at_ms": round((s[0] - first) * 1000, 1), "latency_ms": round(s[1] * 1000, 1)}
            for s in window
            if s[1] is not None and s[1] >= args.health_within
        ]
        result["healthz"] = {
            "probes": len(window),
            "failed": sum(1 for s in window if s[1] is None or s[2] != 200),
            "p50_ms": soak.percentile(latencies, 0.5),
            "p99_ms": soak.percentile(latencies, 0.99),
            "max_ms": max(latencies) if latencies else None,
            "over_target": len(slow),
            "over_target_at": slow[:20],
        }
    text = log_path.read_text(errors="replace")
    result["server_log"] = soak.log_summary(text)
    result["server_settings"] = {k: v for k, v in env.items() if k.startswith("MASTHEAD_")} | {
        "MASTHEAD_DATABASE_URL": db.kind
    }
    if proc.poll() is not None:
        raise bench.BenchError(f"the server exited during the burst:\n{bench.tail(log_path)}")
    procs.stop(proc)
    return result


def verdict(args: argparse.Namespace, phases: dict[str, dict[str, Any]]) -> list[str]:
    problems = []
    for name, r in phases.items():
        if r["not_acceptable_count"]:
            problems.append(f"{name}: {r['not_acceptable_count']} answers neither a success nor "
                            "a 503 with Retry-After")  # fmt: skip
        late = r["requests"] - r["answered_within_target"]
        if late:
            problems.append(f"{name}: {late} requests took {r['target_s']} s or more")
        health = r.get("healthz")
        if health and (health["failed"] or health["over_target"]):
            problems.append(
                f"{name}: /healthz failed {health['failed']} times and took "
                f"{args.health_within * 1000:.0f} ms or more {health['over_target']} times"
            )
    return problems


def print_summary(payload: dict[str, Any]) -> None:
    cfg = payload["setup"]
    print(
        f"\nMasthead burst: {cfg['database']}, {cfg['articles']:,} articles, q={cfg['q']!r}, "
        "response cache off"
    )
    for name, r in payload["phases"].items():
        print(
            f"  {name}: {r['requests']:,} simultaneous requests on {r['workers']} worker(s), "
            f"from the first sent to the last answered {r['burst_seconds']:.2f} s"
        )
        print("    statuses: " + ", ".join(f"{k}: {v:,}" for k, v in r["statuses"].items()))
        print(
            f"    latency: p50 {soak.ms(r['p50_ms'])}, p99 {soak.ms(r['p99_ms'])}, max "
            f"{soak.ms(r['max_ms'])}; within {r['target_s']} s: {r['answered_within_target']:,}"
            f" of {r['requests']:,}; neither success nor 503 + Retry-After: "
            f"{r['not_acceptable_count']}"
        )
        for op, o in r["by_op"].items():
            print(
                f"      {op:7} {o['requests']:>5,}  max {o['max_ms']:,.1f} ms  "
                + ", ".join(f"{k}: {v:,}" for k, v in o["statuses"].items())
            )
        health = r.get("healthz")
        if health:
            print(
                f"    /healthz every 20 ms during the burst: {health['probes']} probes, "
                f"{health['failed']} failed, p50 {soak.ms(health['p50_ms'])}, p99 "
                f"{soak.ms(health['p99_ms'])}, max {soak.ms(health['max_ms'])}; "
                f"{health['over_target']} at or over the target"
                + "".join(
                    f"\n      {x['latency_ms']:,.1f} ms, sent {x['at_ms']:,.1f} ms into the burst"
                    for x in health["over_target_at"][:5]
                )
            )
        server_log = r["server_log"]
        print(
            f"    server log: {server_log['lines']:,} lines, {server_log['tracebacks']} tracebacks"
        )
    problems = payload["problems"]
    print("  verdict: " + ("ok" if not problems else "FAIL: " + "; ".join(problems)))


def on_signal(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    started = datetime.now(UTC)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    procs = bench.Processes()
    workdir = Path(tempfile.mkdtemp(prefix="masthead-burst-"))
    cluster = None
    db = None
    try:
        if args.postgres and not args.pg_url:
            why = soak.Cluster.available()
            if why:
                raise bench.BenchError(f"no throw-away PostgreSQL cluster: {why} (or --pg-url)")
            cluster = soak.Cluster(args.pg_version)
            cluster.create()
            args.pg_url = cluster.server_url
        bundle = bench.bundle_path(args, args.articles)
        db = bench.create_database(args, workdir, args.articles)
        import_info = bench.import_bundle(args, db, bundle, workdir)
        # The slugs come from a server of their own, so no burst's server is warmed.
        proc, base, _log, _env = start_server(args, procs, workdir, db, workers=1, name="catalog")
        slugs = catalog(base)["slugs"]
        with httpx.Client(base_url=base, timeout=30) as client:
            found = client.get(f"/v1/search?q={quote(args.q)}&limit=1").json()["data"]
        procs.stop(proc)
        phases = {phase: run_phase(args, procs, workdir, db, phase, slugs) for phase in args.phases}
        payload: dict[str, Any] = {
            "kind": "burst",
            "started_at": started.isoformat(),
            "command": bench.portable_command(
                [sys.argv[0], *(sys.argv[1:] if argv is None else argv)]
            ),
            "git_commit": bench.git_commit(),
            "machine": bench.machine_info(),
            "setup": {
                "database": "postgresql (throw-away cluster)"
                if cluster
                else ("postgresql" if args.postgres else "sqlite"),
                "articles": args.articles,
                "words": args.words,
                "q": args.q,
                "q_matches": bool(found),
                "dataset": import_info,
            },
            "phases": phases,
        }
        payload["problems"] = verdict(args, phases)
        payload["finished_at"] = datetime.now(UTC).isoformat()
        print_summary(payload)
        args.output = args.output or RESULTS_DIR / f"burst-{stamp}.json"
        written = bench.write_results(args, payload, stamp)
        print(f"\nresults: {bench.portable(written)}")
        return 1 if payload["problems"] else 0
    except bench.BenchError as exc:
        log(f"error: {exc}")
        return 1
    finally:
        procs.stop_all()
        if db is not None and cluster is None:
            bench.drop_database(args, db)
        if cluster is not None and not args.keep_db:
            cluster.drop()
        if args.keep_db:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())

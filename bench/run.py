#!/usr/bin/env python3
"""Masthead load benchmark: Masthead's public reads against a bare-ASGI baseline, with wrk.

    .venv/bin/python bench/run.py                      # 10,000 articles, SQLite, 1 worker
    .venv/bin/python bench/run.py --articles 2000 --duration 3 --connections 2,8
    .venv/bin/python bench/run.py --postgres --workers 2
    .venv/bin/python bench/run.py --scale 1000,10000,100000

See bench/README.md for what is measured and how to read the numbers. Only the standard
library and httpx are needed (rich, when installed, draws the tables). Everything listens on
127.0.0.1, every step has a time limit, and every process started here is stopped on exit.
"""

import argparse
import contextlib
import hashlib
import json
import os
import platform
import re
import resource
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DATASET_SCRIPT = HERE / "make_dataset.py"
CACHE_DIR = HERE / ".cache"
RESULTS_DIR = HERE / "results"
HOST = "127.0.0.1"
CLK_TCK = os.sysconf("SC_CLK_TCK")
# Endpoints timed at every size by --scale.
SCALE_ENDPOINTS = ("list", "deep", "tag", "slug", "search")

WRK_LUA = r"""
-- Written by bench/run.py: wrk's own measurements as one parseable line.
-- Latencies are in microseconds.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "MASTHEAD_BENCH {\"requests\":%.0f,\"duration_us\":%.0f,\"bytes\":%.0f," ..
    "\"p50_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f,\"mean_us\":%.1f," ..
    "\"connect\":%.0f,\"read\":%.0f,\"write\":%.0f,\"status\":%.0f,\"timeout\":%.0f}\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


class BenchError(Exception):
    """A step failed; the message says which and why."""


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def csv_ints(text: str) -> list[int]:
    try:
        values = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from None
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def csv_words(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Benchmark Masthead's public reads against a bare ASGI baseline with wrk.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--articles", type=int, default=10_000, help="Articles in the dataset.")
    p.add_argument("--words", type=int, default=800, help="Approximate words per article body.")
    p.add_argument(
        "--dataset-script", type=Path, default=DATASET_SCRIPT, help="make_dataset.py to run."
    )
    p.add_argument("--postgres", action="store_true", help="Use a fresh PostgreSQL database.")
    p.add_argument(
        "--pg-url",
        default=f"postgresql://postgres@{HOST}:5432",
        help="PostgreSQL server (no database name) where bench databases are created.",
    )
    p.add_argument("--keep-db", action="store_true", help="Keep the database and temp dir.")
    p.add_argument("--workers", type=int, default=1, help="Server worker processes (both apps).")
    p.add_argument(
        "--connections", type=csv_ints, default=[2, 8, 32], help="wrk connection counts."
    )
    p.add_argument("--duration", type=int, default=10, help="Seconds per wrk run.")
    p.add_argument("--threads", type=int, default=2, help="wrk threads (capped at connections).")
    p.add_argument("--wrk-timeout", type=int, default=5, help="wrk per-request timeout, s.")
    p.add_argument(
        "--phases",
        type=csv_words,
        default=["cold", "hot"],
        help="cold = MASTHEAD_RESPONSE_CACHE=false, hot = true.",
    )
    p.add_argument(
        "--only",
        type=csv_words,
        default=None,
        help="Run only these endpoint keys: "
        "list,deep,tag,slug,tags,tags100,search,revalidate,feed.",
    )
    p.add_argument("--slug", default="article-123", help="Article to fetch (or the next one).")
    p.add_argument("--tag", default="tag-1", help="Tag used by the filtered list.")
    p.add_argument("--search-q", default="karimo", help="Search query for /v1/search.")
    p.add_argument(
        "--deep", type=int, default=9_000, help="Items passed before the deep page (max 90%%)."
    )
    p.add_argument(
        "--log-level", default="warning", help="Server log level (both apps; info logs access)."
    )
    p.add_argument(
        "--idle-wait",
        type=float,
        default=600.0,
        help="After starting Masthead, wait up to this many seconds for its background work "
        "(e.g. webhook dispatch after an import) to finish before measuring.",
    )
    p.add_argument(
        "--quiet-wait",
        type=float,
        default=30.0,
        help="Before each run, wait up to this many seconds for other programs to go quiet.",
    )
    p.add_argument(
        "--quiet-threshold",
        type=float,
        default=0.10,
        help="'Quiet' = other programs use less than this share of all CPUs (0 to 1).",
    )
    p.add_argument("--startup-timeout", type=float, default=120.0, help="Seconds to /readyz.")
    p.add_argument("--import-timeout", type=float, default=3600.0, help="Seconds per import.")
    p.add_argument(
        "--scale",
        type=csv_ints,
        default=None,
        help="Instead of the full matrix: time list/deep/tag/slug/search at each dataset size.",
    )
    p.add_argument("--scale-connections", type=int, default=32, help="Connections used by --scale.")
    p.add_argument("--output", type=Path, default=None, help="Results JSON path.")
    args = p.parse_args(argv)
    for phase in args.phases:
        if phase not in ("cold", "hot"):
            p.error(f"unknown phase {phase!r} (cold, hot)")
    if args.articles < 10:
        p.error("--articles must be at least 10")
    if args.duration < 1:
        p.error("--duration must be at least 1")
    return args


# ---------------------------------------------------------------- processes


class Processes:
    """Every long-lived child (servers), each in its own process group, stopped on exit."""

    def __init__(self) -> None:
        self.live: list[subprocess.Popen[bytes]] = []

    def start(self, cmd: list[str], *, env: dict[str, str], cwd: Path, log_path: Path) -> Any:
        with open(log_path, "ab") as out:
            proc = subprocess.Popen(
                cmd,
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.live.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes], grace: float = 10.0) -> None:
        if proc in self.live:
            self.live.remove(proc)
        kill_group(proc, grace)

    def stop_all(self) -> None:
        while self.live:
            self.stop(self.live[-1])


def kill_group(proc: subprocess.Popen[Any], grace: float = 10.0) -> None:
    """SIGTERM the child's process group, then SIGKILL whatever is left after `grace`."""
    try:
        pgid = os.getpgid(proc.pid)
    except ProcessLookupError:
        pgid = None
    if pgid is not None and pgid != os.getpgid(0):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
    elif proc.poll() is None:
        proc.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)
    if pgid is not None and pgid != os.getpgid(0):
        # Workers can outlive their parent briefly; the group is killed either way.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


def run_bounded(
    cmd: list[str], *, timeout: float, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run to completion in its own process group; kill the whole group on timeout."""
    proc = subprocess.Popen(
        cmd,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc, grace=2)
        raise BenchError(f"timed out after {timeout:.0f}s: {shlex.join(cmd)}") from None
    except BaseException:
        kill_group(proc, grace=2)
        raise
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def wait_ready(proc: subprocess.Popen[bytes], url: str, timeout: float, log_path: Path) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    with httpx.Client(timeout=5) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise BenchError(
                    f"server exited with {proc.returncode} before {url} answered:\n"
                    + tail(log_path)
                )
            try:
                response = client.get(url)
                if response.status_code == 200:
                    return
                last = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                last = type(exc).__name__
            time.sleep(0.2)
    raise BenchError(f"{url} not ready after {timeout:.0f}s ({last}):\n" + tail(log_path))


# ---------------------------------------------------------------- CPU accounting


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Fields after "(comm)": state is field 3, so index i here is field i + 3.
    return raw[raw.rindex(")") + 2 :].split()


def process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = _stat_fields(int(entry))
        if fields:
            children.setdefault(int(fields[1]), []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def cpu_ticks(root: int) -> dict[int, int]:
    """utime + stime (clock ticks) of `root` and every live descendant (the workers)."""
    ticks = {}
    for pid in process_tree(root):
        fields = _stat_fields(pid)
        if fields:
            ticks[pid] = int(fields[11]) + int(fields[12])
    return ticks


def rss_mb(root: int) -> float:
    """The largest resident set (VmRSS) among `root` and its descendants, in MB: with
    `--workers N` the workers are the descendants, so this is the RSS per worker."""
    largest = 0
    for pid in process_tree(root):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                largest = max(largest, int(line.split()[1]))
    return largest / 1024


def machine_busy_seconds() -> float:
    """CPU time spent by everything on the machine (all CPUs), from /proc/stat."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def wait_for_quiet(args: argparse.Namespace, server_pid: int) -> float:
    """Wait (bounded by --quiet-wait) until programs other than this one, its server and wrk
    use under --quiet-threshold of the machine's CPUs, sampled over one second."""
    if args.quiet_wait <= 0:
        return 0.0
    deadline = time.monotonic() + args.quiet_wait
    started = time.monotonic()
    while True:
        own_before = sum(cpu_ticks(server_pid).values()) / CLK_TCK + sum(os.times()[:2])
        busy_before = machine_busy_seconds()
        time.sleep(1.0)
        own_after = sum(cpu_ticks(server_pid).values()) / CLK_TCK + sum(os.times()[:2])
        busy_after = machine_busy_seconds()
        other = (busy_after - busy_before) - (own_after - own_before)
        share = max(0.0, other) / (os.cpu_count() or 1)
        if share < args.quiet_threshold:
            waited = time.monotonic() - started
            if waited > 1.5:
                log(f"machine quiet after {waited:.0f}s (other programs {share:.0%})")
            return share
        if time.monotonic() >= deadline:
            log(f"machine still busy after {args.quiet_wait:.0f}s (other programs {share:.0%})")
            return share
        time.sleep(1.0)


def cpu_seconds_between(before: dict[int, int], after: dict[int, int]) -> float:
    return sum(t - before.get(pid, 0) for pid, t in after.items()) / CLK_TCK


# ---------------------------------------------------------------- wrk


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    apt = shutil.which("apt-get")
    if not apt:
        raise BenchError("wrk is not installed and apt-get is not available: install wrk")
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    log("wrk not found: apt-get install -y wrk")
    result = run_bounded(sudo + [apt, "install", "-y", "wrk"], timeout=600, env=env)
    if result.returncode != 0:
        log("install failed: apt-get update, then install again")
        run_bounded(sudo + [apt, "update"], timeout=600, env=env)
        result = run_bounded(sudo + [apt, "install", "-y", "wrk"], timeout=600, env=env)
    found = shutil.which("wrk")
    if not found:
        raise BenchError("could not install wrk:\n" + result.stdout[-2000:] + result.stderr[-2000:])
    return found


def wrk_version(wrk: str) -> str:
    result = run_bounded([wrk, "--version"], timeout=10)
    text = (result.stdout + result.stderr).strip().splitlines()
    return text[0] if text else "unknown"


@dataclass
class Run:
    """One wrk run against one URL."""

    target: str  # "baseline" or an endpoint key
    label: str
    phase: str
    connections: int
    duration_s: float
    requests: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    non_2xx_3xx: int
    socket_errors: dict[str, int]
    server_cpu_s: float
    cpu_ms_per_req: float | None
    client_cpu_s: float
    other_cpu_share: float
    bytes_per_response: float
    dataset_articles: int | None = None
    ratio_to_baseline: float | None = None
    # Baseline CPU-ms/req over this run's: the req/s ratio expected if both were CPU-bound on
    # one core; steadier than the req/s ratio when other programs share the machine.
    cpu_ratio_to_baseline: float | None = None


def run_wrk(
    wrk: str,
    lua: Path,
    url: str,
    *,
    connections: int,
    threads: int,
    duration: int,
    wrk_timeout: int,
    headers: dict[str, str],
    server_pid: int,
) -> dict[str, Any]:
    cmd = [
        wrk,
        f"-t{max(1, min(threads, connections))}",
        f"-c{connections}",
        f"-d{duration}s",
        f"--timeout={wrk_timeout}s",
        "-s",
        str(lua),
    ]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    cmd.append(url)
    usage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_before = machine_busy_seconds()
    cpu_before = cpu_ticks(server_pid)
    result = run_bounded(cmd, timeout=duration + wrk_timeout + 30)
    cpu_after = cpu_ticks(server_pid)
    busy_after = machine_busy_seconds()
    usage_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    output = result.stdout
    if result.returncode != 0:
        raise BenchError(f"wrk failed ({result.returncode}): {result.stderr.strip()}\n{output}")
    match = re.search(r"^MASTHEAD_BENCH (\{.*\})$", output, re.MULTILINE)
    if not match:
        raise BenchError(f"no summary line in wrk output:\n{output}\n{result.stderr}")
    summary = json.loads(match.group(1))
    # Cross-check with wrk's own text: req/s and the error lines.
    text_rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    socket_errors = dict(
        zip(
            ("connect", "read", "write", "timeout"),
            [int(g) for g in sockets.groups()]
            if sockets
            else [int(summary[k]) for k in ("connect", "read", "write", "timeout")],
            strict=True,
        )
    )
    requests = int(summary["requests"])
    seconds = summary["duration_us"] / 1e6
    server_cpu = cpu_seconds_between(cpu_before, cpu_after)
    client_cpu = (usage_after.ru_utime - usage_before.ru_utime) + (
        usage_after.ru_stime - usage_before.ru_stime
    )
    # CPU used by neither the server nor wrk (other programs; with --postgres, the database),
    # as a share of the machine's capacity during the run.
    other_cpu = max(0.0, (busy_after - busy_before) - server_cpu - client_cpu)
    other_share = other_cpu / (seconds * (os.cpu_count() or 1)) if seconds else 0.0
    status_errors = int(non_2xx.group(1)) if non_2xx else int(summary["status"])
    return {
        "duration_s": round(seconds, 3),
        "requests": requests,
        "rps": float(text_rps.group(1)) if text_rps else requests / seconds,
        "p50_ms": summary["p50_us"] / 1000,
        "p90_ms": summary["p90_us"] / 1000,
        "p99_ms": summary["p99_us"] / 1000,
        "max_ms": summary["max_us"] / 1000,
        "errors": status_errors + sum(socket_errors.values()),
        "non_2xx_3xx": status_errors,
        "socket_errors": socket_errors,
        "server_cpu_s": round(server_cpu, 3),
        "cpu_ms_per_req": server_cpu * 1000 / requests if requests else None,
        "client_cpu_s": round(client_cpu, 3),
        "other_cpu_share": round(other_share, 3),
        "bytes_per_response": summary["bytes"] / requests if requests else 0.0,
    }


# ---------------------------------------------------------------- dataset and database


def bundle_path(args: argparse.Namespace, articles: int) -> Path:
    script = args.dataset_script.resolve()
    if not script.is_file():
        raise BenchError(f"dataset script not found: {script} (use --dataset-script)")
    digest = hashlib.sha256(script.read_bytes()).hexdigest()[:12]
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    path = CACHE_DIR / f"bundle-a{articles}-w{args.words}-{digest}.json"
    if path.exists():
        log(f"dataset: cached {path.relative_to(REPO)}")
        return path
    log(f"dataset: generating {articles} articles of ~{args.words} words")
    started = time.perf_counter()
    partial = path.with_suffix(".partial")
    with open(partial, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, str(script), "--articles", str(articles), "--words", str(args.words)],
            stdout=out,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            _, err = proc.communicate(timeout=max(600, articles / 50))
        except BaseException:
            kill_group(proc, grace=2)
            partial.unlink(missing_ok=True)
            raise
    if proc.returncode != 0:
        partial.unlink(missing_ok=True)
        raise BenchError(f"make_dataset.py failed: {err.decode(errors='replace')[-2000:]}")
    partial.rename(path)
    log(f"dataset: {path.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - started:.1f}s")
    return path


@dataclass
class Database:
    url: str  # SQLAlchemy URL given to Masthead
    kind: str
    pg_name: str | None = None


def create_database(args: argparse.Namespace, workdir: Path, articles: int) -> Database:
    if not args.postgres:
        return Database(f"sqlite:///{workdir / f'bench-{articles}.db'}", "sqlite")
    import psycopg

    name = f"masthead_bench_{os.getpid()}_{articles}_{int(time.time())}"
    host = urlsplit(args.pg_url).hostname
    if host not in (HOST, "localhost"):
        raise BenchError(f"--pg-url must point at 127.0.0.1, not {host}")
    with psycopg.connect(args.pg_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = args.pg_url.replace("postgresql://", "postgresql+psycopg://", 1).rstrip("/")
    return Database(f"{base}/{name}", "postgresql", name)


def drop_database(args: argparse.Namespace, db: Database) -> None:
    if db.pg_name is None or args.keep_db:
        return
    import psycopg

    try:
        with psycopg.connect(args.pg_url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db.pg_name}" WITH (FORCE)')
    except Exception as exc:  # cleanup must not hide the real outcome
        log(f"could not drop database {db.pg_name}: {exc}")


def vacuum_analyze(args: argparse.Namespace, db: Database) -> float | None:
    """PostgreSQL: settle the fresh tables (statistics, visibility map) before measuring, so
    autovacuum does not start in the middle of a run. Timed apart from the import."""
    if db.pg_name is None:
        return None
    import psycopg

    url = args.pg_url.rstrip("/") + "/" + db.pg_name
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        conn.execute("VACUUM (ANALYZE)")
    seconds = round(time.perf_counter() - started, 3)
    log(f"postgres: VACUUM (ANALYZE) after the import took {seconds:.2f}s")
    return seconds


def masthead_bin() -> str:
    local = Path(sys.executable).parent / "masthead"
    if local.exists():
        return str(local)
    found = shutil.which("masthead")
    if not found:
        raise BenchError("the masthead command is not installed (run make in the repo)")
    return found


def server_env(db: Database, args: argparse.Namespace, cache: bool | None = None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("MASTHEAD_")}
    env.update(
        MASTHEAD_DATABASE_URL=db.url,
        MASTHEAD_LOG_LEVEL=args.log_level,
        MASTHEAD_ENVIRONMENT="development",
        PYTHONUNBUFFERED="1",
    )
    if cache is not None:
        env["MASTHEAD_RESPONSE_CACHE"] = "true" if cache else "false"
    return env


def import_bundle(
    args: argparse.Namespace, db: Database, bundle: Path, workdir: Path
) -> dict[str, Any]:
    env = server_env(db, args)
    cli = masthead_bin()
    started = time.perf_counter()
    result = run_bounded([cli, "db", "upgrade"], timeout=300, env=env, cwd=workdir)
    migrate_s = time.perf_counter() - started
    if result.returncode != 0:
        raise BenchError(f"masthead db upgrade failed:\n{result.stdout}{result.stderr}")
    log(f"import: {bundle.name} into {db.kind}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = run_bounded(
        [cli, "import", str(bundle)], timeout=args.import_timeout, env=env, cwd=workdir
    )
    import_s = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    import_cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    if result.returncode != 0:
        raise BenchError(f"masthead import failed:\n{result.stdout}{result.stderr}")
    try:
        report = json.loads(result.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        report = {"output": result.stdout[-2000:]}
    log(f"import: {import_s:.2f}s, {import_cpu:.2f}s CPU (migrations before it: {migrate_s:.2f}s)")
    vacuum_s = vacuum_analyze(args, db)
    return {
        "import_seconds": round(import_s, 3),
        "import_cpu_seconds": round(import_cpu, 3),
        "migrate_seconds": round(migrate_s, 3),
        "vacuum_analyze_seconds": vacuum_s,
        "bundle": portable(bundle),
        "bundle_bytes": bundle.stat().st_size,
        "report": report,
    }


# ---------------------------------------------------------------- servers


@dataclass
class Server:
    name: str
    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"


def start_masthead(
    procs: Processes, args: argparse.Namespace, db: Database, workdir: Path, *, cache: bool
) -> Server:
    port = free_port()
    name = f"masthead-{'hot' if cache else 'cold'}"
    log_path = workdir / f"{name}-{port}.log"
    cmd = [masthead_bin(), "serve", "--host", HOST, "--port", str(port)]
    cmd += ["--workers", str(args.workers), "--no-demo"]
    proc = procs.start(cmd, env=server_env(db, args, cache), cwd=workdir, log_path=log_path)
    server = Server(name, proc, port, log_path)
    log(f"{name}: pid {proc.pid} on {server.base} ({args.workers} worker(s))")
    wait_ready(proc, server.base + "/readyz", args.startup_timeout, log_path)
    return server


def start_baseline(procs: Processes, args: argparse.Namespace, workdir: Path) -> Server:
    port = free_port()
    log_path = workdir / f"baseline-{port}.log"
    cmd = [sys.executable, "-m", "uvicorn", "baseline:app", "--app-dir", str(HERE)]
    cmd += ["--host", HOST, "--port", str(port), "--workers", str(args.workers)]
    cmd += ["--log-level", args.log_level]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = procs.start(cmd, env=env, cwd=workdir, log_path=log_path)
    server = Server("baseline", proc, port, log_path)
    log(f"baseline: pid {proc.pid} on {server.base} ({args.workers} worker(s))")
    wait_ready(proc, server.base + "/", args.startup_timeout, log_path)
    return server


# ---------------------------------------------------------------- endpoints


@dataclass
class Endpoint:
    key: str
    label: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    expect: int = 200
    note: str = ""
    body_bytes: int = 0


def deep_cursor(client: httpx.Client, depth: int) -> tuple[str | None, int]:
    """Walk /v1/articles 100 at a time; the cursor once `depth` items have been passed."""
    passed, cursor = 0, None
    while passed < depth:
        params: dict[str, Any] = {"limit": min(100, depth - passed)}
        if cursor:
            params["cursor"] = cursor
        response = client.get("/v1/articles", params=params)
        response.raise_for_status()
        body = response.json()
        passed += len(body.get("data", []))
        cursor = (body.get("meta") or {}).get("next_cursor")
        if not cursor:
            return None, passed
    return cursor, passed


def discover(
    base: str, args: argparse.Namespace, articles: int, keys: tuple[str, ...] | None = None
) -> tuple[list[Endpoint], list[dict[str, str]]]:
    """Build the endpoint list against a running server; skip what is absent (404)."""
    wanted = set(keys or args.only or ())
    use = (lambda key: key in wanted) if wanted else (lambda key: True)
    endpoints: list[Endpoint] = []
    skipped: list[dict[str, str]] = []

    def skip(key: str, path: str, why: str) -> None:
        skipped.append({"endpoint": key, "path": path, "reason": why})
        log(f"skipping {key} ({path}): {why}")

    with httpx.Client(base_url=base, timeout=60) as client:
        first = client.get("/v1/articles")
        if first.status_code != 200:
            raise BenchError(f"GET /v1/articles answered {first.status_code}: {first.text[:500]}")
        if use("list"):
            endpoints.append(Endpoint("list", "/v1/articles", "/v1/articles"))
        if use("deep"):
            depth = min(args.deep, int(articles * 0.9))
            cursor, passed = deep_cursor(client, depth)
            if cursor:
                endpoints.append(
                    Endpoint(
                        "deep",
                        f"/v1/articles deep ({passed})",
                        f"/v1/articles?cursor={quote(cursor, safe='')}",
                        note=f"cursor after {passed} items",
                    )
                )
            else:
                skip("deep", "/v1/articles?cursor=", f"list ended after {passed} items")
        if use("tag"):
            path = f"/v1/articles?tag={quote(args.tag)}"
            endpoints.append(Endpoint("tag", path, path))
        if use("slug"):
            chosen = None
            start = int(re.sub(r"\D", "", args.slug) or 0)
            prefix = re.sub(r"\d+$", "", args.slug)
            for i in range(start, start + 50):
                status = client.get(f"/v1/articles/{prefix}{i}").status_code
                if status == 200:
                    chosen = f"{prefix}{i}"
                    break
            if chosen:
                path = f"/v1/articles/{chosen}"
                endpoints.append(Endpoint("slug", "/v1/articles/{slug}", path, note=chosen))
            else:
                skip("slug", f"/v1/articles/{args.slug}", "no published article found near it")
        if use("tags"):
            endpoints.append(Endpoint("tags", "/v1/tags", "/v1/tags"))
        if use("tags100"):
            # A page of 100 tags with their article counts (issue 18: counts are stored).
            path = "/v1/tags?limit=100"
            endpoints.append(Endpoint("tags100", path, path))
        if use("search"):
            path = f"/v1/search?q={quote(args.search_q)}"
            endpoints.append(Endpoint("search", f"/v1/search?q={args.search_q}", path))
        if use("revalidate"):
            etag = first.headers.get("etag")
            if etag:
                endpoints.append(
                    Endpoint(
                        "revalidate",
                        "/v1/articles 304",
                        "/v1/articles",
                        headers={"If-None-Match": etag},
                        expect=304,
                    )
                )
            else:
                skip("revalidate", "/v1/articles", "no ETag header")
        if use("feed"):
            endpoints.append(Endpoint("feed", "/feeds/rss.xml", "/feeds/rss.xml"))

        kept = []
        for endpoint in endpoints:
            response = client.get(endpoint.path, headers=endpoint.headers)
            if response.status_code == 404 and endpoint.expect != 404:
                skip(endpoint.key, endpoint.path, "404 at startup (not implemented yet?)")
                continue
            if response.status_code != endpoint.expect:
                skip(
                    endpoint.key,
                    endpoint.path,
                    f"answered {response.status_code}, expected {endpoint.expect}: "
                    f"{response.text[:300]}",
                )
                continue
            endpoint.body_bytes = len(response.content)
            if endpoint.key == "search":
                hits = len(response.json().get("data", []))
                endpoint.note = f"{hits} hits on the first page"
                if not hits:
                    log(f"warning: search for {args.search_q!r} found nothing")
            if endpoint.key in ("list", "tag"):
                endpoint.note = f"{len(response.json().get('data', []))} items"
            kept.append(endpoint)
    return kept, skipped


def warm_up(base: str, endpoints: list[Endpoint], rounds: int = 20) -> None:
    with httpx.Client(base_url=base, timeout=60) as client:
        for endpoint in endpoints:
            for _ in range(rounds):
                client.get(endpoint.path, headers=endpoint.headers)


def wait_for_server_idle(pid: int, timeout: float, threshold: float = 0.05) -> float:
    """Wait (at most `timeout` s) until the server's own processes use under `threshold` of
    one CPU over a second: after an import, its background workers (webhook dispatch over the
    new change log) run for a while, and the runs should measure requests, not that.
    Returns the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        before = cpu_ticks(pid)
        time.sleep(1.0)
        busy = cpu_seconds_between(before, cpu_ticks(pid))
        if busy < threshold:
            waited = time.monotonic() - started
            if waited > 1.5:
                log(f"server idle after {waited:.0f}s of background work")
            return waited
    log(f"server still busy after {timeout:.0f}s: figures include background work")
    return time.monotonic() - started


def cache_stats(base: str) -> dict[str, float] | None:
    """Response-cache hits and misses from /metrics (one worker's view), when exported."""
    try:
        text = httpx.get(base + "/metrics", timeout=10).text
    except httpx.HTTPError:
        return None
    stats = {}
    for line in text.splitlines():
        for name in ("hits", "misses"):
            if line.startswith(f"masthead_response_cache_{name} "):
                stats[name] = float(line.split()[1])
    return stats or None


def response_cache_setting() -> bool | None:
    """Does this Masthead know MASTHEAD_RESPONSE_CACHE? (None when it cannot be told.)"""
    try:
        sys.path.insert(0, str(REPO))
        from api.core.settings import Settings
    except Exception:
        return None
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(str(REPO))
    return "response_cache" in Settings.model_fields


# ---------------------------------------------------------------- machine info


def machine_info() -> dict[str, Any]:
    cpu_model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    mem_total = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_total = int(line.split()[1]) * 1024
    return {
        "nproc": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "cpu_model": cpu_model,
        "mem_total_bytes": mem_total,
        "python": platform.python_version(),
        "interpreter": f"{platform.python_implementation()} {platform.python_version()}",
        "kernel": platform.release(),
        "platform": platform.platform(),
        "loadavg_at_start": os.getloadavg(),
    }


# ---------------------------------------------------------------- output


def fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def print_table(title: str, columns: list[str], sections: list[list[list[str]]]) -> None:
    """A rich table when rich is installed, aligned plain text otherwise."""
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        rows = [row for section in sections for row in section]
        widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
        print(f"\n{title}")
        print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
        for section in sections:
            print("  ".join("-" * w for w in widths))
            for row in section:
                print("  ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)))
        return
    table = Table(title=title, title_justify="left")
    for i, column in enumerate(columns):
        table.add_column(column, justify="left" if i == 0 else "right", no_wrap=i == 0)
    for section in sections:
        for row in section:
            table.add_row(*row)
        table.add_section()
    Console(width=max(180, shutil.get_terminal_size().columns)).print(table)


def results_table(baseline: list[Run], runs: list[Run]) -> None:
    columns = ["endpoint", "phase", "conns", "req/s", "p50 ms", "p99 ms", "errors"]
    columns += ["CPU-ms/req", "x baseline", "x base CPU", "bytes", "other CPU"]

    def row(r: Run) -> list[str]:
        return [
            r.label,
            r.phase,
            str(r.connections),
            fmt(r.rps, 0),
            fmt(r.p50_ms, 2),
            fmt(r.p99_ms, 2),
            str(r.errors),
            fmt(r.cpu_ms_per_req, 3),
            pct(r.ratio_to_baseline),
            pct(r.cpu_ratio_to_baseline),
            fmt(r.bytes_per_response, 0),
            pct(r.other_cpu_share),
        ]

    sections = [[row(r) for r in baseline]]
    order: dict[str, list[Run]] = {}
    for r in runs:
        order.setdefault(r.target, []).append(r)
    sections += [[row(r) for r in group] for group in order.values()]
    print_table(
        "Masthead vs bare ASGI baseline (x baseline = req/s ratio; x base CPU = CPU-ms/req ratio)",
        columns,
        sections,
    )


def find(runs: list[Run], target: str, phase: str, connections: int) -> Run | None:
    for r in runs:
        if r.target == target and r.phase == phase and r.connections == connections:
            return r
    return None


def evaluate_targets(
    runs: list[Run], connections: list[int], import_info: dict[str, Any], articles: int
) -> list[dict[str, Any]]:
    """The project's performance targets, checked against what was measured."""
    checks: list[dict[str, Any]] = []

    def add(name: str, c: int | None, measured: str, ok: bool | None) -> None:
        checks.append({"target": name, "connections": c, "measured": measured, "pass": ok})

    for c in connections:
        r = find(runs, "list", "cold", c)
        if r and r.ratio_to_baseline is not None:
            add(
                "cold /v1/articles >= 5% of baseline, p99 < 50 ms",
                c,
                f"{pct(r.ratio_to_baseline)} (by CPU {pct(r.cpu_ratio_to_baseline)}), "
                f"p99 {r.p99_ms:.1f} ms",
                r.ratio_to_baseline >= 0.05 and r.p99_ms < 50 and r.errors == 0,
            )
    for c in connections:
        r = find(runs, "slug", "cold", c)
        if r and r.ratio_to_baseline is not None:
            add(
                "cold /v1/articles/{slug} >= 8% of baseline",
                c,
                f"{pct(r.ratio_to_baseline)} (by CPU {pct(r.cpu_ratio_to_baseline)})",
                r.ratio_to_baseline >= 0.08 and r.errors == 0,
            )
    for key, label in (("list", "/v1/articles"), ("slug", "/v1/articles/{slug}")):
        for c in connections:
            r = find(runs, key, "hot", c)
            if r and r.ratio_to_baseline is not None:
                add(
                    f"hot {label} >= 40% of baseline",
                    c,
                    f"{pct(r.ratio_to_baseline)} (by CPU {pct(r.cpu_ratio_to_baseline)})",
                    r.ratio_to_baseline >= 0.40 and r.errors == 0,
                )
    for key, label, limit in (
        ("deep", "deep page", 1.2),
        ("tags", "/v1/tags", 2.0),
        ("tags100", "/v1/tags?limit=100", 1.0),
    ):
        for c in connections:
            r, first = find(runs, key, "cold", c), find(runs, "list", "cold", c)
            if r and first and r.cpu_ms_per_req and first.cpu_ms_per_req:
                cost = r.cpu_ms_per_req / first.cpu_ms_per_req
                p50 = r.p50_ms / first.p50_ms if first.p50_ms else float("nan")
                add(
                    f"cold {label} <= {limit}x first-page cost (CPU-ms/req)",
                    c,
                    f"{cost:.2f}x CPU, {p50:.2f}x p50",
                    cost <= limit,
                )
    seconds = import_info.get("import_seconds")
    if seconds is not None:
        if articles == 10_000:
            add("import 10,000 articles < 15 s", None, f"{seconds:.2f} s", seconds < 15)
        else:
            add(
                "import 10,000 articles < 15 s",
                None,
                f"{seconds:.2f} s for {articles} (not 10,000: not judged)",
                None,
            )
    return checks


def targets_table(checks: list[dict[str, Any]]) -> None:
    verdict = {True: "PASS", False: "FAIL", None: "n/a"}
    rows = [
        [c["target"], "-" if c["connections"] is None else str(c["connections"]), c["measured"]]
        + [verdict[c["pass"]]]
        for c in checks
    ]
    print_table("Targets", ["target", "conns", "measured", "verdict"], [rows])


def portable(path: Path | str) -> str:
    """A path as a record keeps it: relative to the repository, else the bare file name.

    Records are committed and compared across machines, so none holds an absolute path.
    """
    full = Path(path).expanduser().resolve()
    with contextlib.suppress(ValueError):
        return full.relative_to(REPO).as_posix()
    return full.name


def portable_command(argv: list[str]) -> str:
    """The command line as run from the repository root, e.g. `python bench/run.py --scale 1000`:
    the interpreter is just `python`, the script and any absolute path argument go through
    `portable`, and relative arguments stay as typed."""
    script, *rest = argv
    words = ["python", portable(script)]
    for arg in rest:
        name, eq, value = arg.partition("=")
        if arg.startswith(("/", "~")):
            words.append(portable(arg))
        elif eq and name.startswith("--") and value.startswith(("/", "~")):
            words.append(f"{name}={portable(value)}")
        else:
            words.append(arg)
    return shlex.join(words)


def write_results(args: argparse.Namespace, payload: dict[str, Any], stamp: str) -> Path:
    path = args.output or RESULTS_DIR / f"{stamp}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    partial.rename(path)
    return path


# ---------------------------------------------------------------- the runs


def make_run(target: str, label: str, phase: str, c: int, data: dict[str, Any]) -> Run:
    return Run(target=target, label=label, phase=phase, connections=c, **data)


def measure(ctx: dict[str, Any], server: Server, endpoint: Endpoint, phase: str, c: int) -> Run:
    args = ctx["args"]
    wait_for_quiet(args, server.proc.pid)
    data = run_wrk(
        ctx["wrk"],
        ctx["lua"],
        server.base + endpoint.path,
        connections=c,
        threads=args.threads,
        duration=args.duration,
        wrk_timeout=args.wrk_timeout,
        headers=endpoint.headers,
        server_pid=server.proc.pid,
    )
    if server.proc.poll() is not None:
        raise BenchError(f"{server.name} died during the run:\n" + tail(server.log_path))
    r = make_run(endpoint.key, endpoint.label, phase, c, data)
    log(
        f"{server.name:16} {endpoint.label[:34]:34} c={c:<3} {r.rps:9.0f} req/s "
        f"p50 {r.p50_ms:7.2f} p99 {r.p99_ms:7.2f} ms err {r.errors} "
        f"cpu {fmt(r.cpu_ms_per_req, 3)} ms/req, other {pct(r.other_cpu_share)}"
    )
    if r.errors:
        log(f"  errors: {r.non_2xx_3xx} non-2xx/3xx, sockets {r.socket_errors}")
    return r


def run_baseline(ctx: dict[str, Any], connections: list[int], when: str) -> list[Run]:
    """The bare ASGI app at each connection count; run `before` and `after` Masthead."""
    server = start_baseline(ctx["procs"], ctx["args"], ctx["workdir"])
    try:
        endpoint = Endpoint("baseline", "baseline (bare ASGI)", "/")
        warm_up(server.base, [endpoint])
        return [measure(ctx, server, endpoint, when, c) for c in connections]
    finally:
        ctx["procs"].stop(server.proc)


def baseline_rps(baseline: list[Run], connections: int) -> float | None:
    """The mean of the baseline runs (before and after) at this connection count."""
    values = [r.rps for r in baseline if r.connections == connections and r.rps]
    return sum(values) / len(values) if values else None


def apply_baseline(baseline: list[Run], runs: list[Run], postgres: bool) -> list[str]:
    """Fill in each run's ratio; return warnings about an unsteady machine."""
    warnings = []
    for r in runs:
        base = baseline_rps(baseline, r.connections)
        if base:
            r.ratio_to_baseline = r.rps / base
        costs = [
            b.cpu_ms_per_req
            for b in baseline
            if b.connections == r.connections and b.cpu_ms_per_req
        ]
        if costs and r.cpu_ms_per_req:
            r.cpu_ratio_to_baseline = (sum(costs) / len(costs)) / r.cpu_ms_per_req
    for c in sorted({r.connections for r in baseline}):
        values = [r.rps for r in baseline if r.connections == c]
        if len(values) > 1 and min(values) < 0.85 * max(values):
            warnings.append(
                f"the baseline moved between before and after at {c} connections "
                f"({', '.join(f'{v:,.0f}' for v in values)} req/s): ratios are less certain"
            )
    busy = [r for r in baseline + runs if r.other_cpu_share > 0.15]
    if busy:
        worst = max(r.other_cpu_share for r in busy)
        warnings.append(
            f"{len(busy)} of {len(baseline) + len(runs)} runs shared the machine with other "
            f"work using over 15% of its CPU (worst {pct(worst)}; column 'other CPU'"
            + (", which includes PostgreSQL itself" if postgres else "")
            + "): their numbers are pessimistic"
        )
    return warnings


def run_matrix(ctx: dict[str, Any]) -> dict[str, Any]:
    args: argparse.Namespace = ctx["args"]
    workdir: Path = ctx["workdir"]
    bundle = bundle_path(args, args.articles)
    db = create_database(args, workdir, args.articles)
    ctx["databases"].append(db)
    import_info = import_bundle(args, db, bundle, workdir)
    baseline = run_baseline(ctx, args.connections, "before")
    runs: list[Run] = []
    skipped: list[dict[str, str]] = []
    endpoints_seen: dict[str, dict[str, Any]] = {}
    phase_info: dict[str, Any] = {}
    for phase in args.phases:
        server = start_masthead(ctx["procs"], args, db, workdir, cache=phase == "hot")
        try:
            endpoints, skips = discover(server.base, args, args.articles)
            if phase == args.phases[0]:
                skipped = skips
            for endpoint in endpoints:
                endpoints_seen.setdefault(endpoint.key, asdict(endpoint))
            wait_for_server_idle(server.proc.pid, args.idle_wait)
            warm_up(server.base, endpoints)
            for endpoint in endpoints:
                for c in args.connections:
                    runs.append(measure(ctx, server, endpoint, phase, c))
            phase_info[phase] = {"response_cache": cache_stats(server.base)}
        finally:
            ctx["procs"].stop(server.proc)
    baseline += run_baseline(ctx, args.connections, "after")
    warnings = apply_baseline(baseline, runs, args.postgres)
    results_table(baseline, runs)
    checks = evaluate_targets(runs, args.connections, import_info, args.articles)
    targets_table(checks)
    cache_known = ctx["response_cache_known"]
    if "hot" in args.phases and cache_known is False:
        print(
            "\nnote: this Masthead has no MASTHEAD_RESPONSE_CACHE setting, so the hot and cold "
            "phases ran the same code; their differences are noise."
        )
    if skipped:
        print("\nskipped: " + "; ".join(f"{s['path']} ({s['reason']})" for s in skipped))
    for phase, info in phase_info.items():
        stats = info["response_cache"]
        if stats:
            print(
                f"\n{phase}: response cache hits {stats.get('hits', 0):,.0f}, "
                f"misses {stats.get('misses', 0):,.0f}"
                + (" (one worker's counters)" if args.workers > 1 else "")
            )
    for warning in warnings:
        print(f"\nwarning: {warning}")
    return {
        "warnings": warnings,
        "phases": phase_info,
        "dataset": {"articles": args.articles, "words": args.words, **import_info},
        "database": db.kind,
        "endpoints": endpoints_seen,
        "skipped": skipped,
        "baseline": [asdict(r) for r in baseline],
        "results": [asdict(r) for r in runs],
        "targets": checks,
    }


def run_scale(ctx: dict[str, Any]) -> dict[str, Any]:
    args: argparse.Namespace = ctx["args"]
    workdir: Path = ctx["workdir"]
    c = args.scale_connections
    baseline = run_baseline(ctx, [c], "before")
    runs: list[Run] = []
    imports: dict[int, dict[str, Any]] = {}
    rss: dict[int, float] = {}
    skipped: list[dict[str, Any]] = []
    for size in args.scale:
        bundle = bundle_path(args, size)
        db = create_database(args, workdir, size)
        ctx["databases"].append(db)
        try:
            imports[size] = import_bundle(args, db, bundle, workdir)
            server = start_masthead(ctx["procs"], args, db, workdir, cache=False)
            try:
                endpoints, skips = discover(server.base, args, size, SCALE_ENDPOINTS)
                skipped += [{**s, "articles": size} for s in skips]
                wait_for_server_idle(server.proc.pid, args.idle_wait)
                warm_up(server.base, endpoints)
                for endpoint in endpoints:
                    r = measure(ctx, server, endpoint, "cold", c)
                    r.dataset_articles = size
                    runs.append(r)
                rss[size] = rss_mb(server.proc.pid)
            finally:
                ctx["procs"].stop(server.proc)
        finally:
            drop_database(args, db)
            ctx["databases"].remove(db)
            if db.kind == "sqlite" and not args.keep_db:
                Path(db.url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    baseline += run_baseline(ctx, [c], "after")
    warnings = apply_baseline(baseline, runs, args.postgres)
    first_size = args.scale[0]
    sections = []
    for key in SCALE_ENDPOINTS:
        group = [r for r in runs if r.target == key]
        if not group:
            continue
        ref = next((r for r in group if r.dataset_articles == first_size), None)
        rows = []
        for r in group:
            rows.append(
                [
                    r.label if not r.label.startswith("/v1/articles deep") else "deep page",
                    f"{r.dataset_articles:,}",
                    fmt(r.rps, 0),
                    fmt(r.p50_ms, 2),
                    fmt(r.p99_ms, 2),
                    str(r.errors),
                    fmt(r.cpu_ms_per_req, 3),
                    pct(r.ratio_to_baseline),
                    f"{r.p50_ms / ref.p50_ms:.2f}x" if ref and ref.p50_ms else "-",
                    f"{r.p99_ms / ref.p99_ms:.2f}x" if ref and ref.p99_ms else "-",
                    f"{ref.rps / r.rps:.2f}x" if ref and r.rps else "-",
                ]
            )
        sections.append(rows)
    columns = ["endpoint", "articles", "req/s", "p50 ms", "p99 ms", "errors", "CPU-ms/req"]
    columns += ["x baseline", f"p50 vs {first_size:,}", f"p99 vs {first_size:,}", "cost vs"]
    print_table(
        f"Latency by dataset size, cold, {c} connections (vs = relative to {first_size:,})",
        columns,
        sections,
    )
    import_rows = [
        [
            f"{size:,}",
            fmt(info["import_seconds"], 2),
            fmt(info["bundle_bytes"] / 1e6, 1),
            fmt(rss.get(size), 0),
        ]
        for size, info in imports.items()
    ]
    print_table(
        "Import time and server memory by size",
        ["articles", "import s", "bundle MB", "RSS per worker MB (after the runs)"],
        [import_rows],
    )
    if skipped:
        print("\nskipped: " + "; ".join(f"{s['path']} ({s['reason']})" for s in skipped))
    for warning in warnings:
        print(f"\nwarning: {warning}")
    return {
        "warnings": warnings,
        "scale": {
            "sizes": args.scale,
            "connections": c,
            "words": args.words,
            "imports": {str(k): v for k, v in imports.items()},
            "rss_mb_per_worker": {str(k): v for k, v in rss.items()},
            "skipped": skipped,
        },
        "database": "postgresql" if args.postgres else "sqlite",
        "baseline": [asdict(r) for r in baseline],
        "results": [asdict(r) for r in runs],
    }


def on_signal(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    started = datetime.now(UTC)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    procs = Processes()
    workdir = Path(tempfile.mkdtemp(prefix="masthead-bench-"))
    ctx: dict[str, Any] = {
        "args": args,
        "procs": procs,
        "workdir": workdir,
        "databases": [],
    }
    try:
        wrk = ensure_wrk()
        lua = workdir / "report.lua"
        lua.write_text(WRK_LUA)
        ctx.update(wrk=wrk, lua=lua, response_cache_known=response_cache_setting())
        payload: dict[str, Any] = {
            "started_at": started.isoformat(),
            "command": portable_command([sys.argv[0], *(sys.argv[1:] if argv is None else argv)]),
            "git_commit": git_commit(),
            "machine": machine_info(),
            "wrk": {"path": portable(wrk), "version": wrk_version(wrk), "threads": args.threads},
            "config": {k: portable(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            "response_cache_setting_exists": ctx["response_cache_known"],
        }
        log(
            f"{payload['machine']['nproc']} CPUs ({payload['machine']['cpu_model']}), "
            f"python {payload['machine']['python']}, {payload['wrk']['version']}"
        )
        payload.update(run_scale(ctx) if args.scale else run_matrix(ctx))
        payload["finished_at"] = datetime.now(UTC).isoformat()
        path = write_results(args, payload, stamp)
        print(f"\nresults: {path}")
        return 0
    except BenchError as exc:
        log(f"error: {exc}")
        return 1
    finally:
        procs.stop_all()
        for db in list(ctx["databases"]):
            drop_database(args, db)
        if args.keep_db:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def git_commit() -> str | None:
    with contextlib.suppress(Exception):
        result = run_bounded(["git", "rev-parse", "HEAD"], timeout=10, cwd=REPO)
        if result.returncode == 0:
            dirty = run_bounded(["git", "status", "--porcelain"], timeout=10, cwd=REPO)
            return result.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    return None


if __name__ == "__main__":
    sys.exit(main())

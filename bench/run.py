"""`make bench`: the service under wrk, next to a bare-WSGI ceiling.

Starts the service with gunicorn and its production settings on a throwaway
PostgreSQL database, seeds the data shapes below, loads every endpoint with wrk
at each connection count, then does the same against `bench/baseline.py` (no
framework, same SQL) and prints one table: throughput, latency, errors, memory
per worker, and each row as a fraction of the baseline.

The run fails (exit 1) only on errors — a non-2xx answer, a socket error or a
wrong answer in the pre-flight check — never on speed: figures vary between
machines, so the targets are printed, not enforced.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psycopg
import requests

from tasks.positions import keys_between
from testing.databases import create_database, drop_database
from testing.environments import deployment_env
from testing.processes import REPO, free_port, stop_process, wait_until_answering
from testing.tokens import mint

WRK_SCRIPT = Path(__file__).with_name("wrk.lua")
USERS = {"bench-20": 20, "bench-500": 500, "bench-writer": 1000, "bench-10000": 10000}
# The user whose tasks have due dates and instants, for the deep `ordering=due` page.
DUE_USER = "bench-10000"
# How far into that user's `ordering=due` list the measured page starts: past
# 8,000 of the 9,000 tasks with a due date, where the date and instant scans merge.
DEEP_PAGE_OFFSET = 8000
TARGET_FRACTION = 0.60
TARGET_P99_MS = {16: 50.0, 64: 150.0}


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str
    user: str | None  # whose token; None sends none
    body: str | None = None
    expected_status: int = 200
    # The page starts this many tasks into the list, at a cursor found by walking
    # the service's pages before the load (the path then gets `&cursor=`).
    deep_offset: int | None = None
    # Whether bench/baseline.py serves it; without, the row has no ceiling.
    in_baseline: bool = True

    @property
    def uses_ids(self) -> bool:
        return "{id}" in self.path


ENDPOINTS = [
    Endpoint("GET /api/tasks (20 tasks)", "GET", "/api/tasks", "bench-20"),
    Endpoint("GET /api/tasks (500 tasks)", "GET", "/api/tasks", "bench-500"),
    Endpoint(
        "GET /api/tasks?ordering=due (page of 50, 8,000 deep in 10,000)",
        "GET",
        "/api/tasks?ordering=due&limit=50",
        DUE_USER,
        deep_offset=DEEP_PAGE_OFFSET,
        in_baseline=False,
    ),
    Endpoint("GET /api/tasks/{id}", "GET", "/api/tasks/{id}", "bench-writer"),
    Endpoint(
        "POST /api/tasks",
        "POST",
        "/api/tasks",
        "bench-writer",
        body='{"title": "Benchmark task", "description": "Created under load"}',
        expected_status=201,
    ),
    Endpoint("PATCH /api/tasks/{id}/complete", "PATCH", "/api/tasks/{id}/complete", "bench-writer"),
    Endpoint("GET /health", "GET", "/health", None),
]


@dataclass
class Result:
    endpoint: Endpoint
    connections: int
    requests: int
    seconds: float
    errors: int
    mean_ms: float
    p50_ms: float
    p99_ms: float
    rss_mib: float = 0.0
    pss_mib: float = 0.0

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


@dataclass
class Server:
    """A gunicorn master on a loopback port, its output in a log file."""

    name: str
    command: list[str]
    env: dict[str, str]
    log_dir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"{self.name}.log"

    def start(self, timeout: float = 30) -> None:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [*self.command, "--bind", f"127.0.0.1:{self.port}"],
                cwd=REPO,
                env={**self.env, "PORT": str(self.port)},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_until_answering(
                self.process, f"{self.base_url}/health", name=self.name, log=self.log_path.read_text, timeout=timeout
            )
        except RuntimeError:
            self.stop()
            raise

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)

    def worker_memory_mib(self) -> tuple[float, float]:
        """The largest resident set (RSS) and proportional set (PSS: shared
        pages divided among the processes sharing them) among the workers, MiB."""
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        rss, pss = [], []
        for pid in children:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss.append(int(line.split()[1]) / 1024)
                elif line.startswith("Pss:"):
                    pss.append(int(line.split()[1]) / 1024)
        return max(rss), max(pss)


def due_of(n: int, now: datetime) -> tuple[date | None, datetime | None]:
    """The due date or instant of the DUE_USER's task n: nine in ten have one,
    half of those a date, half an instant, spread over about two years."""
    if n % 10 == 9:
        return None, None
    offset = timedelta(hours=(n * 7919) % 17_000 - 8_000)
    if n % 2:
        return (now + offset).date(), None
    return None, now + offset


def seed(database_url: str) -> dict[str, list[int]]:
    """The data shapes: a 20-task user, a 500-task user, a writer with a pool
    of tasks to read and toggle, and a 10,000-task user with due dates and
    instants. Returns each user's task ids."""
    now = datetime.now(UTC)
    ids: dict[str, list[int]] = {}
    with psycopg.connect(database_url) as conn, conn.cursor() as cursor:
        for user, count in USERS.items():
            # The manual order as the API builds it: the newest task first.
            positions = keys_between(None, None, count)[::-1]
            rows = []
            for n in range(count):
                created = now - timedelta(seconds=count - n)
                completed = n % 3 == 0
                description = f"Description of task {n}, long enough to look like a real one." if n % 2 else None
                completed_at = created if completed else None
                title = f"Task {n} of {user}"
                due_date, due_at = due_of(n, now) if user == DUE_USER else (None, None)
                row = (user, title, description, completed, completed_at, n % 4, positions[n], created, created)
                rows.append((*row, due_date, due_at))
            cursor.executemany(
                "INSERT INTO tasks_task (user_id, title, description, completed, completed_at, priority, position,"
                " created_at, updated_at, due_date, due_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                rows,
            )
            cursor.execute("SELECT id FROM tasks_task WHERE user_id = %s ORDER BY id", [user])
            ids[user] = [row[0] for row in cursor.fetchall()]
        # Statistics now, as autovacuum would give a real table, so the first plans are the steady ones.
        cursor.execute("ANALYZE tasks_task")
    return ids


def deep_page(server: Server, endpoint: Endpoint, token: str | None) -> Endpoint:
    """`endpoint` with the cursor that starts its page `deep_offset` tasks in,
    found by walking the service's pages of 200 (a cursor does not depend on `limit`)."""
    assert endpoint.deep_offset is not None
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    base, _, query = endpoint.path.partition("?")
    params = dict(pair.split("=", 1) for pair in query.split("&") if pair)
    cursor = None
    for _ in range(endpoint.deep_offset // 200):
        page = {**params, "limit": "200", **({"cursor": cursor} if cursor else {})}
        response = requests.get(server.base_url + base, params=page, headers=headers, timeout=30)
        cursor = response.json().get("next_cursor") if response.status_code == 200 else None
        if cursor is None:
            raise SystemExit(f"bench: {server.name} ended {endpoint.name} before {endpoint.deep_offset} tasks")
    return replace(endpoint, path=f"{endpoint.path}&{urlencode({'cursor': cursor})}")


def check(server: Server, endpoint: Endpoint, token: str | None, task_id: int) -> dict[str, Any]:
    """One request before the load: the right status and a JSON body."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if endpoint.body:
        headers["Content-Type"] = "application/json"
    response = requests.request(
        endpoint.method,
        server.base_url + endpoint.path.replace("{id}", str(task_id)),
        headers=headers,
        data=endpoint.body,
        timeout=10,
    )
    if response.status_code != endpoint.expected_status:
        raise SystemExit(f"bench: {server.name} answered {endpoint.name} with {response.status_code}: {response.text}")
    return response.json()


def wrk(
    server: Server, endpoint: Endpoint, token: str | None, ids: list[int], connections: int, seconds: int
) -> Result:
    env = {
        **os.environ,
        "BENCH_METHOD": endpoint.method,
        "BENCH_PATH": endpoint.path,
        "BENCH_BODY": endpoint.body or "",
        "BENCH_TOKEN": token or "",
        "BENCH_IDS": ",".join(map(str, ids)) if endpoint.uses_ids else "",
    }
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "-s", str(WRK_SCRIPT)]
    output = subprocess.run([*command, server.base_url], env=env, capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("BENCH_RESULT "))
    figures = json.loads(line.removeprefix("BENCH_RESULT "))
    errors = sum(figures[kind] for kind in ("connect", "read", "write", "status", "timeout"))
    return Result(
        endpoint=endpoint,
        connections=connections,
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        errors=errors,
        mean_ms=figures["mean_us"] / 1000,
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
    )


def measure(
    server: Server,
    endpoints: list[Endpoint],
    tokens: Mapping[str, str],
    ids: Mapping[str, list[int]],
    connections: list[int],
    seconds: int,
) -> list[Result]:
    results = []
    for endpoint in endpoints:
        token = tokens.get(endpoint.user) if endpoint.user else None
        if endpoint.deep_offset is not None:
            endpoint = deep_page(server, endpoint, token)
        pool = ids.get(endpoint.user, []) if endpoint.user else []
        check(server, endpoint, token, pool[0] if pool else 0)
        wrk(server, endpoint, token, pool, connections[0], 1)  # warm-up, not reported
        for count in connections:
            result = wrk(server, endpoint, token, pool, count, seconds)
            result.rss_mib, result.pss_mib = server.worker_memory_mib()
            print(
                f"  {server.name:8} {endpoint.name:32} c={count:<3} {result.rate:8.0f} req/s"
                f"  p99 {result.p99_ms:6.1f} ms  errors {result.errors}",
                flush=True,
            )
            results.append(result)
    return results


def measure_server(
    name: str,
    command: list[str],
    env_for: Callable[[str], dict[str, str]],
    *,
    admin_url: str,
    log_dir: Path,
    endpoints: list[Endpoint],
    tokens: Mapping[str, str],
    connections: list[int],
    seconds: int,
) -> list[Result]:
    """Serve `command` on a freshly seeded database of its own and load it."""
    with bench_database(admin_url) as (database, ids):
        server = Server(name, command, env_for(database), log_dir)
        server.start()
        try:
            return measure(server, endpoints, tokens, ids, connections, seconds)
        finally:
            server.stop()


@contextmanager
def bench_database(admin_url: str) -> Iterator[tuple[str, dict[str, list[int]]]]:
    url = create_database(admin_url)
    try:
        yield url, seed(url)
    finally:
        drop_database(admin_url, url)


def redis_url_if_reachable(url: str) -> str | None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return None
    return url


def table(service: list[Result], baseline: list[Result]) -> str:
    ceiling = {(r.endpoint.name, r.connections): r.rate for r in baseline}
    lines = [
        "| endpoint | conns | req/s | mean ms | p50 ms | p99 ms | errors | worker RSS / PSS MiB"
        " | baseline req/s | vs baseline |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in service:
        base = ceiling.get((r.endpoint.name, r.connections))
        versus = f"{r.rate / base:.0%}" if base else "-"
        lines.append(
            f"| {r.endpoint.name} | {r.connections} | {r.rate:,.0f} | {r.mean_ms:.1f} | {r.p50_ms:.1f} | {r.p99_ms:.1f}"
            f" | {r.errors} | {r.rss_mib:.0f} / {r.pss_mib:.0f} | {f'{base:,.0f}' if base else '-'} | {versus} |"
        )
    return "\n".join(lines)


def verdicts(service: list[Result], baseline: list[Result]) -> list[str]:
    ceiling = {(r.endpoint.name, r.connections): r.rate for r in baseline}
    fraction_misses = [
        f"{r.endpoint.name} c={r.connections} at {r.rate / ceiling[key]:.0%}"
        for r in service
        if (key := (r.endpoint.name, r.connections)) in ceiling and r.rate < TARGET_FRACTION * ceiling[key]
    ]
    latency_misses = [
        f"{r.endpoint.name} c={r.connections} p99 {r.p99_ms:.1f} ms"
        for r in service
        if r.connections in TARGET_P99_MS and r.p99_ms >= TARGET_P99_MS[r.connections]
    ]
    compared = sum(1 for r in service if (r.endpoint.name, r.connections) in ceiling)
    return [
        f"target >= {TARGET_FRACTION:.0%} of baseline: {compared - len(fraction_misses)}/{compared} rows"
        + (f" (missed: {'; '.join(fraction_misses)})" if fraction_misses else ""),
        "target p99 < 50 ms at 16 connections, < 150 ms at 64: "
        + (f"missed: {'; '.join(latency_misses)}" if latency_misses else "met on every row"),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("BENCH_SECONDS", "10")))
    parser.add_argument("--connections", default=os.environ.get("BENCH_CONNECTIONS", "16,64"))
    parser.add_argument("--only", help="run only endpoints whose name contains this text")
    parser.add_argument("--no-baseline", action="store_true", help="skip the bare-WSGI baseline")
    parser.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE", help="extra environment for the service"
    )
    args = parser.parse_args()

    if shutil.which("wrk") is None:
        raise SystemExit("bench: wrk not found (apt-get install wrk)")
    admin_url = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    redis_url = redis_url_if_reachable(os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
    connections = [int(count) for count in args.connections.split(",")]
    endpoints = [e for e in ENDPOINTS if not args.only or args.only in e.name]
    secret = secrets.token_urlsafe(40)
    tokens = {user: mint(secret, user, expires_in=timedelta(minutes=60)) for user in USERS}
    log_dir = Path(tempfile.mkdtemp(prefix="todo-bench-"))
    started = time.monotonic()
    print(f"bench: PostgreSQL {admin_url.rsplit('@', 1)[-1]}, {args.seconds}s per run, connections {connections}")
    print(f"bench: throttling counted in {'Redis' if redis_url else 'local memory (Redis unreachable)'}")

    # The limits on, far above the load, so their bookkeeping is measured.
    generous = "1000000/min"
    service_env = deployment_env(
        "",
        secret,
        API_RATE_LIMIT=generous,
        API_AUTH_FAILURE_RATE_LIMIT=generous,
        API_DOCS_RATE_LIMIT=generous,
        CACHE_KEY_PREFIX=f"bench-{secrets.token_hex(4)}",
    )
    if redis_url:
        service_env["REDIS_URL"] = redis_url
    service_env.update(assignment.split("=", 1) for assignment in args.set)
    load = partial(
        measure_server,
        admin_url=admin_url,
        log_dir=log_dir,
        tokens=tokens,
        connections=connections,
        seconds=args.seconds,
    )
    service_results = load(
        "service",
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"],
        lambda database: {**service_env, "DATABASE_URL": database},
        endpoints=endpoints,
    )
    baseline_results: list[Result] = []
    if not args.no_baseline:
        baseline_results = load(
            "baseline",
            # gunicorn.conf.py as for the service (it reads the service's
            # settings, hence its environment): only the application differs.
            [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--workers", "2", "bench.baseline:app"],
            lambda database: {**service_env, "BASELINE_DATABASE_URL": database, "BASELINE_SECRET": secret},
            endpoints=[e for e in endpoints if e.in_baseline],
        )

    print()
    print("Service: gunicorn.conf.py, production settings, PostgreSQL; baseline: bench/baseline.py, 2 sync workers.")
    print(table(service_results, baseline_results))
    print()
    for line in verdicts(service_results, baseline_results):
        print(f"bench: {line}")
    errors = {
        name: sum(r.errors for r in results)
        for name, results in [("service", service_results), ("baseline", baseline_results)]
    }
    print(
        f"bench: errors: {errors['service']} from the service, {errors['baseline']} from the baseline;"
        f" {time.monotonic() - started:.0f}s in all; server logs in {log_dir}"
    )
    return 1 if any(errors.values()) else 0


if __name__ == "__main__":
    sys.exit(main())

"""`make bench`: the service under wrk, next to a bare-WSGI ceiling.

Starts the service with gunicorn and its production settings, and
`bench/baseline.py` (no framework, same SQL), each on a throwaway PostgreSQL
database seeded with the data shapes below. Then, endpoint by endpoint, loads
one and then the other with wrk, so that both rows of a pair see the same
minute of a shared machine, and prints one table: throughput, latency, errors,
memory per worker, and each row's ratio to the ceiling.

`--compare-with DIR` serves a second checkout of the service (another commit)
beside them, in the same interleaved run: a before/after pair.

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
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import psycopg
import requests

from tasks.positions import keys_between
from testing.databases import create_database, drop_database
from testing.environments import deployment_env
from testing.processes import REPO, free_port, stop_process, wait_until_answering
from testing.tokens import mint

WRK_SCRIPT = Path(__file__).with_name("wrk.lua")
USERS = {"bench-20": 20, "bench-500": 500, "bench-writer": 1000, "bench-10000": 10000, "bench-trash": 40000}
# The user whose tasks have due dates and instants, for the deep `ordering=due` page.
DUE_USER = "bench-10000"
# How far into that user's `ordering=due` list the measured page starts: past
# 8,000 of the 9,000 tasks with a due date, where the date and instant scans merge.
DEEP_PAGE_OFFSET = 8000
# Issue 14's targets, at 16 connections: each row's ratio to the ceiling, and
# the p99 of the rows that read or write one task.
TARGET_RATIO = 0.45
TARGET_RATIO_OF = {"GET /api/tasks (500 tasks)": 0.60}
TARGET_CONNECTIONS = 16
TARGET_P99_MS = 25.0
# A sync delta's size: the tasks changed after the token was taken.
SYNC_DELTA_CHANGES = 10


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
    # Extra request headers, as (name, value) pairs.
    headers: tuple[tuple[str, str], ...] = ()
    # One id for the whole run (the first of the user's pool), not a cycle through them.
    one_id: bool = False
    # Sends `If-None-Match` with the ETag of the check's answer.
    if_none_match: bool = False
    # The path gets `?token=`: a sync token taken before SYNC_DELTA_CHANGES flips.
    sync_delta: bool = False
    # Each id can be used once (a delete): every run gets ids of its own.
    single_use_ids: bool = False
    # Reads or writes one task: held to TARGET_P99_MS.
    single_task: bool = False
    # Sent over and over as it is, so `make soak` can mix it in.
    in_soak: bool = True

    @property
    def uses_ids(self) -> bool:
        return "{id}" in self.path and not self.one_id


ENDPOINTS = [
    Endpoint("GET /api/tasks (20 tasks)", "GET", "/api/tasks", "bench-20"),
    Endpoint("GET /api/tasks (500 tasks)", "GET", "/api/tasks", "bench-500"),
    Endpoint(
        "GET /api/tasks?ordering=due (page of 50, 8,000 deep in 10,000)",
        "GET",
        "/api/tasks?ordering=due&limit=50",
        DUE_USER,
        deep_offset=DEEP_PAGE_OFFSET,
    ),
    Endpoint("GET /api/tasks/{id}", "GET", "/api/tasks/{id}", "bench-writer", single_task=True),
    Endpoint(
        "GET /api/tasks/{id} (If-None-Match: 304)",
        "GET",
        "/api/tasks/{id}",
        "bench-writer",
        expected_status=304,
        one_id=True,
        if_none_match=True,
        single_task=True,
        in_soak=False,
    ),
    Endpoint(
        f"GET /api/sync?token= ({SYNC_DELTA_CHANGES} changes)",
        "GET",
        "/api/sync",
        "bench-500",
        sync_delta=True,
        in_soak=False,
    ),
    Endpoint(
        "POST /api/tasks",
        "POST",
        "/api/tasks",
        "bench-writer",
        body='{"title": "Benchmark task", "description": "Created under load"}',
        expected_status=201,
        single_task=True,
    ),
    Endpoint(
        "PATCH /api/tasks/{id}/complete",
        "PATCH",
        "/api/tasks/{id}/complete",
        "bench-writer",
        single_task=True,
    ),
    Endpoint(
        "DELETE /api/tasks/{id}",
        "DELETE",
        "/api/tasks/{id}",
        "bench-trash",
        expected_status=204,
        single_use_ids=True,
        single_task=True,
        in_soak=False,
    ),
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
    cwd: Path = REPO
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
                cwd=self.cwd,
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
    base, _, query = endpoint.path.partition("?")
    params = dict(pair.split("=", 1) for pair in query.split("&") if pair)
    cursor = None
    for _ in range(endpoint.deep_offset // 200):
        page = {**params, "limit": "200", **({"cursor": cursor} if cursor else {})}
        response = request(server, endpoint, token, f"{base}?{urlencode(page)}")
        cursor = response.json().get("next_cursor") if response.status_code == 200 else None
        if cursor is None:
            raise SystemExit(f"bench: {server.name} ended {endpoint.name} before {endpoint.deep_offset} tasks")
    return replace(endpoint, path=f"{endpoint.path}&{urlencode({'cursor': cursor})}")


def request(server: Server, endpoint: Endpoint, token: str | None, path: str) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if endpoint.body:
        headers["Content-Type"] = "application/json"
    headers.update(endpoint.headers)
    return requests.request(endpoint.method, server.base_url + path, headers=headers, data=endpoint.body, timeout=30)


def prepared(server: Server, endpoint: Endpoint, token: str | None, pool: list[int]) -> Endpoint:
    """`endpoint` as `server` is loaded with it: the deep page's cursor, the
    one task's id, the sync token taken before SYNC_DELTA_CHANGES flips, the
    ETag for `If-None-Match`. Each server has its own cursors, tokens and ETags."""
    if endpoint.deep_offset is not None:
        endpoint = deep_page(server, endpoint, token)
    if endpoint.one_id:
        endpoint = replace(endpoint, path=endpoint.path.replace("{id}", str(pool[0])))
    if endpoint.sync_delta:
        sync = request(server, replace(endpoint, method="GET"), token, endpoint.path)
        flip = Endpoint("flip", "PATCH", "", endpoint.user)
        for task_id in pool[:SYNC_DELTA_CHANGES]:
            if request(server, flip, token, f"/api/tasks/{task_id}/complete").status_code != 200:
                raise SystemExit(f"bench: {server.name} refused a flip before {endpoint.name}")
        endpoint = replace(endpoint, path=f"{endpoint.path}?{urlencode({'token': sync.json()['sync_token']})}")
    if endpoint.if_none_match:
        answer = request(server, replace(endpoint, headers=()), token, endpoint.path)
        endpoint = replace(endpoint, headers=(*endpoint.headers, ("If-None-Match", answer.headers["ETag"])))
    return endpoint


def check(server: Server, endpoint: Endpoint, token: str | None, task_id: int) -> None:
    """One request before the load: the right status, and a JSON body when it has one."""
    response = request(server, endpoint, token, endpoint.path.replace("{id}", str(task_id)))
    if response.status_code != endpoint.expected_status:
        raise SystemExit(f"bench: {server.name} answered {endpoint.name} with {response.status_code}: {response.text}")
    if response.content:
        response.json()


def wrk(
    server: Server, endpoint: Endpoint, token: str | None, ids: list[int], connections: int, seconds: int
) -> Result:
    with tempfile.NamedTemporaryFile("w", prefix="bench-ids-", suffix=".txt") as id_file:
        id_file.write("\n".join(map(str, ids)) if endpoint.uses_ids else "")
        id_file.flush()
        env = {
            **os.environ,
            "BENCH_METHOD": endpoint.method,
            "BENCH_PATH": endpoint.path,
            "BENCH_BODY": endpoint.body or "",
            "BENCH_TOKEN": token or "",
            "BENCH_HEADERS": "\n".join(f"{name}: {value}" for name, value in endpoint.headers),
            "BENCH_IDS_FILE": id_file.name,
            "BENCH_SPLIT_IDS": "1" if endpoint.single_use_ids else "",
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


def combined(endpoint: Endpoint, runs: list[Result]) -> Result:
    """Rounds of one row as one result: every request over every second, the
    median round's latencies."""
    requests_in_all = sum(run.requests for run in runs)
    return Result(
        endpoint=endpoint,
        connections=runs[0].connections,
        requests=requests_in_all,
        seconds=sum(run.seconds for run in runs),
        errors=sum(run.errors for run in runs),
        mean_ms=sum(run.mean_ms * run.requests for run in runs) / max(1, requests_in_all),
        p50_ms=statistics.median(run.p50_ms for run in runs),
        p99_ms=statistics.median(run.p99_ms for run in runs),
    )


def id_pools(endpoint: Endpoint, pool: list[int], runs: int) -> tuple[int, list[int], list[list[int]]]:
    """The id for the check, the ids for the warm-up, and the ids for each run:
    the whole pool each time, or, for single-use ids, a share of it each."""
    if not pool:
        return 0, [], [[] for _ in range(runs)]
    if not endpoint.single_use_ids:
        return pool[0], pool, [pool] * runs
    warm_up = pool[1 : 1 + len(pool) // 5]
    rest = pool[1 + len(warm_up) :]
    share = len(rest) // runs
    return pool[0], warm_up, [rest[n * share : (n + 1) * share] for n in range(runs)]


@dataclass
class Target:
    """A server under load and the ids of its database's tasks, per user."""

    server: Server
    ids: dict[str, list[int]]


def measure(
    targets: list[Target],
    endpoints: list[Endpoint],
    tokens: Mapping[str, str],
    connections: list[int],
    seconds: int,
    rounds: int,
) -> dict[str, list[Result]]:
    """Every endpoint on every server, interleaved: for each endpoint and
    connection count, `rounds` rounds of one run per server in turn."""
    results: dict[str, list[Result]] = {target.server.name: [] for target in targets}
    for endpoint in endpoints:
        token = tokens.get(endpoint.user) if endpoint.user else None
        plans = []
        for target in targets:
            pool = target.ids.get(endpoint.user or "", [])
            check_id, warm_up, run_ids = id_pools(endpoint, pool, len(connections) * rounds)
            loaded = prepared(target.server, endpoint, token, pool)
            check(target.server, loaded, token, check_id)
            wrk(target.server, loaded, token, warm_up, connections[0], 1)  # warm-up, not reported
            plans.append((target, loaded, iter(run_ids)))
        for count in connections:
            runs: dict[str, list[Result]] = {target.server.name: [] for target in targets}
            for _ in range(rounds):
                for target, loaded, shares in plans:
                    runs[target.server.name].append(wrk(target.server, loaded, token, next(shares), count, seconds))
            for target, _, _ in plans:
                result = combined(endpoint, runs[target.server.name])
                result.rss_mib, result.pss_mib = target.server.worker_memory_mib()
                print(
                    f"  {target.server.name:8} {endpoint.name:40} c={count:<3} {result.rate:8.0f} req/s"
                    f"  p99 {result.p99_ms:6.1f} ms  errors {result.errors}",
                    flush=True,
                )
                results[target.server.name].append(result)
    return results


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


def ratio(result: Result, ceiling: Mapping[tuple[str, int], float]) -> float | None:
    base = ceiling.get((result.endpoint.name, result.connections))
    return result.rate / base if base else None


def table(service: list[Result], baseline: list[Result], before: list[Result] | None = None) -> str:
    """The run as a Markdown table; with `before`, its rows beside the service's."""
    ceiling = {(r.endpoint.name, r.connections): r.rate for r in baseline}
    earlier = {(r.endpoint.name, r.connections): r for r in before or []}
    header = (
        "| endpoint | conns | req/s | mean ms | p50 ms | p99 ms | errors | worker RSS / PSS MiB"
        " | ceiling req/s | ratio |"
    )
    rule = "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    if before is not None:
        header += " before: req/s | p99 ms | PSS MiB | ratio |"
        rule += "---:|---:|---:|---:|"
    lines = [header, rule]
    for r in service:
        base = ceiling.get((r.endpoint.name, r.connections))
        share = ratio(r, ceiling)
        line = (
            f"| {r.endpoint.name} | {r.connections} | {r.rate:,.0f} | {r.mean_ms:.1f} | {r.p50_ms:.1f} | {r.p99_ms:.1f}"
            f" | {r.errors} | {r.rss_mib:.0f} / {r.pss_mib:.0f} | {f'{base:,.0f}' if base else '-'}"
            f" | {f'{share:.2f}' if share is not None else '-'} |"
        )
        if before is not None:
            old = earlier.get((r.endpoint.name, r.connections))
            old_share = ratio(old, ceiling) if old else None
            line += (
                f" {f'{old.rate:,.0f}' if old else '-'} | {f'{old.p99_ms:.1f}' if old else '-'}"
                f" | {f'{old.pss_mib:.0f}' if old else '-'} | {f'{old_share:.2f}' if old_share is not None else '-'} |"
            )
        lines.append(line)
    return "\n".join(lines)


def verdicts(service: list[Result], baseline: list[Result]) -> list[str]:
    """Issue 14's targets, judged on the rows at TARGET_CONNECTIONS."""
    ceiling = {(r.endpoint.name, r.connections): r.rate for r in baseline}
    judged = [r for r in service if r.connections == TARGET_CONNECTIONS]
    ratio_misses = [
        f"{r.endpoint.name} at {share:.2f}"
        for r in judged
        if (share := ratio(r, ceiling)) is not None and share < TARGET_RATIO_OF.get(r.endpoint.name, TARGET_RATIO)
    ]
    compared = sum(1 for r in judged if ratio(r, ceiling) is not None)
    latency_misses = [
        f"{r.endpoint.name} {r.p99_ms:.1f} ms" for r in judged if r.endpoint.single_task and r.p99_ms > TARGET_P99_MS
    ]
    return [
        f"target ratio >= {TARGET_RATIO} (list of 500 >= {TARGET_RATIO_OF['GET /api/tasks (500 tasks)']}) at"
        f" c={TARGET_CONNECTIONS}: {compared - len(ratio_misses)}/{compared} rows"
        + (f" (missed: {'; '.join(ratio_misses)})" if ratio_misses else ""),
        f"target p99 <= {TARGET_P99_MS:.0f} ms for single-task rows at c={TARGET_CONNECTIONS}: "
        + (f"missed: {'; '.join(latency_misses)}" if latency_misses else "met on every row"),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("BENCH_SECONDS", "10")))
    parser.add_argument("--connections", default=os.environ.get("BENCH_CONNECTIONS", "16"))
    parser.add_argument("--rounds", type=int, default=1, help="runs per row and server, interleaved (default 1)")
    parser.add_argument("--only", help="run only endpoints whose name contains this text")
    parser.add_argument("--no-baseline", action="store_true", help="skip the bare-WSGI baseline")
    parser.add_argument(
        "--compare-with", type=Path, metavar="DIR", help="also serve the checkout in DIR (another commit), as 'before'"
    )
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
    gunicorn = [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"]
    servers: list[tuple[str, list[str], Callable[[str], dict[str, str]], Path]] = [
        ("service", gunicorn, lambda database: {**service_env, "DATABASE_URL": database}, REPO)
    ]
    if args.compare_with:
        servers.append(
            (
                "before",
                gunicorn,
                lambda database: {**service_env, "DATABASE_URL": database},
                args.compare_with.resolve(),
            )
        )
    if not args.no_baseline:
        # gunicorn.conf.py as for the service (it reads the service's
        # settings, hence its environment): only the application differs.
        servers.append(
            (
                "baseline",
                [*gunicorn, "--workers", "2", "bench.baseline:app"],
                lambda database: {**service_env, "BASELINE_DATABASE_URL": database, "BASELINE_SECRET": secret},
                REPO,
            )
        )
    with ExitStack() as stack:
        targets = []
        for name, command, env_for, cwd in servers:
            database, ids = stack.enter_context(bench_database(admin_url))
            server = Server(name, command, env_for(database), log_dir, cwd=cwd)
            server.start()
            stack.callback(server.stop)
            targets.append(Target(server, ids))
        results = measure(targets, endpoints, tokens, connections, args.seconds, args.rounds)

    service_results = results["service"]
    baseline_results = results.get("baseline", [])
    print()
    print("Service: gunicorn.conf.py, production settings, PostgreSQL; baseline: bench/baseline.py, 2 sync workers.")
    print(table(service_results, baseline_results, results.get("before")))
    print()
    for line in verdicts(service_results, baseline_results):
        print(f"bench: {line}")
    errors = {name: sum(r.errors for r in rows) for name, rows in results.items()}
    print(
        f"bench: errors: {', '.join(f'{count} from the {name}' for name, count in errors.items())};"
        f" {time.monotonic() - started:.0f}s in all; server logs in {log_dir}"
    )
    return 1 if any(errors.values()) else 0


if __name__ == "__main__":
    sys.exit(main())

"""`make soak`: mixed traffic for SOAK_SECONDS (default 600) through nginx to
two gunicorn instances, judged minute by minute.

The deployment is the scale-out test's (e2e/balancer.py: the shipped
deploy/nginx/todo-api.conf in front of two instances with production
settings, two workers each), on a throwaway PostgreSQL database seeded as
`make bench` seeds it, with the rate limits counted in the local Redis. `wrk`
sends the mix below, one request of each kind in turn on every connection,
for one run per bucket (a minute; shorter when the soak is short, so there
are enough points). After each bucket the script prints its throughput, its
latency and each worker's memory (PSS).

The run fails (exit 1, one line saying why) on:
- any 5xx answer, any answer the mix does not expect, or a socket error;
- p99 drifting up: the median p99 of any 3 consecutive buckets above 1.5 x the
  p99 of the first bucket after the warm-up bucket (a single slow bucket on a
  shared machine is noise, not drift);
- memory that keeps growing: a worker whose PSS rose in every bucket after the
  warm-up and by more than 8 MiB in all;
- a worker replaced (crashed or killed for a timeout).

Each bucket also shows the workers' CPU time per request and the host's load
average, to tell a slower service (CPU per request up) from a busier machine
(load up, CPU per request flat): neither fails the run.
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.run import ENDPOINTS, USERS, Endpoint, bench_database, redis_url_if_reachable
from e2e.balancer import INSTANCE_ENV, Balancer, find_nginx
from e2e.live import LiveService, session_for
from testing.environments import deployment_env
from testing.tokens import mint

# What each connection sends, in turn. The bench's endpoints that can be sent
# again as they are (lists of 20 and 500 tasks, the first page of
# ordering=due, one task, create, flip, /health), a move to the top of the
# manual order, the cached schema, and a forged token, which the failure
# limit counts. A new route is one line here.
MIX: list[Endpoint] = [
    *(endpoint for endpoint in ENDPOINTS if endpoint.in_soak),
    Endpoint("POST /api/tasks/{id}/move", "POST", "/api/tasks/{id}/move", "bench-writer", body='{"after": null}'),
    Endpoint("GET /openapi.json", "GET", "/openapi.json", None),
    Endpoint("GET /api/tasks (forged token)", "GET", "/api/tasks", "forged", expected_status=401),
]

SOAK_SCRIPT = Path(__file__).with_name("soak.lua")
P99_DRIFT = 1.5
SUSTAINED_BUCKETS = 3
MAX_GROWTH_MIB = 8.0
# Limits far above the soak's traffic, so that their counters run on every
# request without refusing any: everything comes from one client address, and
# the writer creates tasks throughout.
GENEROUS = "100000000/min"
GENEROUS_QUOTA = "100000000"


@dataclass
class Bucket:
    number: int
    seconds: float
    requests: int
    p50_ms: float
    p99_ms: float
    statuses: dict[int, int]
    socket_errors: int
    pss_mib: dict[str, float]  # worker name -> PSS at the end of the bucket
    cpu_seconds: float  # the workers' CPU time during the bucket
    load: float  # the host's 1-minute load average at the end of the bucket
    warm_up: bool = False

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.cpu_seconds / max(1, self.requests)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)

    def unexpected(self, expected: set[int]) -> int:
        return sum(count for status, count in self.statuses.items() if status < 500 and status not in expected)


@dataclass
class Workers:
    """Each instance's gunicorn workers, named a1, a2, b1, b2 at the start."""

    instances: list[LiveService]
    names: dict[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for letter, instance in zip("abcdefgh", self.instances, strict=False):
            for number, pid in enumerate(sorted(instance.worker_pids()), start=1):
                self.names[pid] = f"{letter}{number}"

    def replaced(self) -> set[int]:
        current = set().union(*(instance.worker_pids() for instance in self.instances))
        return set(self.names) ^ current

    def cpu_seconds(self) -> float:
        """User and system CPU time of the workers so far (those still running)."""
        ticks = 0
        for pid in self.names:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def pss_mib(self) -> dict[str, float]:
        pss = {}
        for pid, name in self.names.items():
            try:
                rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
            except OSError:
                continue  # replaced: reported by replaced()
            kib = next(int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:"))
            pss[name] = kib / 1024
        return pss


def mix_for_wrk(tokens: dict[str, str], ids: dict[str, list[int]]) -> str:
    records = []
    for endpoint in MIX:
        token = tokens[endpoint.user] if endpoint.user else ""
        pool = ",".join(map(str, ids.get(endpoint.user or "", []))) if endpoint.uses_ids else ""
        records.append("\x1f".join([endpoint.method, endpoint.path, token, endpoint.body or "", pool]))
    return "\x1e".join(records)


def check(balancer: Balancer, tokens: dict[str, str], ids: dict[str, list[int]]) -> None:
    """Each request of the mix once, before the load: the expected status."""
    session = session_for(balancer)
    for endpoint in MIX:
        headers = {"Authorization": f"Bearer {tokens[endpoint.user]}"} if endpoint.user else {}
        if endpoint.body:
            headers["Content-Type"] = "application/json"
        pool = ids.get(endpoint.user or "") or [0]
        url = balancer.url(endpoint.path.replace("{id}", str(pool[0])))
        response = session.request(endpoint.method, url, headers=headers, data=endpoint.body, timeout=10)
        if response.status_code != endpoint.expected_status:
            raise SystemExit(f"soak: FAILED: {endpoint.name} answered {response.status_code}: {response.text[:200]}")


def run_bucket(balancer: Balancer, mix: str, connections: int, seconds: int) -> dict[str, Any]:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "-s", str(SOAK_SCRIPT)]
    output = subprocess.run(
        [*command, balancer.base_url], env={**os.environ, "SOAK_MIX": mix}, capture_output=True, text=True, check=True
    ).stdout
    line = next(line for line in output.splitlines() if line.startswith("SOAK_RESULT "))
    return json.loads(line.removeprefix("SOAK_RESULT "))


def bucket_line(bucket: Bucket, total: int, expected: set[int]) -> str:
    memory = "  ".join(f"{name} {mib:5.1f}" for name, mib in sorted(bucket.pss_mib.items()))
    return (
        f"soak: bucket {bucket.number:2}/{total}{' (warm-up)' if bucket.warm_up else '          '}"
        f"  {bucket.rate:7,.0f} req/s  p50 {bucket.p50_ms:6.1f} ms  p99 {bucket.p99_ms:6.1f} ms"
        f"  5xx {bucket.server_errors()}  unexpected {bucket.unexpected(expected)}"
        f"  socket errors {bucket.socket_errors}  CPU {bucket.cpu_ms_per_request:4.1f} ms/req  load {bucket.load:4.1f}"
        f"  PSS MiB: {memory}"
    )


def table(buckets: list[Bucket], expected: set[int]) -> str:
    workers = sorted(buckets[0].pss_mib)
    lines = [
        "| bucket | req/s | p50 ms | p99 ms | 5xx | unexpected | CPU ms/req | load | "
        + " | ".join(f"{w} PSS MiB" for w in workers)
        + " |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|" + "---:|" * len(workers),
    ]
    for b in buckets:
        memory = " | ".join(f"{b.pss_mib.get(w, 0):.1f}" for w in workers)
        number = f"{b.number} (warm-up)" if b.warm_up else str(b.number)
        lines.append(
            f"| {number} | {b.rate:,.0f} | {b.p50_ms:.1f} | {b.p99_ms:.1f} | {b.server_errors()}"
            f" | {b.unexpected(expected)} | {b.cpu_ms_per_request:.1f} | {b.load:.1f} | {memory} |"
        )
    return "\n".join(lines)


def failures(buckets: list[Bucket], expected: set[int], replaced: set[int]) -> list[str]:
    """Why the run fails; empty when it passes (the rules in the module docstring)."""
    found = []
    server_errors = sum(b.server_errors() for b in buckets)
    if server_errors:
        found.append(f"5xx answers: {server_errors}")
    unexpected = sum(b.unexpected(expected) for b in buckets)
    if unexpected:
        found.append(f"answers with a status the mix does not expect: {unexpected}")
    socket_errors = sum(b.socket_errors for b in buckets)
    if socket_errors:
        found.append(f"socket errors or timeouts: {socket_errors}")
    if replaced:
        found.append(f"worker processes replaced or exited: {len(replaced)}")
    judged = [b for b in buckets if not b.warm_up]
    if judged:
        baseline = judged[0].p99_ms
        later = judged[1:]
        span = min(SUSTAINED_BUCKETS, len(later))
        for start in range(len(later) - span + 1):
            window = later[start : start + span]
            median = statistics.median(b.p99_ms for b in window)
            if median > P99_DRIFT * baseline:
                found.append(
                    f"p99 drifted up: {median:.1f} ms (median of buckets {window[0].number}-{window[-1].number})"
                    f" > {P99_DRIFT} x {baseline:.1f} ms (bucket {judged[0].number})"
                )
                break
        readings = [b for b in buckets if b.warm_up][-1:] + judged
        for worker in sorted(buckets[0].pss_mib):
            series = [b.pss_mib[worker] for b in readings if worker in b.pss_mib]
            growth = series[-1] - series[0] if len(series) > 1 else 0.0
            always_rising = len(series) > 2 and all(b > a for a, b in itertools.pairwise(series))
            if always_rising and growth > MAX_GROWTH_MIB:
                found.append(f"worker {worker} PSS rose in every bucket, by {growth:.1f} MiB in all")
    return found


def summary(buckets: list[Bucket]) -> str:
    judged = [b for b in buckets if not b.warm_up]
    total = sum(b.requests for b in buckets)
    growth = max(
        (judged[-1].pss_mib.get(w, 0) - judged[0].pss_mib.get(w, 0) for w in judged[0].pss_mib),
        default=0.0,
    )
    return (
        f"{total:,} requests in {sum(b.seconds for b in buckets):.0f} s, {len(buckets)} buckets;"
        f" req/s {min(b.rate for b in judged):,.0f}-{max(b.rate for b in judged):,.0f};"
        f" p99 {judged[0].p99_ms:.1f} ms in bucket {judged[0].number}, at most {max(b.p99_ms for b in judged):.1f} ms;"
        f" largest worker PSS change after the warm-up {growth:+.1f} MiB"
    )


def main() -> int:
    seconds = int(os.environ.get("SOAK_SECONDS", "600"))
    # A minute each; a short soak gets 12 shorter buckets, so there are points to judge.
    default_bucket = 60 if seconds >= 600 else max(5, seconds // 12)
    bucket_seconds = int(os.environ.get("SOAK_BUCKET_SECONDS", "0")) or default_bucket
    connections = int(os.environ.get("SOAK_CONNECTIONS", "16"))
    count = seconds // bucket_seconds
    if count < 3:
        raise SystemExit("soak: FAILED: SOAK_SECONDS must allow 3 buckets (a warm-up, a baseline and one to judge)")
    if shutil.which("wrk") is None:
        raise SystemExit("soak: FAILED: wrk not found (apt-get install wrk)")
    nginx = find_nginx()
    if nginx is None:
        raise SystemExit("soak: FAILED: nginx not found (apt-get install nginx, or set E2E_NGINX)")
    admin_url = os.environ.get("SOAK_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    redis_url = redis_url_if_reachable(os.environ.get("SOAK_REDIS_URL", "redis://127.0.0.1:6379/0"))
    if redis_url is None:
        raise SystemExit("soak: FAILED: Redis is not reachable (SOAK_REDIS_URL, default redis://127.0.0.1:6379/0)")

    secret = secrets.token_urlsafe(40)
    lifetime = timedelta(seconds=seconds + 3600)
    tokens = {user: mint(secret, user, expires_in=lifetime) for user in USERS}
    tokens["forged"] = mint(secrets.token_urlsafe(40), "forged", expires_in=lifetime)
    expected = {endpoint.expected_status for endpoint in MIX}
    prefix = f"soak-{secrets.token_hex(4)}"
    print(
        f"soak: {seconds} s as {count} buckets of {bucket_seconds} s, {connections} connections, through nginx to"
        f" 2 instances x 2 workers; PostgreSQL {admin_url.rsplit('@', 1)[-1]}, Redis {redis_url.rsplit('@', 1)[-1]}"
    )
    print(f"soak: the mix, in turn on each connection: {'; '.join(endpoint.name for endpoint in MIX)}", flush=True)

    started = time.monotonic()
    with bench_database(admin_url) as (database, ids):
        env = deployment_env(
            database,
            secret,
            REDIS_URL=redis_url,
            CACHE_KEY_PREFIX=prefix,
            API_RATE_LIMIT=GENEROUS,
            API_AUTH_FAILURE_RATE_LIMIT=GENEROUS,
            API_DOCS_RATE_LIMIT=GENEROUS,
            TASKS_MAX_PER_USER=GENEROUS_QUOTA,
            TRUSTED_PROXIES="127.0.0.1",
            # The soak's tokens outlive the run, which is longer than the default maximum age.
            JWT_MAX_AGE_SECONDS=str(int(lifetime.total_seconds())),
            **INSTANCE_ENV,
        )
        instances = [LiveService(env, name=f"soak-{letter}") for letter in "ab"]
        with Balancer(nginx, instances, name="soak") as balancer:
            check(balancer, tokens, ids)
            workers = Workers(instances)
            mix = mix_for_wrk(tokens, ids)
            buckets = []
            for number in range(1, count + 1):
                cpu_before = workers.cpu_seconds()
                figures = run_bucket(balancer, mix, connections, bucket_seconds)
                bucket = Bucket(
                    number=number,
                    seconds=figures["duration_us"] / 1e6,
                    requests=figures["requests"],
                    p50_ms=figures["p50_us"] / 1000,
                    p99_ms=figures["p99_us"] / 1000,
                    statuses={int(status): n for status, n in figures["statuses"].items()},
                    socket_errors=sum(figures[kind] for kind in ("connect", "read", "write", "timeout")),
                    pss_mib=workers.pss_mib(),
                    cpu_seconds=workers.cpu_seconds() - cpu_before,
                    load=os.getloadavg()[0],
                    warm_up=number == 1,
                )
                buckets.append(bucket)
                print(bucket_line(bucket, count, expected), flush=True)
            replaced = workers.replaced()
            logs = [instance.log_path for instance in instances]
        _delete_keys(redis_url, prefix)

    print()
    print(table(buckets, expected))
    print()
    print(f"soak: {summary(buckets)}; {time.monotonic() - started:.0f} s in all")
    print(f"soak: instance logs in {', '.join(map(str, logs))}")
    found = failures(buckets, expected, replaced)
    if found:
        print(f"soak: FAILED: {'; '.join(found)}")
        return 1
    print("soak: ok: no 5xx, no unexpected answer, p99 did not drift up, no worker's memory kept growing")
    return 0


def _delete_keys(redis_url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match=f"{prefix}:*"):
        client.delete(key)
    client.close()


if __name__ == "__main__":
    sys.exit(main())

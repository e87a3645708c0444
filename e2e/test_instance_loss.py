"""Losing an instance behind nginx in the middle of a stream of creates.

The loss of an instance is SIGKILL to its master and every worker at once (its
process group), as when its host, container or cgroup dies: nothing of it
finishes anything. To be sure the kill hits requests in flight, and creates
that the database will still apply after the instance is gone, the test
holds a table lock while it kills, until the doomed instance is inside an
INSERT, waiting. On the dead instance, those INSERTs still commit
once the lock is released (PostgreSQL notices the lost client only when it
answers), so a create its client saw fail may exist: exactly why nginx must
never send such a request to the other instance as well.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
import requests

from e2e.balancer import Balancer
from e2e.live import session_for

CLIENTS = 8  # each has at most one request in flight
WORKERS_PER_INSTANCE = 2
REQUEST_TIMEOUT = 60
WAIT_LIMIT = 30  # seconds any wait may take before the test fails


@dataclass
class Create:
    title: str
    request_id: str
    sent_at: float
    status: int | None = None
    failure: str | None = None  # an exception instead of an answer
    body: Any = None


class CreateStream:
    """CLIENTS clients sending creates with unique titles until stopped."""

    def __init__(self, balancer: Balancer, token: str) -> None:
        self.balancer = balancer
        self.token = token
        self.creates: list[Create] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=CLIENTS)
        self._futures: list[Future[None]] = []

    def __enter__(self) -> CreateStream:
        self._futures = [self._pool.submit(self._client, number) for number in range(CLIENTS)]
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for future in self._futures:
            future.result(timeout=WAIT_LIMIT + REQUEST_TIMEOUT)
        self._pool.shutdown()

    def _client(self, number: int) -> None:
        with session_for(self.balancer) as session:
            session.headers["Authorization"] = f"Bearer {self.token}"
            sent = 0
            while not self._stop.is_set():
                create = Create(f"loss {number}.{sent}", uuid.uuid4().hex, time.monotonic())
                sent += 1
                with self._lock:
                    self.creates.append(create)
                try:
                    response = session.post(
                        self.balancer.url("/api/tasks"),
                        json={"title": create.title},
                        headers={"X-Request-ID": create.request_id},
                        timeout=REQUEST_TIMEOUT,
                    )
                except requests.RequestException as exc:
                    create.failure = type(exc).__name__
                    continue
                json_answer = response.headers.get("Content-Type", "").startswith("application/json")
                create.body = response.json() if json_answer else response.text
                create.status = response.status_code

    def outcomes(self) -> Counter[str]:
        with self._lock:
            return Counter(str(create.status or create.failure) for create in self.creates)

    def acknowledged(self) -> list[Create]:
        with self._lock:
            return [create for create in self.creates if create.status == 201]

    def wait_for_acknowledged(self, count: int) -> None:
        deadline = time.monotonic() + WAIT_LIMIT
        while len(self.acknowledged()) < count:
            assert time.monotonic() < deadline, (
                f"only {len(self.acknowledged())} creates acknowledged: {self.outcomes()}"
            )
            time.sleep(0.02)


@contextmanager
def inserts_held(database_url: str) -> Iterator[None]:
    """Every INSERT into the task table waits until the block ends."""
    with psycopg.connect(database_url) as holder:
        holder.execute("LOCK TABLE tasks_task IN SHARE MODE")
        yield
        holder.commit()


def waiting_on_a_lock(pg: psycopg.Connection[Any], application_name: str) -> int:
    """Connections of one instance (named in its DATABASE_URL) waiting on a lock."""
    row = pg.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        " AND application_name = %s",
        [application_name],
    ).fetchone()
    assert row is not None
    return row[0]


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_LIMIT
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_losing_an_instance_mid_stream_loses_no_acknowledged_create_and_applies_none_twice(
    start_balanced: Callable[..., Balancer],
    token_for: Callable[..., str],
    pg: psycopg.Connection[Any],
    e2e_database: str,
    report_figure: Callable[[str], None],
) -> None:
    # Each instance names itself to PostgreSQL, so the test sees which one waits.
    balancer = start_balanced(
        name="instance-loss",
        WEB_CONCURRENCY=str(WORKERS_PER_INSTANCE),
        DATABASE_URL=f"{e2e_database}?application_name=doomed",
        b_overrides={"DATABASE_URL": f"{e2e_database}?application_name=survivor"},
    )
    doomed, survivor = balancer.instances
    user_id = f"loss-{uuid.uuid4().hex[:8]}"

    with CreateStream(balancer, token_for(user_id)) as stream:
        stream.wait_for_acknowledged(50)
        with inserts_held(e2e_database):
            wait_until(lambda: waiting_on_a_lock(pg, "doomed") >= 1, "the doomed instance to hold a create")
            killed_at = time.monotonic()
            doomed.kill_instance()
        acknowledged_at_kill = len(stream.acknowledged())
        stream.wait_for_acknowledged(acknowledged_at_kill + 50)

    rows = pg.execute("SELECT id, title FROM tasks_task WHERE user_id = %s", [user_id]).fetchall()
    stored = Counter(title for _, title in rows)
    # No create applied twice: nginx sent none that reached the dead instance to the survivor.
    assert [title for title, count in stored.items() if count > 1] == []
    # Every acknowledged create is stored, as acknowledged.
    assert {(c.body["id"], c.title) for c in stream.acknowledged()} <= set(rows)
    assert set(stored) <= {create.title for create in stream.creates}

    failed = [create for create in stream.creates if create.status != 201 and create.status is not None]
    assert [create.failure for create in stream.creates if create.failure] == []
    # The only errors: nginx's JSON 503 for requests the dead instance held when it died.
    assert {create.status for create in failed} <= {503}
    assert all(create.body == {"detail": "Service unavailable; try again shortly"} for create in failed)
    assert all(create.sent_at < killed_at for create in failed)
    entries = balancer.entries_for({create.request_id for create in failed})
    assert {entries[create.request_id]["upstream"] for create in failed} <= {f"127.0.0.1:{doomed.port}"}
    # It held at least one create inside an INSERT when it died: the kill hit
    # requests in flight, and there are at most as many as clients.
    assert 1 <= len(failed) <= CLIENTS

    applied_anyway = [create for create in failed if create.title in stored]
    after_kill = [c for c in stream.acknowledged() if c.sent_at > killed_at]
    assert after_kill
    assert {
        balancer.served_by(entry) for entry in balancer.entries_for({c.request_id for c in after_kill}).values()
    } == {survivor}
    report_figure(
        f"instance killed (SIGKILL to its process group) mid-stream through nginx: {len(stream.acknowledged())} "
        f"creates acknowledged, all stored once; {len(failed)} answered 503 (in flight on the dead instance), "
        f"{len(applied_anyway)} of them applied by the database all the same; "
        f"{len(after_kill)} acknowledged afterwards, all by the survivor"
    )

"""Stopping or crashing gunicorn loses nothing it acknowledged.

A stream of creates runs while the master gets SIGTERM, or one worker gets
SIGKILL; afterwards every task the client got a 201 for must be in the
database. A request that is provably in flight (held on a row lock the test
owns) must still complete during a graceful shutdown.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import psycopg
import requests

from e2e.live import LiveService

THREADS = 6
CREATES_PER_THREAD = 400  # an upper bound; the stream is stopped long before
REQUEST_TIMEOUT = 60
WAIT_LIMIT = 60  # seconds any wait for the service may take before the test fails


class CreateStream:
    """THREADS clients creating tasks for one user until stopped."""

    def __init__(self, service: LiveService, headers: dict[str, str]) -> None:
        self.service = service
        self.headers = headers
        self.acknowledged: list[int] = []
        self.outcomes: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=THREADS)
        self._futures: list[Future[None]] = []

    def __enter__(self) -> CreateStream:
        self._futures = [self._pool.submit(self._client, n) for n in range(THREADS)]
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for future in self._futures:
            future.result(timeout=WAIT_LIMIT + REQUEST_TIMEOUT)
        self._pool.shutdown()

    def _client(self, number: int) -> None:
        session = requests.Session()
        for sent in range(CREATES_PER_THREAD):
            if self._stop.is_set():
                break
            try:
                response = session.post(
                    self.service.url("/api/tasks"),
                    json={"title": f"stream {number}.{sent}"},
                    headers=self.headers,
                    timeout=REQUEST_TIMEOUT,
                )
            except requests.RequestException as exc:
                # Refused, reset, or cut off mid-body: not acknowledged, whether
                # or not the task was stored.
                self._count(type(exc).__name__)
                time.sleep(0.02)  # the server is going away or replacing a worker
                continue
            with self._lock:
                self.outcomes[str(response.status_code)] += 1
                if response.status_code == 201:
                    self.acknowledged.append(response.json()["id"])
        session.close()

    def _count(self, outcome: str) -> None:
        with self._lock:
            self.outcomes[outcome] += 1

    def wait_for_acknowledged(self, count: int) -> None:
        deadline = time.monotonic() + WAIT_LIMIT
        while len(self.acknowledged) < count:
            assert time.monotonic() < deadline, f"only {len(self.acknowledged)} creates acknowledged: {self.outcomes}"
            time.sleep(0.02)


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_LIMIT
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def stored_ids(pg: psycopg.Connection[Any], user_id: str) -> set[int]:
    return {row[0] for row in pg.execute("SELECT id FROM tasks_task WHERE user_id = %s", [user_id])}


def assert_nothing_acknowledged_was_lost(stream: CreateStream, pg: psycopg.Connection[Any], user_id: str) -> set[int]:
    stored = stored_ids(pg, user_id)
    acknowledged = set(stream.acknowledged)
    assert len(acknowledged) == len(stream.acknowledged)  # no id handed out twice
    assert acknowledged <= stored, sorted(acknowledged - stored)
    assert not any(outcome.startswith("5") for outcome in stream.outcomes), stream.outcomes
    return stored


@contextmanager
def row_locked(database_url: str, task_id: int) -> Iterator[psycopg.Connection[Any]]:
    """Hold the task's row lock until the block ends (or `.commit()`)."""
    with psycopg.connect(database_url) as holder:
        holder.execute("SELECT id FROM tasks_task WHERE id = %s FOR UPDATE", [task_id])
        yield holder
        holder.commit()


def requests_waiting_on_a_lock(pg: psycopg.Connection[Any]) -> int:
    row = pg.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    ).fetchone()
    assert row is not None  # count(*) always answers a row
    return row[0]


def test_sigterm_during_a_stream_of_creates_finishes_in_flight_requests_and_loses_nothing(
    start_service: Callable[..., LiveService],
    token_for: Callable[..., str],
    pg: psycopg.Connection[Any],
    e2e_database: str,
    report_figure: Callable[[str], None],
) -> None:
    service = start_service(name="sigterm")
    assert service.process is not None  # started
    user_id = f"sigterm-{uuid.uuid4().hex[:8]}"
    headers = {"Authorization": f"Bearer {token_for(user_id)}"}
    held = requests.post(service.url("/api/tasks"), json={"title": "Held"}, headers=headers, timeout=30).json()

    with ThreadPoolExecutor(max_workers=1) as background, row_locked(e2e_database, held["id"]) as holder:
        # A toggle that cannot finish until the test lets it: in flight for sure.
        in_flight = background.submit(
            requests.patch,
            service.url(f"/api/tasks/{held['id']}/complete"),
            headers=headers,
            timeout=REQUEST_TIMEOUT,
        )
        wait_until(lambda: requests_waiting_on_a_lock(pg) == 1, "the toggle to wait on the row lock")

        # Another user's creates: the held flip holds its user's lock (every
        # write of one user waits for the one before), not this user's.
        streamer_id = f"{user_id}-stream"
        with CreateStream(service, {"Authorization": f"Bearer {token_for(streamer_id)}"}) as stream:
            stream.wait_for_acknowledged(100)
            service.process.send_signal(signal.SIGTERM)
            wait_until(lambda: "Handling signal: term" in service.log(), "the master to handle SIGTERM")
            wait_until(lambda: len(service.worker_pids()) == 1, "the idle worker to exit")
            # The busy worker keeps the master waiting: its request is unfinished.
            assert service.process.poll() is None
            holder.commit()
            response = in_flight.result(timeout=WAIT_LIMIT)
            assert response.status_code == 200, response.text
            assert response.json()["completed"] is True
            assert service.process.wait(timeout=WAIT_LIMIT) == 0

    stream_stored = assert_nothing_acknowledged_was_lost(stream, pg, streamer_id)
    assert pg.execute("SELECT completed FROM tasks_task WHERE id = %s", [held["id"]]).fetchone() == (True,)
    report_figure(
        f"SIGTERM mid-stream: {len(stream.acknowledged)} creates acknowledged, all found; "
        f"{len(stream_stored)} stored; outcomes {dict(stream.outcomes)}; the in-flight toggle finished with 200"
    )


def test_sigkill_of_a_worker_mid_stream_loses_nothing_and_the_master_replaces_it(
    start_service: Callable[..., LiveService],
    token_for: Callable[..., str],
    pg: psycopg.Connection[Any],
    report_figure: Callable[[str], None],
) -> None:
    service = start_service(name="sigkill")
    user_id = f"sigkill-{uuid.uuid4().hex[:8]}"
    headers = {"Authorization": f"Bearer {token_for(user_id)}"}
    workers = service.worker_pids()
    assert len(workers) == 2

    with CreateStream(service, headers) as stream:
        stream.wait_for_acknowledged(100)
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        wait_until(lambda: len(service.worker_pids() - workers) == 1, "the master to boot a replacement")
        replaced_at = len(stream.acknowledged)
        stream.wait_for_acknowledged(replaced_at + 100)

    now = service.worker_pids()
    assert len(now) == 2
    assert victim not in now
    assert workers - {victim} <= now  # the other worker served on, untouched
    stored = assert_nothing_acknowledged_was_lost(stream, pg, user_id)
    report_figure(
        f"SIGKILL of worker {victim} mid-stream: {len(stream.acknowledged)} creates acknowledged, all found; "
        f"{len(stored)} stored; outcomes {dict(stream.outcomes)}"
    )


def test_a_worker_killed_inside_a_transaction_leaves_the_task_unchanged(
    start_service: Callable[..., LiveService],
    token_for: Callable[..., str],
    pg: psycopg.Connection[Any],
    e2e_database: str,
) -> None:
    service = start_service(name="sigkill-in-transaction", WEB_CONCURRENCY="1")
    headers = {"Authorization": f"Bearer {token_for(f'crash-{uuid.uuid4().hex[:8]}')}"}
    task = requests.post(service.url("/api/tasks"), json={"title": "Held"}, headers=headers, timeout=30).json()
    (worker,) = service.worker_pids()

    with ThreadPoolExecutor(max_workers=1) as background, row_locked(e2e_database, task["id"]) as holder:
        toggle = background.submit(
            requests.patch, service.url(f"/api/tasks/{task['id']}/complete"), headers=headers, timeout=REQUEST_TIMEOUT
        )
        wait_until(lambda: requests_waiting_on_a_lock(pg) == 1, "the toggle to wait on the row lock")
        os.kill(worker, signal.SIGKILL)
        try:
            answer = toggle.result(timeout=WAIT_LIMIT)
        except requests.RequestException:
            answer = None
        assert answer is None, "a killed worker cannot have answered"
        holder.commit()

    wait_until(lambda: len(service.worker_pids() - {worker}) == 1, "the master to boot a replacement")
    # The abandoned transaction never committed: the flip did not happen.
    wait_until(lambda: requests_waiting_on_a_lock(pg) == 0, "the orphaned backend to end")
    assert pg.execute("SELECT completed FROM tasks_task WHERE id = %s", [task["id"]]).fetchone() == (False,)
    again = requests.get(service.url(f"/api/tasks/{task['id']}"), headers=headers, timeout=REQUEST_TIMEOUT)
    assert again.status_code == 200
    assert again.json()["completed"] is False

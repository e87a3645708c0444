"""`Idempotency-Key` through gunicorn in production mode (DEBUG off, two
workers) on PostgreSQL: the first answer is replayed by the other worker, a
repeat in flight on the other worker is a 409, and a worker SIGKILLed while
it holds a key leaves no effect and blocks the key only until PostgreSQL has
ended its transaction.

A request is held mid-transaction by the user's order lock, which the test
holds and every create takes after the key's lock (tasks/changes.py): the
worker serving it is then busy, and the other worker answers the next."""

from __future__ import annotations

import json
import os
import signal
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import requests

from e2e.live import LiveService
from e2e.workers import worker_serving
from tasks.lock_keys import ORDER_LOCK, user_lock_key

TIMEOUT = 30
WAIT_LIMIT = 30


class User:
    def __init__(self, service: LiveService, token_for: Callable[..., str], name: str) -> None:
        self.service = service
        self.id = f"{name}-{uuid.uuid4().hex[:8]}"
        self.authorization = f"Bearer {token_for(self.id)}"
        assert self.create("first task").status_code == 201

    def create(self, title: str, key: str | None = None) -> requests.Response:
        headers = {"Authorization": self.authorization, **({"Idempotency-Key": key} if key else {})}
        return requests.post(self.service.url("/api/tasks"), json={"title": title}, headers=headers, timeout=TIMEOUT)

    def send_create(self, title: str, key: str | None = None) -> socket.socket:
        """A create written whole on a connection of its own, its answer not
        read yet: the worker that accepts it serves it while the test goes on."""
        body = json.dumps({"title": title}).encode()
        head = [
            "POST /api/tasks HTTP/1.1",
            f"Host: 127.0.0.1:{self.service.port}",
            f"Authorization: {self.authorization}",
            "Content-Type: application/json",
            f"Content-Length: {len(body)}",
            "Connection: close",
            *([f"Idempotency-Key: {key}"] if key else []),
        ]
        sock = socket.create_connection(("127.0.0.1", self.service.port), timeout=TIMEOUT)
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        return sock


def answer_status(sock: socket.socket) -> int | None:
    """The status the server answered on `sock`, None if it closed without one."""
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    sock.close()
    return int(received.split(b" ", 2)[1]) if received else None


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_LIMIT
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def backends_waiting_on_a_lock(pg: psycopg.Connection[Any]) -> list[int]:
    rows = pg.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    ).fetchall()
    return [pid for (pid,) in rows]


def backend_exists(pg: psycopg.Connection[Any], pid: int) -> bool:
    return pg.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone() is not None


@contextmanager
def order_lock_held(database_url: str, user: User) -> Iterator[psycopg.Connection[Any]]:
    """Hold the user's order lock until `.commit()` (or the block ends): their
    creates wait on it, mid-transaction, holding their key."""
    with psycopg.connect(database_url) as holder:
        holder.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ORDER_LOCK, user_lock_key(user.id)])
        yield holder
        holder.commit()


def titles(pg: psycopg.Connection[Any], user: User, title: str) -> int:
    row = pg.execute("SELECT count(*) FROM tasks_task WHERE user_id = %s AND title = %s", [user.id, title]).fetchone()
    assert row is not None
    return row[0]


def test_a_retry_on_the_other_worker_gets_the_first_answer(
    live_service: LiveService, token_for: Callable[..., str], pg: psycopg.Connection[Any], e2e_database: str
) -> None:
    alice = User(live_service, token_for, "idem-alice")
    blockers = User(live_service, token_for, "idem-blocker-a"), User(live_service, token_for, "idem-blocker-b")
    key = str(uuid.uuid4())

    with order_lock_held(e2e_database, blockers[0]) as hold_a, order_lock_held(e2e_database, blockers[1]):
        busy_a = blockers[0].send_create("keeps a worker busy")
        wait_until(lambda: len(backends_waiting_on_a_lock(pg)) == 1, "a worker to wait on blocker a")
        first = alice.create("Buy milk", key)  # answered by the other worker

        busy_b = blockers[1].send_create("keeps the other worker busy")
        wait_until(lambda: len(backends_waiting_on_a_lock(pg)) == 2, "the other worker to wait on blocker b")
        first_worker, second_worker = worker_serving(live_service, busy_b), worker_serving(live_service, busy_a)
        hold_a.commit()
        assert answer_status(busy_a) == 201
        retry = alice.create("Buy milk", key)  # answered by the worker blocker a held

    assert answer_status(busy_b) == 201
    assert first_worker != second_worker
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    assert retry.status_code == 201
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.content == first.content
    assert retry.headers["Location"] == first.headers["Location"]
    assert titles(pg, alice, "Buy milk") == 1


def test_a_worker_killed_holding_a_key_leaves_no_effect_and_the_retry_runs(
    start_service: Callable[..., LiveService],
    token_for: Callable[..., str],
    pg: psycopg.Connection[Any],
    e2e_database: str,
) -> None:
    service = start_service(name="idempotency-sigkill")
    alice = User(service, token_for, "idem-killed")
    key = str(uuid.uuid4())

    with order_lock_held(e2e_database, alice) as holder:
        in_flight = alice.send_create("Once", key)
        wait_until(lambda: len(backends_waiting_on_a_lock(pg)) == 1, "the create to wait on the order lock")
        (orphan,) = backends_waiting_on_a_lock(pg)

        repeat = alice.create("Once", key)  # the other worker: the key is in use

        victim = worker_serving(service, in_flight)
        os.kill(victim, signal.SIGKILL)
        assert answer_status(in_flight) is None, "a killed worker cannot have answered"
        # PostgreSQL ends the dead worker's transaction once it notices the
        # lost client, here when its wait for the row ends; until then the
        # transaction still runs, and holds the key.
        meanwhile = alice.create("Once", key)
        holder.commit()

    wait_until(lambda: not backend_exists(pg, orphan), "PostgreSQL to end the dead worker's transaction")
    assert titles(pg, alice, "Once") == 0
    retry = alice.create("Once", key)
    again = alice.create("Once", key)

    assert repeat.status_code == 409
    assert repeat.headers["Retry-After"] == "1"
    assert meanwhile.status_code == 409
    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.content == retry.content
    assert titles(pg, alice, "Once") == 1
    wait_until(lambda: len(service.worker_pids() - {victim}) == 2, "the master to replace the killed worker")

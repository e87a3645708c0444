"""`Idempotency-Key` across connections, on PostgreSQL: a repeat while the
first request still runs is a 409 with Retry-After, whichever worker or host
it reaches (a transaction-scoped advisory lock on user and key), and a request
whose connection dies leaves nothing behind, neither its effect nor a lock.

On SQLite (development only) every transaction takes the database's write
lock, so the repeat waits for the first request and gets its answer replayed.
Across gunicorn workers, with a worker killed: e2e/test_idempotency.py."""

import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from django.db import connection
from rest_framework.test import APIClient

from api.idempotency import lock_id
from api.models import IdempotencyRecord
from tasks.lock_keys import ORDER_LOCK, user_lock_key
from tasks.models import Task

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgresql_only")]

KEY = "retry-me"
IN_USE_DETAIL = "A request with this Idempotency-Key is still in progress; retry after Retry-After seconds"
WAIT_LIMIT = 30


def create(client: APIClient, title: str = "Buy milk", key: str = KEY):
    return client.post("/api/tasks", {"title": title}, format="json", HTTP_IDEMPOTENCY_KEY=key)


def requests_waiting_on_a_lock() -> list[int]:
    """Backend pids of the test database waiting for a lock (Django's own
    connection, in autocommit: each query sees the current activity)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return [row[0] for row in cursor.fetchall()]


def wait_for_a_request_waiting_on_a_lock() -> int:
    deadline = time.monotonic() + WAIT_LIMIT
    while not (waiting := requests_waiting_on_a_lock()):
        assert time.monotonic() < deadline, "the request never waited on the lock"
        time.sleep(0.02)
    (pid,) = waiting
    return pid


@contextmanager
def in_background(send: Callable[[], Any]) -> Iterator[Future[Any]]:
    """Run `send()` in a thread of its own, with its own database connection."""

    def run() -> Any:
        try:
            return send()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        yield pool.submit(run)


@pytest.fixture
def order_lock_held(other_connection: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
    """Alice's order lock held by another connection's transaction: her
    creates wait on it mid-transaction, holding their key, until `.commit()`."""
    other_connection.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ORDER_LOCK, user_lock_key("alice")])
    return other_connection


def test_a_repeat_while_the_first_runs_is_a_409_with_retry_after_then_replays_the_first(
    client_for: Callable[[str], APIClient], order_lock_held: psycopg.Connection[Any]
) -> None:
    with in_background(lambda: create(client_for("alice"))) as first:
        wait_for_a_request_waiting_on_a_lock()

        repeat = create(client_for("alice"))

        assert repeat.status_code == 409
        assert repeat.json() == {"detail": IN_USE_DETAIL}
        assert repeat["Retry-After"] == "1"
        assert "Idempotent-Replayed" not in repeat
        order_lock_held.commit()
        first_answer = first.result(timeout=WAIT_LIMIT)

    retry = create(client_for("alice"))

    assert first_answer.status_code == 201
    assert retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.content == first_answer.content
    assert Task.objects.filter(user_id="alice").count() == 1


def test_the_409_is_not_kept(client_for: Callable[[str], APIClient], order_lock_held: psycopg.Connection[Any]) -> None:
    with in_background(lambda: create(client_for("alice"), key="first")) as first:
        wait_for_a_request_waiting_on_a_lock()
        repeat = create(client_for("alice"), key="first")
        order_lock_held.commit()
        first.result(timeout=WAIT_LIMIT)

    assert repeat.status_code == 409
    assert list(IdempotencyRecord.objects.values_list("status", flat=True)) == [201]


def test_a_key_in_flight_blocks_neither_another_key_nor_another_user(
    client_for: Callable[[str], APIClient], order_lock_held: psycopg.Connection[Any]
) -> None:
    with in_background(lambda: create(client_for("alice"))) as first:
        wait_for_a_request_waiting_on_a_lock()

        bobs = create(client_for("bob"))  # the same key, another user: his own owner row

        order_lock_held.commit()
        first.result(timeout=WAIT_LIMIT)

    assert bobs.status_code == 201
    assert "Idempotent-Replayed" not in bobs


def test_a_request_whose_connection_dies_mid_transaction_leaves_neither_effect_nor_lock(
    client_for: Callable[[str], APIClient], order_lock_held: psycopg.Connection[Any]
) -> None:
    """What a worker killed mid-request leaves: PostgreSQL ends the
    transaction with the connection, and the advisory lock with it."""
    with in_background(lambda: create(client_for("alice"))) as first:
        pid = wait_for_a_request_waiting_on_a_lock()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        cut_off = first.result(timeout=WAIT_LIMIT)
    order_lock_held.commit()

    retry = create(client_for("alice"))

    assert cut_off.status_code == 503
    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry
    assert Task.objects.filter(user_id="alice").count() == 1
    assert list(IdempotencyRecord.objects.values_list("status", flat=True)) == [201]


def test_a_lock_held_by_a_connection_that_closes_is_released(
    alice: APIClient, other_connection: psycopg.Connection[Any]
) -> None:
    other_connection.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id("alice", KEY)])
    held = create(alice)

    other_connection.close()  # without COMMIT or ROLLBACK, as a process that dies
    after = create(alice)

    assert held.status_code == 409
    assert after.status_code == 201
    assert "Idempotent-Replayed" not in after


def test_the_lock_is_the_transactions_not_the_sessions(alice: APIClient) -> None:
    """Released at COMMIT: behind a transaction-pooling PgBouncer the next
    transaction on this server connection may be another client's."""
    create(alice)

    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
        acquired = other.execute("SELECT pg_try_advisory_lock(%s)", [lock_id("alice", KEY)]).fetchone()
        other.execute("SELECT pg_advisory_unlock_all()")

    assert acquired == (True,)

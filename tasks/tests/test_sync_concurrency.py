"""The sync guarantee under concurrent writers (docs/decisions/sync-change-numbers.md).

Eight writers, each on its own database connection, make well over a
thousand changes of every kind to one user's tasks, holding their
transactions open a little after each statement so that commits interleave
with the reads of a client that syncs in a loop meanwhile. The client
applies every delta in turn; at the end its copy must equal the user's live
tasks exactly, and no delta may ever hand it an older version of a task
than it already holds.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tasks.models import Task

WRITERS = 8
WRITES_PER_WRITER = 130  # 1,040 successful writes in all
SEED_TASKS = 40


def client_of(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def hold_the_transaction_open(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
    """After each write statement, keep the transaction (and its locks) a
    moment longer before it goes on to commit, so readers overlap it."""
    result = execute(sql, params, many, context)
    if sql.lstrip().startswith(("UPDATE", "INSERT", "DELETE")):
        time.sleep(random.uniform(0, 0.002))  # noqa: S311 (timing jitter)
    return result


class Writer(threading.Thread):
    def __init__(self, token: str, known: list[int], lock: threading.Lock, seed: int) -> None:
        super().__init__()
        self.token, self.known, self.lock = token, known, lock
        self.random = random.Random(seed)  # noqa: S311 (test data)
        self.writes = 0
        self.error: BaseException | None = None

    def pick(self) -> int:
        with self.lock:
            return self.random.choice(self.known)

    def run(self) -> None:
        client = client_of(self.token)
        try:
            with connection.execute_wrapper(hold_the_transaction_open):
                attempts = 0
                while self.writes < WRITES_PER_WRITER and attempts < WRITES_PER_WRITER * 4:
                    attempts += 1
                    response = self.write_once(client)
                    if response.status_code >= 500:
                        raise AssertionError(f"{response.status_code}: {response.content!r}")
                    if response.status_code in (200, 201, 204):
                        self.writes += 1
        except BaseException as error:  # reported by the test
            self.error = error
        finally:
            connection.close()

    def write_once(self, client: APIClient) -> Any:
        kind = self.random.choices(
            ["create", "patch", "flip", "move", "trash", "restore", "purge", "clear"],
            weights=[25, 20, 15, 15, 12, 8, 4, 1],
        )[0]
        task_id = self.pick()
        if kind == "create":
            response = client.post("/api/tasks", {"title": f"new {self.random.random()}"}, format="json")
            if response.status_code == 201:
                with self.lock:
                    self.known.append(response.json()["id"])
            return response
        if kind == "patch":
            body = {"title": f"edit {self.random.random()}", "priority": self.random.choice(["low", "high"])}
            return client.patch(f"/api/tasks/{task_id}", body, format="json")
        if kind == "flip":
            return client.patch(f"/api/tasks/{task_id}/complete")
        if kind == "move":
            return client.post(f"/api/tasks/{task_id}/move", {"after": self.pick()}, format="json")
        if kind == "trash":
            return client.delete(f"/api/tasks/{task_id}")
        if kind == "restore":
            return client.post(f"/api/trash/{task_id}/restore")
        if kind == "purge":
            return client.delete(f"/api/trash/{task_id}")
        return client.post("/api/tasks/clear-completed")


class Syncer(threading.Thread):
    """Full sync, then a delta after another until told to stop, then one last."""

    def __init__(self, token: str, stop: threading.Event) -> None:
        super().__init__()
        self.token, self.stop = token, stop
        self.copy: dict[int, dict[str, Any]] = {}
        self.deltas = 0
        self.changes_seen = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        client = client_of(self.token)
        try:
            answer = self.sync(client, None)
            while not self.stop.is_set():
                answer = self.sync(client, answer["sync_token"])
            self.sync(client, answer["sync_token"])
        except BaseException as error:
            self.error = error
        finally:
            connection.close()

    def sync(self, client: APIClient, token: str | None) -> dict[str, Any]:
        response = client.get("/api/sync", None if token is None else {"token": token})
        assert response.status_code == 200, response.content
        answer = response.json()
        ids = [item["id"] for item in answer["items"]]
        assert ids == sorted(set(ids)), "items not sorted by id, or an id twice"
        assert answer["deleted"] == sorted(set(answer["deleted"])), "deleted not sorted, or an id twice"
        assert not set(ids) & set(answer["deleted"]), "an id in both items and deleted"
        for item in answer["items"]:
            held = self.copy.get(item["id"])
            assert held is None or held["updated_at"] <= item["updated_at"], f"an older version of {item['id']}"
            self.copy[item["id"]] = item
        for task_id in answer["deleted"]:
            self.copy.pop(task_id, None)
        self.deltas += token is not None
        self.changes_seen += len(ids) + len(answer["deleted"])
        return answer


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("postgresql_only")
def test_a_client_applying_every_delta_never_diverges_under_concurrent_writers(make_token, make_task) -> None:
    known = [make_task(title=f"seed {n}").pk for n in range(SEED_TASKS)]
    make_task("bob", title="another user's, written meanwhile")
    lock, stop = threading.Lock(), threading.Event()
    token = make_token("alice")
    writers = [Writer(token, known, lock, seed) for seed in range(WRITERS - 1)]
    writers.append(Writer(make_token("bob"), [Task.objects.get(user_id="bob").pk], threading.Lock(), WRITERS))
    syncer = Syncer(token, stop)

    syncer.start()
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=600)
    stop.set()
    syncer.join(timeout=120)

    assert [writer.error for writer in writers] == [None] * WRITERS
    assert syncer.error is None, syncer.error
    assert sum(writer.writes for writer in writers) >= WRITERS * WRITES_PER_WRITER
    assert syncer.deltas >= 20, "the client synced too rarely to overlap the writers"
    live = {item["id"]: item for item in client_of(token).get("/api/tasks").json()["items"]}
    assert syncer.copy == live


def waiting_for_a_lock() -> bool:
    """Whether a transaction other than this connection's waits for a lock."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted AND pid <> pg_backend_pid()")
        (waiting,) = cursor.fetchone()
    return waiting > 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("postgresql_only")
def test_a_write_sent_in_the_middle_of_a_sync_comes_in_the_next_delta_only(make_token, make_task) -> None:
    """A write sent once a sync has taken its number waits until the sync
    has read, so it is neither in this delta (the next would bring it
    again) nor lost. Without the sync's lock it commits between the sync's
    statements, and comes in this delta."""
    task = make_task(title="before")
    token = make_token("alice")
    alice = client_of(token)
    start = alice.get("/api/sync").json()["sync_token"]
    writer: threading.Thread | None = None
    written = threading.Event()

    def patch_on_its_own_connection() -> None:
        client_of(token).patch(f"/api/tasks/{task.pk}", {"title": "meanwhile"}, format="json")
        written.set()
        connection.close()

    def write_after_the_number_is_taken(execute: Callable[..., Any], sql: str, *args: Any) -> Any:
        nonlocal writer
        result = execute(sql, *args)
        if "nextval" in sql and writer is None:
            writer = threading.Thread(target=patch_on_its_own_connection)
            writer.start()
            deadline = time.monotonic() + 10
            while not (written.is_set() or waiting_for_a_lock()) and time.monotonic() < deadline:
                time.sleep(0.01)
        return result

    with connection.execute_wrapper(write_after_the_number_is_taken):
        first = alice.get("/api/sync", {"token": start}).json()
    assert writer is not None
    writer.join(timeout=30)
    second = alice.get("/api/sync", {"token": first["sync_token"]}).json()

    assert written.is_set()
    assert first["items"] == [] and first["deleted"] == []
    assert [item["title"] for item in second["items"]] == ["meanwhile"]

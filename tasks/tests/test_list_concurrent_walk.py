"""Walking the pages of GET /api/tasks while another connection writes: every
task that did not change during the walk is visited exactly once, in order,
whatever is created, changed, moved or deleted meanwhile.

The writer is a thread with its own database connection. Between two pages
it always makes a batch of writes (the walk waits for them), so each walk is
interleaved with writes however the threads are scheduled; on PostgreSQL it
also keeps writing while the pages are read.
"""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, connections

from tasks.models import Task
from tasks.positions import key_between
from testing.listing import ORDERINGS, reference_order, stored_tasks, varied_tasks, walk

pytestmark = pytest.mark.django_db(transaction=True)

WRITES_PER_PAGE = 4
TIMEOUT_SECONDS = 60


class Writer(threading.Thread):
    """Creates, updates, moves and deletes `user_id`'s tasks through the ORM,
    remembering every task present at the start that it touched."""

    def __init__(self, user_id: str, initial_ids: list[int], *, free_running: bool, seed: int) -> None:
        super().__init__(daemon=True)
        self.user_id = user_id
        self.untouched = list(initial_ids)
        self.touched: set[int] = set()
        self.free_running = free_running
        self.rng = random.Random(seed)  # noqa: S311 (a reproducible mix of writes, not a secret)
        self.writes = 0
        self.error: BaseException | None = None
        self.stopping = threading.Event()
        self.changed = threading.Condition()
        self.wanted = 0

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                with self.changed:
                    self.changed.wait_for(self.may_write)
                    if self.stopping.is_set():
                        return
                self.write_once()
                with self.changed:
                    self.writes += 1
                    self.changed.notify_all()
        except BaseException as error:  # reported by the test
            self.error = error
            with self.changed:
                self.changed.notify_all()
        finally:
            connections.close_all()

    def may_write(self) -> bool:
        # Free running, it may be one batch ahead: writing while the next page is read.
        ahead = WRITES_PER_PAGE if self.free_running else 0
        return self.writes < self.wanted + ahead or self.stopping.is_set()

    def wait_for_a_batch(self) -> None:
        """Between two pages: return once WRITES_PER_PAGE more writes are done."""
        with self.changed:
            self.wanted = self.writes + WRITES_PER_PAGE
            self.changed.notify_all()
            assert self.changed.wait_for(
                lambda: self.writes >= self.wanted or self.error is not None, timeout=TIMEOUT_SECONDS
            )
        assert self.error is None, self.error

    def stop(self) -> None:
        self.stopping.set()
        with self.changed:
            self.changed.notify_all()
        self.join(TIMEOUT_SECONDS)

    def pick(self) -> Task | None:
        if not self.untouched:
            return None
        task_id = self.untouched.pop(self.rng.randrange(len(self.untouched)))
        self.touched.add(task_id)
        return Task.objects.get(id=task_id)

    def write_once(self) -> None:
        kind = self.rng.choice(["create", "update", "move", "delete", "complete"])
        if kind == "create":
            Task.objects.create(
                user_id=self.user_id,
                title=self.rng.choice(["apple", "Zebra", "new"]),
                priority=self.rng.randrange(4),
                due_date=datetime(2026, 3, 1, tzinfo=UTC).date() + timedelta(days=self.rng.randrange(-30, 30)),
            )
            return
        task = self.pick()
        if task is None:
            return
        if kind == "update":
            task.title = self.rng.choice(["aardvark", "ZZ top", "middle"])
            task.priority = self.rng.randrange(4)
            task.due_date, task.due_at = (
                None,
                datetime(2026, 3, 1, tzinfo=UTC) + timedelta(hours=self.rng.randrange(-900, 900)),
            )
            task.save(update_fields=["title", "priority", "due_date", "due_at"])
        elif kind == "complete":
            task.set_completed(None)
        elif kind == "move":
            positions = sorted(Task.objects.filter(user_id=self.user_id).values_list("position", flat=True))
            index = self.rng.randrange(len(positions) - 1)
            Task.objects.filter(id=task.id).update(position=key_between(positions[index], positions[index + 1]))
        else:
            task.delete()


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_a_walk_visits_each_unchanged_task_once_in_order_while_another_connection_writes(alice, ordering):
    varied_tasks("alice", 80, seed=11)
    varied_tasks("bob", 20, seed=12)
    initial = stored_tasks("alice")
    writer = Writer("alice", [task.id for task in initial], free_running=connection.vendor == "postgresql", seed=13)
    writer.start()
    try:
        walked = walk(
            alice, {"ordering": ordering, "tz": "America/Santiago"}, limit=7, between_pages=writer.wait_for_a_batch
        )
    finally:
        writer.stop()
    assert writer.error is None, writer.error

    unchanged = [task for task in initial if task.id not in writer.touched]
    unchanged_ids = {task.id for task in unchanged}
    walked_ids = [item["id"] for item in walked]
    assert writer.writes >= WRITES_PER_PAGE * 8  # the walk really was interleaved with writes
    assert len(writer.touched) >= 10
    assert [task_id for task_id in walked_ids if task_id in unchanged_ids] == reference_order(
        unchanged, ordering, "America/Santiago"
    )

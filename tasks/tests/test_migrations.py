"""The planning migration (0002-0004), run forward from 0001 with tasks in the
database: existing tasks get positions in their newest-first order and
completed_at; tasks that the previous version inserts or flips after the
backfill are handled by the last step; an interrupted backfill resumes.

Each scenario migrates once (module-scoped, through django_db_blocker) and its
tests read what it recorded; the database is left at the latest migration.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tasks import planning_backfill
from tasks.models import Task
from tasks.positions import is_valid_key

FIRST = [("tasks", "0001_initial")]
BEFORE_PLANNING_BACKFILL = [("tasks", "0002_planning")]
AFTER_PLANNING_BACKFILL = [("tasks", "0003_planning_backfill")]
USERS = ["alice", "bob", "carol"]
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
LATER = T0 + timedelta(days=1)


def migrate(targets: list[tuple[str, str]]) -> Any:
    """Migrate to `targets`; the historical Task model of that state."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps.get_model("tasks", "Task")


def latest() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes("tasks")


def insert_tasks(task_model: Any) -> None:
    """Several users, completed and pending tasks, and pairs of tasks that
    share a created_at, which their ids order."""
    for user_id, count in zip(USERS, [7, 4, 1], strict=True):
        for n in range(count):
            created = T0 + timedelta(minutes=n // 2)
            task_model.objects.create(
                user_id=user_id,
                title=f"{user_id} {n}",
                completed=n % 3 == 0,
                created_at=created,
                updated_at=created + timedelta(hours=n + 1),
            )


def newest_first(task_model: Any, user_id: str) -> list[int]:
    tasks = task_model.objects.filter(user_id=user_id).order_by("-created_at", "-id")
    return list(tasks.values_list("id", flat=True))


def by_position(user_id: str) -> list[int]:
    return list(Task.objects.filter(user_id=user_id).order_by("position").values_list("id", flat=True))


@dataclass
class Scenario:
    expected_order: dict[str, list[int]]  # user id: task ids, newest first, before the migration
    order: dict[str, list[int]]  # user id: task ids by position, after it
    before: list[Any]  # the rows before, as dicts
    after: list[Any]  # the rows after, as dicts


@pytest.fixture(scope="module")
def run_scenario(django_db_setup: None, django_db_blocker: Any) -> Iterator[Callable[..., Scenario]]:
    """run_scenario(after_backfill=None): tasks inserted at 0001, the migration
    run forward; after_backfill(task_model), if given, runs at 0003 as the
    previous version of the app would. Cleans up afterwards."""

    def run(after_backfill: Callable[[Any], None] | None = None) -> Scenario:
        task_model = migrate(FIRST)
        insert_tasks(task_model)
        if after_backfill is not None:
            task_model = migrate(AFTER_PLANNING_BACKFILL)
            after_backfill(task_model)
        before = list(task_model.objects.values())
        users = sorted({row["user_id"] for row in before})
        expected_order = {user_id: newest_first(task_model, user_id) for user_id in users}
        migrate(latest())
        return Scenario(
            expected_order=expected_order,
            order={user_id: by_position(user_id) for user_id in users},
            before=before,
            after=list(Task.objects.values()),
        )

    with django_db_blocker.unblock():
        try:
            yield run
        finally:
            migrate(latest())
            Task.objects.all().delete()


@pytest.fixture(scope="module")
def existing_tasks(run_scenario: Callable[..., Scenario]) -> Scenario:
    return run_scenario()


@pytest.fixture(scope="module")
def meanwhile(run_scenario: Callable[..., Scenario]) -> Scenario:
    return run_scenario(after_backfill=previous_version)


class TestExistingTasks:
    def test_positions_follow_the_newest_first_order_of_each_user(self, existing_tasks: Scenario) -> None:
        assert existing_tasks.order == existing_tasks.expected_order

    def test_positions_are_valid_keys_unique_per_user(self, existing_tasks: Scenario) -> None:
        positions = [(row["user_id"], row["position"]) for row in existing_tasks.after]
        assert all(is_valid_key(position) for _, position in positions)
        assert len(set(positions)) == len(positions)

    def test_completed_tasks_get_completed_at_from_updated_at_pending_ones_none(self, existing_tasks: Scenario) -> None:
        assert {row["completed"] for row in existing_tasks.after} == {True, False}
        for row in existing_tasks.after:
            assert row["completed_at"] == (row["updated_at"] if row["completed"] else None)

    def test_priority_is_none_and_nothing_is_due(self, existing_tasks: Scenario) -> None:
        assert {(row["priority"], row["due_date"], row["due_at"]) for row in existing_tasks.after} == {(0, None, None)}

    def test_the_other_fields_are_kept(self, existing_tasks: Scenario) -> None:
        kept = ["id", "user_id", "title", "description", "completed", "created_at", "updated_at"]

        def unchanged(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
            return sorted(tuple(row[field] for field in kept) for row in rows)

        assert unchanged(existing_tasks.after) == unchanged(existing_tasks.before)


class TestWhatThePreviousVersionDoesDuringTheMigration:
    """Tasks it inserts (without a position) and flips (without completed_at)
    after the backfill: the last step handles them before position becomes
    NOT NULL."""

    def test_its_new_tasks_go_before_the_users_first_task_newest_first(self, meanwhile: Scenario) -> None:
        late = {row["id"]: row for row in meanwhile.after if row["title"].startswith("late")}
        late_alice = sorted((row["created_at"], task_id) for task_id, row in late.items() if row["user_id"] == "alice")

        assert meanwhile.order["alice"][:2] == [task_id for _, task_id in reversed(late_alice)]
        assert meanwhile.order["dave"] == [task_id for task_id, row in late.items() if row["user_id"] == "dave"]
        assert meanwhile.order == meanwhile.expected_order

    def test_every_task_has_a_unique_position(self, meanwhile: Scenario) -> None:
        positions = [(row["user_id"], row["position"]) for row in meanwhile.after]
        assert all(is_valid_key(position) for _, position in positions)
        assert len(set(positions)) == len(positions) == len(meanwhile.before)

    def test_its_new_tasks_get_priority_none(self, meanwhile: Scenario) -> None:
        assert {row["priority"] for row in meanwhile.after if row["title"].startswith("late")} == {0}

    def test_tasks_it_flipped_get_completed_at_right(self, meanwhile: Scenario) -> None:
        flipped = [row for row in meanwhile.after if row["user_id"] == "bob" and row["updated_at"] == LATER]
        assert {row["completed"] for row in flipped} == {True, False}
        for row in flipped:
            assert row["completed_at"] == (LATER if row["completed"] else None)


def previous_version(task_model: Any) -> None:
    """What the previous version of the app does between the backfill and the
    last step: it inserts tasks with the columns it knows, and flips tasks
    without touching completed_at."""
    assert not task_model.objects.filter(position=None).exists()
    for n, user_id in enumerate(["alice", "dave", "alice"]):
        created = LATER + timedelta(minutes=n)
        if connection.vendor == "postgresql":
            # Only PostgreSQL keeps priority's default for it until the last step;
            # on SQLite (development) no previous version runs meanwhile.
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO tasks_task (user_id, title, description, completed, created_at, updated_at) "
                    "VALUES (%s, %s, NULL, false, %s, %s)",
                    [user_id, f"late {n}", created, created],
                )
        else:
            task_model.objects.create(user_id=user_id, title=f"late {n}", created_at=created, updated_at=created)
    completed = task_model.objects.filter(user_id="bob", completed=False).order_by("id").first()
    reopened = task_model.objects.filter(user_id="bob", completed=True).order_by("id").first()
    for task in [completed, reopened]:
        task.completed, task.updated_at = not task.completed, LATER
        task.save()


class Interrupted(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_an_interrupted_backfill_resumes_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    task_model = migrate(FIRST)
    try:
        insert_tasks(task_model)
        expected = {user_id: newest_first(task_model, user_id) for user_id in USERS}
        monkeypatch.setattr(planning_backfill, "BATCH_SIZE", 2)
        write_positions = planning_backfill._write_positions
        written: list[int] = []

        def stop_after_two_batches(*args: Any) -> int:
            if len(written) == 2:
                raise Interrupted
            written.append(write_positions(*args))
            return written[-1]

        monkeypatch.setattr(planning_backfill, "_write_positions", stop_after_two_batches)
        with pytest.raises(Interrupted):
            migrate(latest())
        assert migrate(BEFORE_PLANNING_BACKFILL).objects.exclude(position=None).count() == 4
        monkeypatch.setattr(planning_backfill, "_write_positions", write_positions)

        migrate(latest())

        assert {user_id: by_position(user_id) for user_id in USERS} == expected
    finally:
        migrate(latest())

"""`manage.py purge_trash`: operators run it from cron to delete for good
the tasks trashed more than TRASH_RETENTION_DAYS ago, and to drop the
tombstones older than that. It runs beside the service's traffic and beside
another run of itself."""

import threading
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from tasks.changes import lock_for_writing
from tasks.models import Task, TaskTombstone
from tasks.trash import purge_expired, restore
from testing.sync import changes_since, sync_token

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def purge_trash(*args: str) -> str:
    out = StringIO()
    call_command("purge_trash", *args, stdout=out)
    return out.getvalue()


def tombstone(task_id: int, age: timedelta, user_id: str = "alice") -> TaskTombstone:
    return TaskTombstone.objects.create(user_id=user_id, task_id=task_id, change_seq=1, purged_at=timezone.now() - age)


def every_row() -> tuple[list[tuple], list[tuple]]:
    return (
        list(Task.all_objects.order_by("pk").values_list()),
        list(TaskTombstone.objects.order_by("pk").values_list()),
    )


@pytest.fixture
def trash_of_every_age(make_task) -> dict[str, Task]:
    now = timezone.now()
    return {
        "old": make_task(deleted_at=now - 31 * DAY),
        "bobs_old": make_task("bob", deleted_at=now - 40 * DAY),
        "young": make_task(deleted_at=now - 29 * DAY),
        "live": make_task(created_at=now - 400 * DAY),
    }


def test_the_default_retention_is_thirty_days(settings) -> None:
    assert settings.TRASH_RETENTION_DAYS == 30


def test_purges_tasks_trashed_longer_ago_than_the_retention(trash_of_every_age) -> None:
    purge_trash()

    remaining = set(Task.all_objects.values_list("pk", flat=True))
    assert remaining == {trash_of_every_age["young"].pk, trash_of_every_age["live"].pk}


def test_keeps_younger_trash_and_live_tasks_as_they_were(trash_of_every_age) -> None:
    kept = [trash_of_every_age["young"].pk, trash_of_every_age["live"].pk]
    before = list(Task.all_objects.filter(pk__in=kept).order_by("pk").values())

    purge_trash()

    assert list(Task.all_objects.filter(pk__in=kept).order_by("pk").values()) == before


def test_follows_trash_retention_days(make_task, settings) -> None:
    settings.TRASH_RETENTION_DAYS = 7
    now = timezone.now()
    older = make_task(deleted_at=now - 7 * DAY - timedelta(minutes=1))
    younger = make_task(deleted_at=now - 7 * DAY + timedelta(minutes=1))

    purge_trash()

    assert list(Task.all_objects.values_list("pk", flat=True)) == [younger.pk]
    assert not Task.all_objects.filter(pk=older.pk).exists()


def test_purged_tasks_leave_tombstones_that_sync_reports(alice, bob, trash_of_every_age) -> None:
    tokens = {"alice": sync_token(alice), "bob": sync_token(bob)}

    purge_trash()

    assert sorted(TaskTombstone.objects.values_list("user_id", "task_id")) == sorted(
        [("alice", trash_of_every_age["old"].pk), ("bob", trash_of_every_age["bobs_old"].pk)]
    )
    assert changes_since(alice, tokens["alice"]) == ([], [trash_of_every_age["old"].pk])
    assert changes_since(bob, tokens["bob"]) == ([], [trash_of_every_age["bobs_old"].pk])


def test_drops_tombstones_older_than_the_retention_and_keeps_younger_ones() -> None:
    tombstone(1, 31 * DAY)
    tombstone(2, 40 * DAY, "bob")
    young = tombstone(3, 29 * DAY)

    purge_trash()

    assert list(TaskTombstone.objects.values_list("pk", flat=True)) == [young.pk]


def test_says_what_it_did(trash_of_every_age) -> None:
    tombstone(1, 31 * DAY)

    output = purge_trash()

    assert output == "Purged 2 task(s) trashed more than 30 day(s) ago and dropped 1 tombstone(s).\n"


def test_a_second_run_finds_nothing_left(trash_of_every_age) -> None:
    purge_trash()
    after_first = every_row()

    assert purge_trash() == "Purged 0 task(s) trashed more than 30 day(s) ago and dropped 0 tombstone(s).\n"
    assert every_row() == after_first


def test_dry_run_counts_and_writes_nothing(trash_of_every_age) -> None:
    tombstone(1, 31 * DAY)
    tombstone(2, 1 * DAY)
    before = every_row()

    output = purge_trash("--dry-run")

    assert every_row() == before
    assert output == (
        "Would purge 2 task(s) trashed more than 30 day(s) ago and drop 1 tombstone(s) (dry run: nothing written).\n"
    )


def test_each_users_purge_is_in_that_users_next_sync(trash_of_every_age, alice, bob) -> None:
    tokens = {"alice": sync_token(alice), "bob": sync_token(bob)}

    purge_trash()

    assert changes_since(alice, tokens["alice"]) == ([], [trash_of_every_age["old"].pk])
    assert changes_since(bob, tokens["bob"]) == ([], [trash_of_every_age["bobs_old"].pk])


@pytest.mark.parametrize("count", [1, 30])
def test_a_users_purge_is_a_fixed_number_of_queries(make_task, django_assert_num_queries, count) -> None:
    for _ in range(count):
        make_task(deleted_at=timezone.now() - 31 * DAY)

    # the users, then (a savepoint around) the user's locks, the ids, the
    # tombstones and the delete, then the tombstones dropped
    with django_assert_num_queries(8):
        assert purge_expired() == (count, 0)


class TestBesideTraffic:
    """On PostgreSQL, with real transactions: each user's purge waits for
    that user's write in progress (its order lock), and two runs at once
    purge each task once."""

    pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgresql_only")]

    def test_a_task_restored_while_the_purge_waits_is_not_purged(self, make_task) -> None:
        task = make_task(deleted_at=timezone.now() - 31 * DAY)
        locked, done = threading.Event(), threading.Event()
        errors: list[BaseException] = []

        def restoring() -> None:
            try:
                with transaction.atomic():
                    lock_for_writing("alice", order=True)
                    locked.set()
                    time.sleep(0.5)  # the purge starts meanwhile, and must wait for this lock
                    restore(Task.all_objects.get(pk=task.pk))
            except BaseException as error:  # reported below
                errors.append(error)
            finally:
                done.set()
                connection.close()

        writer = threading.Thread(target=restoring)
        writer.start()
        assert locked.wait(10)
        purged, _ = purge_expired()
        writer.join(10)

        assert errors == []
        assert done.is_set()
        assert purged == 0
        assert Task.objects.filter(pk=task.pk).exists()
        assert not TaskTombstone.objects.exists()

    def test_two_runs_at_once_purge_each_task_once(self, make_task) -> None:
        old = timezone.now() - 31 * DAY
        tasks = [make_task(f"user-{n % 8}", deleted_at=old) for n in range(40)]
        barrier = threading.Barrier(2)
        results: list[tuple[int, int]] = []
        errors: list[BaseException] = []

        def run() -> None:
            try:
                barrier.wait(10)
                results.append(purge_expired())
            except BaseException as error:  # reported below
                errors.append(error)
            finally:
                connection.close()

        runs = [threading.Thread(target=run) for _ in range(2)]
        for thread in runs:
            thread.start()
        for thread in runs:
            thread.join(60)

        assert errors == []
        assert sum(purged for purged, _ in results) == len(tasks)
        assert not Task.all_objects.exists()
        assert sorted(TaskTombstone.objects.values_list("task_id", flat=True)) == sorted(task.pk for task in tasks)

"""The trash: deleting a task moves it here; it can be restored, or purged
for good (by the user, or by `manage.py purge_trash` after
TRASH_RETENTION_DAYS).

Every function here writes, and its caller holds the user's write locks
with the order lock (tasks/changes.py): the rows written record a change
number, which is how GET /api/sync learns about them. A purged task leaves
a TaskTombstone.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from tasks.changes import lock_for_writing
from tasks.models import Task, TaskTombstone, change_number
from tasks.quota import check_room_for_one_more


def move_to_trash(task: Task) -> None:
    """Trash a live task. Its fields, `updated_at` included, stay as they
    were: a restore brings them back."""
    task.deleted_at = timezone.now()
    Task.all_objects.filter(pk=task.pk).update(deleted_at=task.deleted_at, change_seq=change_number(task.user_id))


def move_all_to_trash(tasks: QuerySet[Task], user_id: str) -> list[int]:
    """Trash the user's live `tasks` in one step; their ids, ascending. The
    rows are locked as they are read, so a task flipped meanwhile is judged
    as the flip left it."""
    live = tasks.filter(user_id=user_id, deleted_at__isnull=True).select_for_update()
    ids = sorted(live.values_list("pk", flat=True))
    if ids:
        Task.all_objects.filter(pk__in=ids).update(deleted_at=timezone.now(), change_seq=change_number(user_id))
    return ids


def restore(task: Task) -> None:
    """Make a trashed task live again, in its old place in the manual order
    (no other task can have taken its position), unless the user is at
    TASKS_MAX_PER_USER. Its `updated_at` moves."""
    check_room_for_one_more(Task.objects.filter(user_id=task.user_id).count())
    task.deleted_at = None
    task.save(update_fields=["deleted_at"])


def purge(tasks: QuerySet[Task], user_id: str) -> int:
    """Delete the user's `tasks` for good, leaving a tombstone for each, so a
    sync that started before knows they are gone. How many were deleted."""
    ids = list(tasks.filter(user_id=user_id).values_list("pk", flat=True))
    if ids:
        TaskTombstone.objects.bulk_create(
            TaskTombstone(user_id=user_id, task_id=task_id, change_seq=change_number(user_id)) for task_id in ids
        )
        Task.all_objects.filter(pk__in=ids).delete()
    return len(ids)


def retention_cutoff(now: datetime | None = None) -> datetime:
    """Tasks trashed before this moment, and tombstones older than it, are due for purging."""
    return (now or timezone.now()) - timedelta(days=settings.TRASH_RETENTION_DAYS)


def purge_expired(now: datetime | None = None) -> tuple[int, int]:
    """What `manage.py purge_trash` does: purge the tasks trashed more than
    TRASH_RETENTION_DAYS ago, one user at a time (each under their write
    locks, in its own transaction), then drop tombstones older than that: no valid
    sync token predates them. Returns (tasks purged, tombstones dropped)."""
    cutoff = retention_cutoff(now)
    expired = Task.all_objects.filter(deleted_at__lt=cutoff)
    purged = 0
    for user_id in _distinct_users(expired):
        with transaction.atomic():
            lock_for_writing(user_id, order=True)
            purged += purge(expired, user_id)
    dropped, _ = TaskTombstone.objects.filter(purged_at__lt=cutoff).delete()
    return purged, dropped


def count_expired(now: datetime | None = None) -> tuple[int, int]:
    """What purge_expired would do now: (tasks to purge, tombstones to drop),
    not counting the tombstones the purge itself would leave."""
    cutoff = retention_cutoff(now)
    return (
        Task.all_objects.filter(deleted_at__lt=cutoff).count(),
        TaskTombstone.objects.filter(purged_at__lt=cutoff).count(),
    )


def _distinct_users(tasks: QuerySet[Task]) -> Iterable[str]:
    return list(tasks.order_by("user_id").values_list("user_id", flat=True).distinct())

"""The planning migration's backfill (tasks/migrations/0003 and 0004): existing
tasks get positions in their newest-first order, and completed ones get
completed_at, on a live database.

It works in short transactions of about BATCH_SIZE rows, and only on tasks
without a position, so it may be interrupted and run again, and it may run
while the previous version of the app inserts tasks (without a position) and
flips `completed` (without touching completed_at). The migration's last step
runs it again for those: a task inserted meanwhile is the newest, so it goes
before the user's first task.

The functions take the historical Task model of the migration state.
"""

from collections.abc import Sequence
from itertools import groupby
from operator import itemgetter
from typing import Any

from django.db import connections, models, transaction
from django.db.models import F

from tasks.positions import keys_between

BATCH_SIZE = 1000
USERS_PER_READ = 100

# A position for each (id, position) of the batch, and completed_at.
UPDATE_POSITIONS = (
    'UPDATE "tasks_task" SET "position" = batch.position, '
    '"completed_at" = CASE WHEN "tasks_task"."completed" THEN "tasks_task"."updated_at" END '
    "FROM {batch} "
    'WHERE "tasks_task"."id" = batch.id AND "tasks_task"."position" IS NULL'
)


def keys_for_missing(positions: Sequence[str | None]) -> dict[int, str]:
    """Keys for the missing (None) entries of one user's positions listed
    newest first, by index: each run of missing ones gets ascending keys
    between the positions around it, so the order stays newest first. A run
    whose neighbours are out of order (the user has moved tasks since) goes
    before the user's first task."""
    keys: dict[int, str] = {}
    lowest = min((p for p in positions if p is not None), default=None)
    start = 0
    while start < len(positions):
        if positions[start] is not None:
            start += 1
            continue
        end = start
        while end < len(positions) and positions[end] is None:
            end += 1
        low = positions[start - 1] if start > 0 else None
        high = positions[end] if end < len(positions) else None
        if low is not None and high is not None and low >= high:
            low, high = None, lowest
        run = keys_between(low, high, end - start)
        keys.update(zip(range(start, end), run, strict=True))
        if lowest is None or run[0] < lowest:
            lowest = run[0]
        start = end
    return keys


def fill_positions(task_model: type[models.Model], using: str) -> int:
    """Give every task without a position one, in transactions of about
    BATCH_SIZE rows; completed_at too for those rows. Reads the users with
    such tasks USERS_PER_READ at a time, in user id order. Returns how many
    tasks it gave a position."""
    tasks = task_model._default_manager.using(using)
    written = 0
    pending: list[tuple[int, str]] = []
    after = ""  # user ids are never empty (task_user_id_length)
    while users := list(
        tasks.filter(position__isnull=True, user_id__gt=after)
        .order_by("user_id")
        .values_list("user_id", flat=True)
        .distinct()[:USERS_PER_READ]
    ):
        rows = tasks.filter(user_id__in=users).order_by("user_id", "-created_at", "-id")
        for _, user_rows in groupby(rows.values_list("user_id", "id", "position"), key=itemgetter(0)):
            ids, positions = zip(*((task_id, position) for _, task_id, position in user_rows), strict=True)
            pending += [(ids[index], key) for index, key in keys_for_missing(positions).items()]
        while len(pending) >= BATCH_SIZE:
            written += _write_positions(pending[:BATCH_SIZE], using)
            pending = pending[BATCH_SIZE:]
        after = users[-1]
    return written + _write_positions(pending, using)


def _write_positions(positions: list[tuple[int, str]], using: str) -> int:
    """One UPDATE in its own transaction, joined to the new keys (a CASE with
    a branch per row would cost a quadratic amount of work). completed_at
    comes from the row as it is when written: a task completed meanwhile gets
    the updated_at of that write."""
    if not positions:
        return 0
    connection = connections[using]
    ids, keys = (list(column) for column in zip(*positions, strict=True))
    params: list[Any]
    if connection.vendor == "postgresql":
        # Two array parameters, rather than a VALUES list of thousands.
        batch, params = "unnest(%s::bigint[], %s::text[]) AS batch (id, position)", [ids, keys]
    else:
        values = ", ".join(["(%s, %s)"] * len(positions))  # placeholders only
        batch = f"(SELECT column1 AS id, column2 AS position FROM (VALUES {values})) AS batch"  # noqa: S608
        params = [value for row in positions for value in row]
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute(UPDATE_POSITIONS.format(batch=batch), params)
        return cursor.rowcount


def sync_completed_at(task_model: type[models.Model], using: str, batch_size: int = 10 * BATCH_SIZE) -> int:
    """completed_at for the tasks whose `completed` the previous version of
    the app flipped after the backfill: the updated_at of the flip when
    completed, null when pending. Walks the table by id range, a transaction
    per range. Returns how many rows it changed."""
    tasks = task_model._default_manager.using(using)
    changed = 0
    last = tasks.aggregate(last=models.Max("id"))["last"] or 0
    for start in range(0, last + 1, batch_size):
        in_range = tasks.filter(id__gte=start, id__lt=start + batch_size)
        with transaction.atomic(using=using):
            changed += in_range.filter(completed=True, completed_at__isnull=True).update(completed_at=F("updated_at"))
            changed += in_range.filter(completed=False, completed_at__isnull=False).update(completed_at=None)
    return changed

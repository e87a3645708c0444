"""The locks a write to a user's tasks takes, and the one GET /api/sync takes.

On PostgreSQL, every write to a user's tasks takes the user's sync lock in
shared mode as its first statement (a transaction-scoped advisory lock, so
it holds until the write commits, also through a transaction-pooling
PgBouncer), then stamps the rows it writes with numbers from one sequence
(tasks.models.change_number). Writes never wait for each other there. A
sync takes the same lock exclusively: it waits until the user's writes in
progress have committed, and keeps new ones out while it reads. So every
number it hands out, all lower numbers of the user are committed, and no
write of theirs will ever get a lower one
(docs/decisions/sync-change-numbers.md).

What else a write needs, it takes after that, always in this order, so two
writes never deadlock:

1. the user's order lock (advisory, exclusive), for writes that allocate a
   position, count the quota, or write more than one task: create, move,
   restore, clear-completed, purge, the admin's;
2. the rows it writes (SELECT ... FOR UPDATE, or the UPDATE itself): a flip
   of one task waits for another flip of it, not for the user's other tasks.
   A write of one task takes the sync lock in the statement that reads its
   row (read_with_sync_lock), before the row lock.

SQLite runs one write transaction at a time (BEGIN IMMEDIATE), so it needs
neither lock: a write takes the user's next number from their counter
(TaskOwner), and a sync reads in its own transaction.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import CharField, Expression, Model, QuerySet
from rest_framework.exceptions import APIException

from tasks.lock_keys import ORDER_LOCK, SYNC_LOCK, user_lock_key
from tasks.models import CHANGE_NUMBER_SEQUENCE, TaskOwner

T = TypeVar("T")
M = TypeVar("M", bound=Model)


def lock_for_writing(user_id: str, *, order: bool = False) -> None:
    """Take the user's sync lock in shared mode, and their order lock if
    `order`, until the transaction ends (SQLite: take the next number).
    Call it inside transaction.atomic(), as its first statement."""
    if connection.vendor != "postgresql":
        TaskOwner.take_next_number(user_id)
        return
    key = user_lock_key(user_id)
    with connection.cursor() as cursor:
        if order:
            # One round trip, the sync lock first: the subquery runs before
            # the outer select (OFFSET 0 keeps the planner from merging them).
            # In the other order, a write holding the order lock could queue
            # behind a sync that waits for a write waiting for that order lock.
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)"
                " FROM (SELECT pg_advisory_xact_lock_shared(%s, %s) OFFSET 0) AS sync_lock",
                [ORDER_LOCK, key, SYNC_LOCK, key],
            )
        else:
            cursor.execute("SELECT pg_advisory_xact_lock_shared(%s, %s)", [SYNC_LOCK, key])


class SharedSyncLock(Expression):
    """Takes the user's sync lock in shared mode wherever the database
    evaluates it (PostgreSQL): annotated on the row that a write of one task
    reads, it costs no statement of its own. A row's projection runs before
    FOR UPDATE locks it, so the sync lock still comes first. (No source
    expressions: it compiles to its SQL at once, on the path of every write.)"""

    output_field = CharField()  # the function returns void

    def __init__(self, user_id: str) -> None:
        super().__init__()
        self.key = user_lock_key(user_id)

    def as_sql(self, compiler: Any, connection: BaseDatabaseWrapper) -> tuple[str, list[str | int]]:
        return "pg_advisory_xact_lock_shared(%s, %s)", [SYNC_LOCK, self.key]


def read_with_sync_lock(queryset: QuerySet[M], user_id: str) -> QuerySet[M]:
    """`queryset`, whose rows, when it reads any, come with the user's sync
    lock taken in shared mode (PostgreSQL; see user_write's
    `read_takes_sync_lock`)."""
    if connection.vendor != "postgresql":
        return queryset
    return queryset.annotate(sync_lock_taken=SharedSyncLock(user_id))


def lock_for_reading_changes(user_id: str) -> int:
    """Wait for the user's writes in progress to commit and keep new ones out
    until the transaction ends (SQLite: its transaction does that). Returns
    the change number N that the next sync token carries: every change of
    the user numbered N or less is committed, and none will be numbered
    less than N later. Call it inside transaction.atomic(), as its first
    statement; the user's rows do not change until it ends."""
    if connection.vendor != "postgresql":
        return TaskOwner.objects.filter(user_id=user_id).values_list("change_seq", flat=True).first() or 0
    with connection.cursor() as cursor:
        # The number is taken once the lock is held (the subquery runs first,
        # as in lock_for_writing), and nobody else gets it, so "N or less"
        # is "before it".
        cursor.execute(
            "SELECT nextval(%s::regclass) - 1 FROM (SELECT pg_advisory_xact_lock(%s, %s) OFFSET 0) AS sync_lock",
            [CHANGE_NUMBER_SEQUENCE, SYNC_LOCK, user_lock_key(user_id)],
        )
        (change_seq,) = cursor.fetchone()
    return int(change_seq)


def _nothing() -> None:
    return None


@contextmanager
def user_write(
    user_id: str,
    read: Callable[[], T] = _nothing,  # type: ignore[assignment]
    *,
    order: bool = False,
    read_takes_sync_lock: bool = False,
) -> Iterator[T]:
    """A transaction that takes the user's write locks first
    (lock_for_writing; `order` for writes that need the order lock), then
    runs `read` (what the write depends on) and yields its result.

    `read_takes_sync_lock`: `read` reads the rows the write may write
    through read_with_sync_lock, which takes the sync lock in the same
    statement (on PostgreSQL, without the order lock): one round trip
    less. When it reads no row, nothing is written, and no lock is needed.

    No savepoint: inside a caller's transaction (an Idempotency-Key's, or a
    test's) this is part of it, at no extra statement. What fails before
    anything is written leaves that transaction usable: a refusal (an
    APIException such as a 404, 409, 412 or 422, or a body over the size
    limit) at any point, or any error but the database's in `read`; it is
    raised once the block has ended. Any other error marks the transaction
    for rollback."""
    failure: Exception | None = None
    with transaction.atomic(savepoint=False):
        if order or not read_takes_sync_lock or connection.vendor != "postgresql":
            lock_for_writing(user_id, order=order)
        try:
            value = read()
        except DatabaseError:
            raise
        except Exception as exc:
            failure = exc
        else:
            try:
                yield value
            except (APIException, RequestDataTooBig) as exc:
                failure = exc
    if failure is not None:
        raise failure

"""The transaction every write to a user's tasks runs in."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, transaction
from rest_framework.exceptions import APIException

from tasks.models import TaskOwner

T = TypeVar("T")


def _nothing() -> None:
    return None


@contextmanager
def user_write(user_id: str, read: Callable[[], T] = _nothing) -> Iterator[T]:  # type: ignore[assignment]
    """A transaction that takes the user's next change number first
    (TaskOwner.lock: one user's writes run one after another, and commit in
    the order of their numbers, which GET /api/sync relies on), then runs
    `read` (what the write depends on) and yields its result.

    No savepoint: inside a caller's transaction (an Idempotency-Key's, or a
    test's) this is part of it, at no extra statement. What fails before
    anything is written leaves that transaction usable: a refusal (an
    APIException such as a 404, 409, 412 or 422, or a body over the size
    limit) at any point, or any error but the database's in `read`; it is
    raised once the block has ended. Any other error marks the transaction
    for rollback."""
    failure: Exception | None = None
    with transaction.atomic(savepoint=False):
        TaskOwner.lock(user_id)
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

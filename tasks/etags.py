"""Entity tags of tasks, and `If-Match` (docs/api.md, "Conditional requests").

A task's ETag is a digest of its id and `updated_at`: every change to any of
its fields moves `updated_at` (Task.save, and every bulk write sets it), a
write that changes nothing leaves it, and it reads the same on every
instance and after restarts. Strong: two equal ETags mean byte-equal tasks.
"""

from hashlib import blake2b

from django.utils.http import parse_etags
from rest_framework.request import Request

from api.exceptions import PreconditionFailed


def task_etag(task_id: int, updated_at: str) -> str:
    """The ETag of the task with this id and `updated_at` (as the API writes it)."""
    return f'"{blake2b(f"{task_id} {updated_at}".encode(), digest_size=10).hexdigest()}"'


def check_if_match(request: Request, current_etag: str) -> None:
    """PreconditionFailed unless the request has no `If-Match`, or one that
    names `current_etag` or `*`. Weak tags (W/"...") never match: If-Match
    compares strongly. Call it holding the lock that the write holds."""
    header = request.headers.get("If-Match")
    if header is None:
        return
    tags = parse_etags(header)
    if tags != ["*"] and current_etag not in tags:
        raise PreconditionFailed(current_etag)

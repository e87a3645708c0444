"""GET /api/sync: what changed in a user's tasks since a sync token.

Every write to a user's tasks stamps the rows it writes with a change
number (`change_seq`; tombstones for purged tasks). A sync waits for the
user's writes in progress to commit and keeps new ones out while it reads
(tasks/changes.py, lock_for_reading_changes), so it sees every change
numbered N or less, where N is what its token carries, and no later change
will ever be numbered N or less, whatever order transactions commit in.
(docs/decisions/sync-change-numbers.md)
"""

from __future__ import annotations

import hashlib
from base64 import urlsafe_b64encode
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from rest_framework import status
from rest_framework.exceptions import APIException

from tasks.changes import lock_for_reading_changes
from tasks.models import Task, TaskTombstone

TOKEN_SALT = "tasks.sync.token"  # noqa: S105 (a signing salt, not a secret)
TOKEN_VERSION = 1


class InvalidSyncToken(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Invalid sync token"
    default_code = "invalid_sync_token"


class SyncTokenExpired(APIException):
    status_code = status.HTTP_410_GONE
    default_detail = "Sync token expired: do a full sync"
    default_code = "sync_token_expired"


def user_digest(user_id: str) -> str:
    """A short digest of a user id, for what a token or cursor is bound to."""
    return urlsafe_b64encode(hashlib.sha256(user_id.encode()).digest()[:15]).decode()


def encode_token(user_id: str, change_seq: int) -> str:
    """A token for the user's state as of change `change_seq`, signed with
    SECRET_KEY and stamped with the time it was made."""
    return signing.dumps([TOKEN_VERSION, user_digest(user_id), change_seq], salt=TOKEN_SALT)


def decode_token(user_id: str, token: str) -> int:
    """The change number a token of this user's carries. InvalidSyncToken if
    it was altered, is empty or is someone else's; SyncTokenExpired if it is
    older than TRASH_RETENTION_DAYS (tombstones are dropped after that)."""
    try:
        version, digest, change_seq = signing.loads(
            token, salt=TOKEN_SALT, max_age=timedelta(days=settings.TRASH_RETENTION_DAYS)
        )
    except signing.SignatureExpired:
        raise SyncTokenExpired() from None
    except (signing.BadSignature, ValueError, TypeError):
        raise InvalidSyncToken() from None
    if version != TOKEN_VERSION or digest != user_digest(user_id) or type(change_seq) is not int or change_seq < 0:
        raise InvalidSyncToken()
    return change_seq


@dataclass(frozen=True)
class Changes:
    rows: list[Any]  # live tasks, by id, with the fields asked for
    deleted: list[int]  # ids, ascending
    change_seq: int  # what the next token carries


def read_changes(user_id: str, since: int | None, fields: Sequence[str]) -> Changes:
    """Every live task of the user (since=None), or those written after
    change `since` and the ids of those trashed or purged after it, with the
    change number that the next token carries; the user's writes wait
    meanwhile, so the statements read one state of their tasks."""
    with transaction.atomic(savepoint=False):  # reads only: nothing to undo
        change_seq = lock_for_reading_changes(user_id)
        if since is not None and since > change_seq:
            # Only a database restored from an older backup gets here: this
            # client holds changes the database no longer has.
            raise SyncTokenExpired()
        live = Task.objects.filter(user_id=user_id)
        if since is None:
            return Changes(list(live.order_by("id").values_list(*fields, named=True)), [], change_seq)
        rows = list(live.filter(change_seq__gt=since).order_by("id").values_list(*fields, named=True))
        trashed = Task.all_objects.filter(user_id=user_id, deleted_at__isnull=False, change_seq__gt=since)
        purged = TaskTombstone.objects.filter(user_id=user_id, change_seq__gt=since)
        gone = trashed.order_by().values_list("id", flat=True).union(purged.values_list("task_id", flat=True))
        # A task that left the user and came back (admin) is live: not deleted.
        deleted = sorted(set(gone) - {row.id for row in rows})
        return Changes(rows, deleted, change_seq)

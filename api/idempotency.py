"""`Idempotency-Key`: a retried write gets its first answer again instead of
running twice.

A view opts an action in with `@idempotent`. Without the header the action
runs exactly as it always did. With it, the action runs inside one
transaction that also stores its answer (`api.models.IdempotencyRecord`), so
the record is committed exactly when the action's effect is: a worker killed
mid-request leaves neither, and the retry simply runs. The transaction's
first statement, on PostgreSQL, tries an advisory lock on (user, key) without
waiting; a second request with the key while the first still runs, on any
worker or host, is a 409 with Retry-After. On SQLite (development only) every
transaction takes the database's write lock (BEGIN IMMEDIATE), so the second
request waits for the first instead, then gets its answer replayed.

Authentication and throttling run before the action, so a 401 or 429 never
reaches here; a bad key is a 400 before any work. The action's own 4xx
answers are kept like its 2xx; a 5xx is rolled back with everything the
request did, and so is any answer the action marked its transaction for
rollback with.
"""

import functools
import hashlib
import json
import re
from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.db import connection, transaction
from django.utils import timezone
from rest_framework import status
from rest_framework.exceptions import ParseError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.exceptions import IdempotencyKeyInUse, IdempotencyKeyReused, InvalidIdempotencyKey
from api.models import IDEMPOTENCY_KEY_MAX_LENGTH, IdempotencyRecord
from api.postgres import try_advisory_xact_lock

KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# Visible ASCII, 0x21 ("!") to 0x7E ("~"): no space, no control character.
KEY_PATTERN = rf"[\x21-\x7e]{{1,{IDEMPOTENCY_KEY_MAX_LENGTH}}}"
# The headers of an answer that its replays carry again.
KEPT_HEADERS = ("Content-Type", "Location", "ETag")
# Never kept, though they may come from the action itself: for these the retry runs.
NEVER_KEPT = frozenset({status.HTTP_401_UNAUTHORIZED, status.HTTP_429_TOO_MANY_REQUESTS})

# A view's action: (view, request, *args, **kwargs) -> Response, its signature kept.
Action = TypeVar("Action", bound=Callable[..., Response])


def idempotent(action: Action) -> Action:
    """Opt a view's action (a ViewSet method, or an APIView's `post`) in to
    `Idempotency-Key`. The OpenAPI document then describes the header and its
    answers for the action's operation (api.schema.AutoSchema)."""

    @functools.wraps(action)
    def run_once(view: APIView, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = idempotency_key(request)
        if key is None:
            return action(view, request, *args, **kwargs)
        fingerprint = request_fingerprint(request)  # a malformed body is a 400 before any work
        user_id = str(request.user.id)
        with transaction.atomic():
            claim(user_id, key)
            record = IdempotencyRecord.objects.filter(user_id=user_id, key=key).first()
            if record is not None and not record.expired:
                if record.fingerprint != fingerprint:
                    raise IdempotencyKeyReused()
                return replay(record)
            # The action's own atomic blocks nest in this transaction (as
            # savepoints, unless savepoint=False). Its errors become answers
            # here, as dispatch() would make them, so that its 4xx are kept too.
            try:
                response = action(view, request, *args, **kwargs)
            except Exception as exc:
                response = view.handle_exception(exc)
            if is_kept(response.status_code) and not transaction.get_rollback():
                response = view.finalize_response(request, response, *args, **kwargs)
                response.render()  # the bytes kept are the bytes sent
                keep(record or IdempotencyRecord(user_id=user_id, key=key), fingerprint, response)
            else:
                transaction.set_rollback(True)
        return response

    run_once.idempotent = True  # type: ignore[attr-defined]
    return cast(Action, run_once)


def is_idempotent(handler: Any) -> bool:
    """Whether `handler`, a view's action, was opted in with @idempotent."""
    return getattr(handler, "idempotent", False) is True


def idempotency_key(request: Request) -> str | None:
    """The request's key; None without the header; a 400 for a value that
    cannot be a key (an empty one included)."""
    value = request.headers.get(KEY_HEADER)
    if value is None:
        return None
    if not re.fullmatch(KEY_PATTERN, value):
        raise InvalidIdempotencyKey()
    return value


def request_fingerprint(request: Request) -> str:
    """What makes two requests with one key the same request: the method, the
    path (a trailing slash aside) and the body as JSON with sorted keys, in
    which no body, an empty body and `{}` are all `{}`."""
    try:
        body = json.dumps(request.data, sort_keys=True, separators=(",", ":"))
    except RecursionError:
        raise ParseError("Malformed JSON: nested too deeply.") from None
    path = request.path.removesuffix("/")
    return hashlib.sha256(f"{request.method}\n{path}\n{body}".encode()).hexdigest()


def lock_id(user_id: str, key: str) -> int:
    """The advisory lock of a user's key: 64 bits of a hash of both."""
    digest = hashlib.sha256(f"idempotency\0{user_id}\0{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def claim(user_id: str, key: str) -> None:
    """Make the current transaction the only one running with this key, or
    answer 409. On SQLite the transaction already holds the write lock."""
    if connection.vendor == "postgresql" and not try_advisory_xact_lock(lock_id(user_id, key)):
        raise IdempotencyKeyInUse()


def is_kept(status_code: int) -> bool:
    return status.is_success(status_code) or (status.is_client_error(status_code) and status_code not in NEVER_KEPT)


def keep(record: IdempotencyRecord, fingerprint: str, response: Response) -> None:
    """Store the rendered answer: a new record, or an expired one replaced."""
    record.fingerprint = fingerprint
    record.status = response.status_code
    record.body = response.content
    record.headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
    record.created_at = timezone.now()
    record.save()


def replay(record: IdempotencyRecord) -> Response:
    """The kept answer again, byte for byte, marked as a replay."""
    response = Response(status=record.status, headers={**record.headers, REPLAYED_HEADER: "true"})
    response.content = bytes(record.body)  # rendered already: DRF leaves it as it is
    return response

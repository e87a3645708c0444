"""The bare-WSGI ceiling: no framework, the same SQL, the same JSON.

Not part of the product. `bench/run.py` serves it with gunicorn (2 sync
workers) next to the real service, and reports every endpoint of the service as
a fraction of this app's throughput: what Python, psycopg 3 and PyJWT can do
here with nothing in between.

It does the work the contract requires and nothing more: verify the HS256
token (signature, `exp`, a `sub`), run the statements the service runs for
the request (the same SQL, in the same transactions), answer the same JSON:
every field of a task with its ETag, signed cursors and sync tokens (HMAC, as
Django's signing is), `If-None-Match` answered 304.
Configured by BASELINE_DATABASE_URL and BASELINE_SECRET.
"""

import base64
import hashlib
import hmac
import json
import os
import re
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time
from hashlib import blake2b
from typing import Any
from urllib.parse import parse_qs

import jwt
import psycopg

from tasks.lock_keys import ORDER_LOCK, SYNC_LOCK, user_lock_key
from tasks.positions import key_between

DATABASE_URL = os.environ["BASELINE_DATABASE_URL"]
SECRET = os.environ["BASELINE_SECRET"]
TASKS_MAX_PER_USER = 10_000  # the service's default
COLUMNS = (
    "id, user_id, title, description, completed, completed_at, due_date, due_at, priority, position,"
    " created_at, updated_at"
)
PRIORITIES = ("none", "low", "medium", "high")
TASK_PATH = re.compile(r"/api/tasks/([0-9]+)(/complete)?/?")
NEXT_CHANGE = "(SELECT nextval('tasks_change_number_seq'::regclass))"

_connection: psycopg.Connection | None = None


def db() -> psycopg.Connection:
    """One connection per worker, opened on first use and kept. Never
    preparing statements, like the service, so it works through PgBouncer."""
    global _connection
    if _connection is None or _connection.closed:
        _connection = psycopg.connect(DATABASE_URL, autocommit=True, prepare_threshold=None)
    return _connection


def instant(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def as_json(row: tuple) -> dict[str, Any]:
    updated_at = instant(row[11])
    return {
        "id": row[0],
        "user_id": row[1],
        "title": row[2],
        "description": row[3],
        "completed": row[4],
        "completed_at": instant(row[5]),
        "due_date": None if row[6] is None else row[6].isoformat(),
        "due_at": instant(row[7]),
        "priority": PRIORITIES[row[8]],
        "position": row[9],
        "created_at": instant(row[10]),
        "updated_at": updated_at,
        "etag": etag(row[0], updated_at),
    }


def etag(task_id: int, updated_at: str | None) -> str:
    return f'"{blake2b(f"{task_id} {updated_at}".encode(), digest_size=10).hexdigest()}"'


def sign(value: Any) -> str:
    payload = base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).decode()
    return f"{payload}:{hmac.new(SECRET.encode(), payload.encode(), hashlib.sha256).hexdigest()}"


def unsign(signed: str) -> Any:
    payload, _, signature = signed.rpartition(":")
    if not hmac.compare_digest(signature, hmac.new(SECRET.encode(), payload.encode(), hashlib.sha256).hexdigest()):
        raise ValueError("bad signature")
    return json.loads(base64.urlsafe_b64decode(payload))


def take_order_lock(user: str) -> None:
    """The user's sync lock (shared), then their order lock, as a create takes them (tasks/changes.py)."""
    key = user_lock_key(user)
    db().execute(
        "SELECT pg_advisory_xact_lock(%s, %s) FROM (SELECT pg_advisory_xact_lock_shared(%s, %s) OFFSET 0) AS sync_lock",
        [ORDER_LOCK, key, SYNC_LOCK, key],
    )


def locked_task(user: str, task_id: int) -> tuple | None:
    """A single-task write's read: the row locked, the user's sync lock taken
    in the same statement, as the service's (tasks/views.py)."""
    return (
        db()
        .execute(
            f"SELECT {COLUMNS}, pg_advisory_xact_lock_shared(%s, %s) FROM tasks_task"
            " WHERE deleted_at IS NULL AND user_id = %s AND id = %s LIMIT 21 FOR UPDATE",
            [SYNC_LOCK, user_lock_key(user), user, task_id],
        )
        .fetchone()
    )


def user_of(environ: dict[str, Any]) -> str | None:
    header = environ.get("HTTP_AUTHORIZATION", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    try:
        claims = jwt.decode(token.strip(), SECRET, algorithms=["HS256"], options={"require": ["exp", "sub"]})
    except jwt.PyJWTError:
        return None
    return claims["sub"]


def respond(
    start_response: Callable, status: str, payload: Any, headers: list[tuple[str, str]] | None = None
) -> Iterable[bytes]:
    body = json.dumps(payload, ensure_ascii=False).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body))), *(headers or [])])
    return [body]


def due_page(user: str, params: dict[str, str]) -> tuple[list[tuple], str | None]:
    """`ordering=due&limit=N[&cursor=C]`, as the service reads it: two keyset
    scans (due instants, due dates as the first instant of their day in UTC)
    merged, then the next page's cursor (tasks/orderings.py)."""
    limit = int(params.get("limit", "50"))
    timed_after = dated_after = ""
    args: list[Any] = [user]
    dated_args: list[Any] = [user]
    if cursor := params.get("cursor"):
        key, task_id = unsign(cursor)
        after = datetime.fromisoformat(key)
        timed_after = " AND (due_at, id) > (%s, %s)"
        args += [after, task_id]
        day = after.date()
        if after == datetime.combine(day, time(), UTC):
            dated_after = " AND (due_date, id) > (%s, %s)"
            dated_args += [day, task_id]
        else:
            dated_after = " AND due_date > %s"
            dated_args += [day]
    live = "FROM tasks_task WHERE deleted_at IS NULL AND user_id = %s"
    timed = db().execute(
        f"SELECT {COLUMNS} {live} AND due_at IS NOT NULL{timed_after} ORDER BY due_at, id LIMIT %s",
        [*args, limit + 1],
    )
    dated = db().execute(
        f"SELECT {COLUMNS} {live} AND due_date IS NOT NULL{dated_after} ORDER BY due_date, id LIMIT %s",
        [*dated_args, limit + 1],
    )
    rows = sorted([*timed, *dated], key=due_key)[: limit + 1]
    if len(rows) <= limit:
        return rows, None
    last_key, last_id = due_key(rows[limit - 1])
    return rows[:limit], sign([last_key.isoformat(), last_id])


def due_key(row: tuple) -> tuple[datetime, int]:
    due_date: date | None = row[6]
    return (row[7] if row[7] is not None else datetime.combine(due_date, time(), UTC)), row[0]  # type: ignore[arg-type]


def sync(user: str, token: str | None) -> dict[str, Any]:
    """GET /api/sync: the user's sync lock, exclusive, and the last change
    number in one statement, then everything or the changes since `token`
    (tasks/sync.py)."""
    key = user_lock_key(user)
    with db().transaction():
        row = (
            db()
            .execute(
                "SELECT nextval('tasks_change_number_seq'::regclass) - 1"
                " FROM (SELECT pg_advisory_xact_lock(%s, %s) OFFSET 0) AS sync_lock",
                [SYNC_LOCK, key],
            )
            .fetchone()
        )
        assert row is not None
        live = f"SELECT {COLUMNS} FROM tasks_task WHERE deleted_at IS NULL AND user_id = %s"
        if token is None:
            items = db().execute(f"{live} ORDER BY 1", [user]).fetchall()
            deleted: list[int] = []
        else:
            since = unsign(token)
            items = db().execute(f"{live} AND change_seq > %s ORDER BY 1", [user, since]).fetchall()
            deleted = [
                task_id
                for (task_id,) in db().execute(
                    "(SELECT id FROM tasks_task WHERE change_seq > %s AND deleted_at IS NOT NULL AND user_id = %s)"
                    " UNION (SELECT task_id FROM tasks_tasktombstone WHERE change_seq > %s AND user_id = %s)",
                    [since, user, since, user],
                )
            ]
    return {"items": [as_json(item) for item in items], "deleted": deleted, "sync_token": sign(row[0])}


def create(user: str, data: dict[str, Any]) -> tuple | str:
    title = data.get("title")
    if not isinstance(title, str) or not 0 < len(title.strip()) <= 200:
        return "Invalid title"
    # As the service does: the user's locks, then the live count and the
    # first position from one aggregate, then the row.
    with db().transaction():
        take_order_lock(user)
        first = (
            db()
            .execute(
                "SELECT count(*) FILTER (WHERE deleted_at IS NULL), min(position) FROM tasks_task WHERE user_id = %s",
                [user],
            )
            .fetchone()
        )
        assert first is not None  # an aggregate always returns a row
        if first[0] >= TASKS_MAX_PER_USER:
            return "Task limit reached"
        row = (
            db()
            .execute(
                "INSERT INTO tasks_task (user_id, title, description, completed, created_at, updated_at,"
                f" position, priority, change_seq) VALUES (%s, %s, %s, false, now(), now(), %s, 0, {NEXT_CHANGE})"
                f" RETURNING {COLUMNS}",
                [user, title.strip(), data.get("description"), key_between(None, first[1])],
            )
            .fetchone()
        )
    assert row is not None  # INSERT ... RETURNING always returns the row
    return row


def app(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
    path = environ["PATH_INFO"]
    method = environ["REQUEST_METHOD"]
    if path == "/health":
        db().execute("SELECT 1")
        return respond(start_response, "200 OK", {"status": "ok", "database": "ok"})
    user = user_of(environ)
    if user is None:
        return respond(start_response, "401 Unauthorized", {"detail": "Invalid token"})
    params = {name: values[-1] for name, values in parse_qs(environ.get("QUERY_STRING", "")).items()}
    if path.rstrip("/") == "/api/sync" and method == "GET":
        return respond(start_response, "200 OK", sync(user, params.get("token")))
    if path.rstrip("/") == "/api/tasks":
        if method == "GET" and params.get("ordering") == "due":
            rows, cursor = due_page(user, params)
            items = [as_json(row) for row in rows]
            return respond(start_response, "200 OK", {"items": items, "count": len(items), "next_cursor": cursor})
        if method == "GET":
            listed = db().execute(
                f"SELECT {COLUMNS} FROM tasks_task WHERE deleted_at IS NULL AND user_id = %s"
                " ORDER BY created_at DESC, id DESC",
                [user],
            )
            items = [as_json(row) for row in listed]
            return respond(start_response, "200 OK", {"items": items, "count": len(items)})
        if method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            created = create(user, json.loads(environ["wsgi.input"].read(length) or b"{}"))
            if isinstance(created, str):
                return respond(start_response, "422 Unprocessable Entity", {"detail": created})
            return respond(start_response, "201 Created", as_json(created))
    elif match := TASK_PATH.fullmatch(path):
        task_id = int(match[1])
        if match[2] and method == "PATCH":
            # The service's flip: the row read with its lock and the user's
            # sync lock, then the update, in one transaction.
            with db().transaction():
                row = locked_task(user, task_id)
                if row is not None:
                    row = (
                        db()
                        .execute(
                            "UPDATE tasks_task SET completed = NOT completed,"
                            " completed_at = CASE WHEN completed THEN NULL ELSE now() END, updated_at = now(),"
                            f" change_seq = {NEXT_CHANGE} WHERE id = %s RETURNING {COLUMNS}",
                            [task_id],
                        )
                        .fetchone()
                    )
        elif not match[2] and method == "DELETE":
            with db().transaction():
                row = locked_task(user, task_id)
                if row is not None:
                    db().execute(
                        f"UPDATE tasks_task SET deleted_at = now(), change_seq = {NEXT_CHANGE} WHERE id = %s",
                        [task_id],
                    )
            if row is None:
                return respond(start_response, "404 Not Found", {"detail": "Task not found"})
            start_response("204 No Content", [])
            return [b""]
        elif not match[2] and method == "GET":
            row = (
                db()
                .execute(
                    f"SELECT {COLUMNS} FROM tasks_task WHERE deleted_at IS NULL AND user_id = %s AND id = %s LIMIT 21",
                    [user, task_id],
                )
                .fetchone()
            )
            if row is not None:
                task = as_json(row)
                if environ.get("HTTP_IF_NONE_MATCH") == task["etag"]:
                    start_response("304 Not Modified", [("ETag", task["etag"])])
                    return [b""]
                return respond(start_response, "200 OK", task, [("ETag", task["etag"])])
        else:
            return respond(start_response, "405 Method Not Allowed", {"detail": "Method not allowed"})
        if row is None:
            return respond(start_response, "404 Not Found", {"detail": "Task not found"})
        return respond(start_response, "200 OK", as_json(row))
    return respond(start_response, "404 Not Found", {"detail": "Not found"})

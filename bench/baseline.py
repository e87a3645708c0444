"""The bare-WSGI ceiling: no framework, the same SQL, the same JSON.

Not part of the product. `bench/run.py` serves it with gunicorn (2 sync
workers) next to the real service, and reports every endpoint of the service as
a fraction of this app's throughput: what Python, psycopg 3 and PyJWT can do
here with nothing in between.

It does the work the contract requires and nothing more: verify the HS256
token (signature, `exp`, a `sub`), run one SQL statement, answer JSON.
Configured by BASELINE_DATABASE_URL and BASELINE_SECRET.
"""

import json
import os
import re
from collections.abc import Callable, Iterable
from typing import Any

import jwt
import psycopg

from tasks.lock_keys import ORDER_LOCK, SYNC_LOCK, user_lock_key
from tasks.positions import key_between

DATABASE_URL = os.environ["BASELINE_DATABASE_URL"]
SECRET = os.environ["BASELINE_SECRET"]
TASKS_MAX_PER_USER = 10_000  # the service's default
COLUMNS = "id, user_id, title, description, completed, created_at, updated_at"
TASK_PATH = re.compile(r"/api/tasks/([0-9]+)(/complete)?/?")

_connection: psycopg.Connection | None = None


def db() -> psycopg.Connection:
    """One connection per worker, opened on first use and kept. Never
    preparing statements, like the service, so it works through PgBouncer."""
    global _connection
    if _connection is None or _connection.closed:
        _connection = psycopg.connect(DATABASE_URL, autocommit=True, prepare_threshold=None)
    return _connection


def as_json(row: tuple) -> dict[str, Any]:
    return {
        "id": row[0],
        "user_id": row[1],
        "title": row[2],
        "description": row[3],
        "completed": row[4],
        "created_at": row[5].strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "updated_at": row[6].strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }


def take_order_lock(user: str) -> None:
    """The user's sync lock (shared), then their order lock, as a create takes them (tasks/changes.py)."""
    key = user_lock_key(user)
    db().execute(
        "SELECT pg_advisory_xact_lock(%s, %s) FROM (SELECT pg_advisory_xact_lock_shared(%s, %s) OFFSET 0) AS sync_lock",
        [ORDER_LOCK, key, SYNC_LOCK, key],
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


def respond(start_response: Callable, status: str, payload: Any) -> Iterable[bytes]:
    body = json.dumps(payload, ensure_ascii=False).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def app(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
    path = environ["PATH_INFO"]
    method = environ["REQUEST_METHOD"]
    if path == "/health":
        db().execute("SELECT 1")
        return respond(start_response, "200 OK", {"status": "ok", "database": "ok"})
    user = user_of(environ)
    if user is None:
        return respond(start_response, "401 Unauthorized", {"detail": "Invalid token"})
    if path.rstrip("/") == "/api/tasks":
        if method == "GET":
            rows = db().execute(
                f"SELECT {COLUMNS} FROM tasks_task WHERE user_id = %s AND deleted_at IS NULL"
                " ORDER BY created_at DESC, id DESC",
                [user],
            )
            items = [as_json(row) for row in rows]
            return respond(start_response, "200 OK", {"items": items, "count": len(items)})
        if method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            data = json.loads(environ["wsgi.input"].read(length) or b"{}")
            title = data.get("title")
            if not isinstance(title, str) or not 0 < len(title.strip()) <= 200:
                return respond(start_response, "422 Unprocessable Entity", {"detail": "Invalid title"})
            # As the service does: the user's locks, then the live count and
            # the first position from one aggregate.
            with db().transaction():
                take_order_lock(user)
                first = (
                    db()
                    .execute(
                        "SELECT count(*) FILTER (WHERE deleted_at IS NULL), min(position) FROM tasks_task"
                        " WHERE user_id = %s",
                        [user],
                    )
                    .fetchone()
                )
                assert first is not None  # an aggregate always returns a row
                if first[0] >= TASKS_MAX_PER_USER:
                    return respond(start_response, "409 Conflict", {"detail": "Task limit reached"})
                row = (
                    db()
                    .execute(
                        "INSERT INTO tasks_task (user_id, title, description, completed, created_at, updated_at,"
                        " position, priority, change_seq) VALUES (%s, %s, %s, false, now(), now(), %s, 0,"
                        " (SELECT nextval('tasks_change_number_seq'))) RETURNING " + COLUMNS,
                        [user, title.strip(), data.get("description"), key_between(None, first[1])],
                    )
                    .fetchone()
                )
            assert row is not None  # INSERT ... RETURNING always returns the row
            return respond(start_response, "201 Created", as_json(row))
    elif match := TASK_PATH.fullmatch(path):
        task_id = int(match[1])
        if match[2] and method == "PATCH":
            # One statement in autocommit, as before sync, with the user's
            # sync lock taken before the row's (tasks/changes.py).
            row = (
                db()
                .execute(
                    "UPDATE tasks_task SET completed = NOT completed, updated_at = now(),"
                    " change_seq = (SELECT nextval('tasks_change_number_seq'))"
                    " FROM (SELECT pg_advisory_xact_lock_shared(%s, %s) OFFSET 0) AS sync_lock"
                    f" WHERE id = %s AND user_id = %s AND deleted_at IS NULL RETURNING {COLUMNS}",
                    [SYNC_LOCK, user_lock_key(user), task_id, user],
                )
                .fetchone()
            )
        elif not match[2] and method == "GET":
            row = (
                db()
                .execute(
                    f"SELECT {COLUMNS} FROM tasks_task WHERE id = %s AND user_id = %s AND deleted_at IS NULL",
                    [task_id, user],
                )
                .fetchone()
            )
        else:
            return respond(start_response, "405 Method Not Allowed", {"detail": "Method not allowed"})
        if row is None:
            return respond(start_response, "404 Not Found", {"detail": "Task not found"})
        return respond(start_response, "200 OK", as_json(row))
    return respond(start_response, "404 Not Found", {"detail": "Not found"})

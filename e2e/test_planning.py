"""The planning fields, moves and the quota through gunicorn in production
mode (DEBUG off, two workers) on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import requests

from e2e.live import LiveService

TIMEOUT = 30


def session_for(token: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def test_planning_fields_round_trip_in_utc(live_service: LiveService, token_for: Callable[..., str]) -> None:
    api = session_for(token_for(f"planner-{uuid.uuid4().hex}"))

    created = api.post(
        live_service.url("/api/tasks"),
        json={"title": "Call", "due_at": "2026-03-29T01:30:00+01:00", "priority": "high", "completed": True},
        timeout=TIMEOUT,
    ).json()

    assert created["due_at"] == "2026-03-29T00:30:00.000000Z"
    assert created["priority"] == "high"
    assert created["completed_at"] == created["created_at"]
    fetched = api.get(live_service.url(f"/api/tasks/{created['id']}"), timeout=TIMEOUT).json()
    assert fetched == created


def test_concurrent_moves_and_creates_leave_a_strict_order(
    live_service: LiveService, token_for: Callable[..., str], pg: psycopg.Connection[Any]
) -> None:
    user_id = f"mover-{uuid.uuid4().hex}"
    token = token_for(user_id)
    api = session_for(token)
    ids = [
        api.post(live_service.url("/api/tasks"), json={"title": f"t{n}"}, timeout=TIMEOUT).json()["id"]
        for n in range(10)
    ]

    def move(n: int) -> int:
        after = None if n % 4 == 0 else ids[(n * 3 + 1) % 10]
        response = session_for(token).post(
            live_service.url(f"/api/tasks/{ids[n % 10]}/move"), json={"after": after}, timeout=TIMEOUT
        )
        return response.status_code

    def create(n: int) -> int:
        return (
            session_for(token)
            .post(live_service.url("/api/tasks"), json={"title": f"new {n}"}, timeout=TIMEOUT)
            .status_code
        )

    with ThreadPoolExecutor(max_workers=16) as pool:
        moves = list(pool.map(move, range(50)))
        creates = list(pool.map(create, range(10)))

    assert set(moves) <= {200, 422}  # 422: a task moved after itself
    assert creates == [201] * 10
    positions = [row[0] for row in pg.execute("SELECT position FROM tasks_task WHERE user_id = %s", [user_id])]
    assert len(positions) == len(set(positions)) == 20


def test_the_quota_answers_409_and_writes_nothing(
    start_service: Callable[..., LiveService], token_for: Callable[..., str], pg: psycopg.Connection[Any]
) -> None:
    service = start_service(TASKS_MAX_PER_USER="2")
    user_id = f"quota-{uuid.uuid4().hex}"
    api = session_for(token_for(user_id))

    statuses = [
        api.post(service.url("/api/tasks"), json={"title": f"t{n}"}, timeout=TIMEOUT).status_code for n in range(3)
    ]
    over = api.post(service.url("/api/tasks"), json={"title": "over"}, timeout=TIMEOUT)

    assert statuses == [201, 201, 409]
    assert over.json() == {"detail": "Task limit reached: a user can hold at most 2 tasks"}
    assert pg.execute("SELECT count(*) FROM tasks_task WHERE user_id = %s", [user_id]).fetchone() == (2,)

"""A retried write after a connection cut, through gunicorn on PostgreSQL.

A proxy between the client and the service (e2e/tcp_proxy.py) relays the
request whole and drops the answer: the service does the work and commits,
the client sees only a closed connection and cannot tell whether anything
happened. It retries. With the same Idempotency-Key the retry gets the first
answer back (`Idempotent-Replayed: true`) and nothing runs twice; without a
key, the same retry does the work a second time, which is what the key is for.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
import requests

from e2e.live import LiveService
from e2e.tcp_proxy import TcpProxy

TIMEOUT = 30


@pytest.fixture
def proxy(live_service: LiveService) -> Iterator[TcpProxy]:
    with TcpProxy("127.0.0.1", live_service.port) as proxy:
        yield proxy


@pytest.fixture
def user(token_for: Callable[..., str]) -> tuple[str, str]:
    """A fresh user id and its token."""
    user_id = f"retry-{uuid.uuid4().hex[:12]}"
    return user_id, token_for(user_id)


def send(
    base_url: str, method: str, path: str, token: str, *, key: str | None = None, body: Any = None
) -> requests.Response:
    """One request on a connection of its own (a new Session), as a client
    retrying after a cut would open a new connection."""
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    with requests.Session() as session:
        session.trust_env = False
        return session.request(method, base_url + path, headers=headers, json=body, timeout=TIMEOUT)


def send_and_lose_the_answer(proxy: TcpProxy, method: str, path: str, token: str, **kwargs: Any) -> None:
    """The request reaches the service whole; its answer never reaches the client."""
    accepted = proxy.connections_accepted
    proxy.lose_answers()
    try:
        with pytest.raises(requests.ConnectionError):
            send(f"http://127.0.0.1:{proxy.port}", method, path, token, **kwargs)
    finally:
        proxy.restore()
    assert proxy.connections_accepted == accepted + 1


def tasks_of(pg: psycopg.Connection[Any], user_id: str) -> list[tuple[int, str, bool]]:
    return pg.execute(
        "SELECT id, title, completed FROM tasks_task WHERE user_id = %s ORDER BY id", [user_id]
    ).fetchall()


def assert_replay_of(response: requests.Response, status: int, task_id: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["Idempotent-Replayed"] == "true"
    assert response.json()["id"] == task_id
    assert response.headers["ETag"] == response.json()["etag"]


def test_a_create_retried_with_its_key_after_the_answer_was_lost_makes_one_task(
    live_service: LiveService, proxy: TcpProxy, user: tuple[str, str], pg: psycopg.Connection[Any]
) -> None:
    user_id, token = user
    key = f"create-{uuid.uuid4()}"

    send_and_lose_the_answer(proxy, "POST", "/api/tasks", token, key=key, body={"title": "Buy milk"})
    [(task_id, _, _)] = tasks_of(pg, user_id)  # the service committed it
    through_proxy = send(
        f"http://127.0.0.1:{proxy.port}", "POST", "/api/tasks", token, key=key, body={"title": "Buy milk"}
    )
    direct = send(live_service.base_url, "POST", "/api/tasks/", token, key=key, body={"title": "Buy milk"})

    for retry in (through_proxy, direct):
        assert_replay_of(retry, 201, task_id)
        assert retry.headers["Location"] == f"/api/tasks/{task_id}"
    assert direct.json() == through_proxy.json()
    assert tasks_of(pg, user_id) == [(task_id, "Buy milk", False)]


def test_a_create_retried_without_a_key_after_the_answer_was_lost_makes_a_second_task(
    proxy: TcpProxy, user: tuple[str, str], pg: psycopg.Connection[Any]
) -> None:
    user_id, token = user

    send_and_lose_the_answer(proxy, "POST", "/api/tasks", token, body={"title": "Buy milk"})
    retry = send(f"http://127.0.0.1:{proxy.port}", "POST", "/api/tasks", token, body={"title": "Buy milk"})

    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry.headers
    assert [title for _, title, _ in tasks_of(pg, user_id)] == ["Buy milk", "Buy milk"]


def created_task(live_service: LiveService, token: str) -> int:
    response = send(live_service.base_url, "POST", "/api/tasks", token, body={"title": "Water the plants"})
    assert response.status_code == 201
    return response.json()["id"]


def test_a_bare_flip_retried_with_its_key_after_the_answer_was_lost_flips_once(
    live_service: LiveService, proxy: TcpProxy, user: tuple[str, str], pg: psycopg.Connection[Any]
) -> None:
    user_id, token = user
    task_id = created_task(live_service, token)
    key = f"flip-{uuid.uuid4()}"
    path = f"/api/tasks/{task_id}/complete"

    send_and_lose_the_answer(proxy, "PATCH", path, token, key=key)
    assert tasks_of(pg, user_id) == [(task_id, "Water the plants", True)]  # flipped, unseen
    retry = send(f"http://127.0.0.1:{proxy.port}", "PATCH", path, token, key=key)

    assert_replay_of(retry, 200, task_id)
    assert retry.json()["completed"] is True
    assert tasks_of(pg, user_id) == [(task_id, "Water the plants", True)]


def test_a_bare_flip_retried_without_a_key_after_the_answer_was_lost_flips_back(
    live_service: LiveService, proxy: TcpProxy, user: tuple[str, str], pg: psycopg.Connection[Any]
) -> None:
    user_id, token = user
    task_id = created_task(live_service, token)
    path = f"/api/tasks/{task_id}/complete"

    send_and_lose_the_answer(proxy, "PATCH", path, token)
    retry = send(f"http://127.0.0.1:{proxy.port}", "PATCH", path, token)

    assert retry.status_code == 200
    assert "Idempotent-Replayed" not in retry.headers
    assert retry.json()["completed"] is False
    assert tasks_of(pg, user_id) == [(task_id, "Water the plants", False)]

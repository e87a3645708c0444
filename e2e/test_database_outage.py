"""PostgreSQL goes away under a running gunicorn, then comes back.

The service reaches the database through a TCP proxy owned by the test, so
the shared PostgreSQL server is never touched: `cut()` closes the open
connections and refuses new ones (a crashed or restarting server), `blackhole()`
accepts connections and never answers (a network partition at connect time).
One worker serves everything, so "the same worker recovers" is checked by pid.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
import requests

from e2e.live import LiveService
from e2e.tcp_proxy import TcpProxy

CONNECT_TIMEOUT = 2  # libpq's minimum: smaller values are raised to 2 seconds
# Well under gunicorn's 30 s worker timeout: a request that hangs until the
# worker is killed fails here instead of passing late.
REQUEST_TIMEOUT = CONNECT_TIMEOUT + 10


@pytest.fixture
def proxy(e2e_database: str) -> Iterator[TcpProxy]:
    target = urlsplit(e2e_database)
    with TcpProxy(target.hostname or "127.0.0.1", target.port or 5432) as proxy:
        yield proxy


def start_proxied(start_service: Callable[..., LiveService], proxy: TcpProxy, database: str, name: str) -> LiveService:
    """One worker, reaching the database only through the proxy."""
    target = urlsplit(database)
    return start_service(
        name=name,
        DATABASE_URL=target._replace(netloc=f"{target.username}@127.0.0.1:{proxy.port}").geturl(),
        DATABASE_CONNECT_TIMEOUT=str(CONNECT_TIMEOUT),
        WEB_CONCURRENCY="1",
    )


@pytest.fixture
def service(proxy: TcpProxy, e2e_database: str, start_service: Callable[..., LiveService]) -> LiveService:
    return start_proxied(start_service, proxy, e2e_database, "outage")


@pytest.fixture
def auth(token_for: Callable[..., str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for('outage-user')}"}


def timed(method: str, url: str, **kwargs: Any) -> tuple[requests.Response, float]:
    started = time.monotonic()
    response = requests.request(method, url, timeout=REQUEST_TIMEOUT, **kwargs)
    return response, time.monotonic() - started


def assert_unavailable(response: requests.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert int(response.headers["Retry-After"]) > 0
    assert isinstance(response.json()["detail"], str)


def assert_every_endpoint_unavailable(service: LiveService, auth: dict[str, str], task_id: int) -> list[float]:
    elapsed = []
    for method, path, body in [
        ("GET", "/health", None),
        ("GET", "/api/tasks", None),
        ("POST", "/api/tasks", {"title": "During the outage"}),
        ("GET", f"/api/tasks/{task_id}", None),
        ("PATCH", f"/api/tasks/{task_id}", {"title": "Renamed during the outage"}),
        ("PATCH", f"/api/tasks/{task_id}/complete", None),
        ("DELETE", f"/api/tasks/{task_id}", None),
    ]:
        headers = {} if path == "/health" else auth
        response, seconds = timed(method, service.url(path), json=body, headers=headers)
        assert_unavailable(response)
        elapsed.append(seconds)
    return elapsed


def assert_serves_again(service: LiveService, auth: dict[str, str], task_id: int, pg: psycopg.Connection[Any]) -> float:
    """The first request after the database returns succeeds; returns its duration."""
    health, seconds = timed("GET", service.url("/health"))
    assert health.status_code == 200, health.text
    assert health.json()["database"] == "ok"
    assert requests.get(service.url(f"/api/tasks/{task_id}"), headers=auth, timeout=REQUEST_TIMEOUT).status_code == 200
    created = requests.post(service.url("/api/tasks"), json={"title": "After"}, headers=auth, timeout=REQUEST_TIMEOUT)
    assert created.status_code == 201, created.text
    assert pg.execute("SELECT title FROM tasks_task WHERE id = %s", [created.json()["id"]]).fetchone() == ("After",)
    return seconds


def assert_same_worker(service: LiveService, worker: set[int]) -> None:
    assert service.worker_pids() == worker
    log = service.log()
    assert log.count("Booting worker") == 1, log
    # An outage is an expected condition: logged as a warning, not a crash.
    assert "Traceback" not in log, log


def create_task(service: LiveService, auth: dict[str, str]) -> int:
    response = requests.post(service.url("/api/tasks"), json={"title": "Before"}, headers=auth, timeout=REQUEST_TIMEOUT)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_refused_database_answers_503_and_the_same_worker_serves_when_it_returns(
    service: LiveService,
    proxy: TcpProxy,
    auth: dict[str, str],
    pg: psycopg.Connection[Any],
    report_figure: Callable[[str], None],
) -> None:
    task_id = create_task(service, auth)  # the worker now holds a persistent connection
    worker = service.worker_pids()
    assert len(worker) == 1

    proxy.cut()
    elapsed = assert_every_endpoint_unavailable(service, auth, task_id)
    # Nothing the outage refused was half-applied.
    row = pg.execute("SELECT title, completed FROM tasks_task WHERE id = %s", [task_id]).fetchone()
    assert row == ("Before", False)

    proxy.restore()
    recovery = assert_serves_again(service, auth, task_id, pg)
    assert_same_worker(service, worker)
    report_figure(
        f"refused: {len(elapsed)} requests answered 503 in at most {max(elapsed):.3f}s; "
        f"first request after restore: {recovery:.3f}s"
    )


def test_database_that_never_answers_gives_503_within_the_connect_timeout(
    service: LiveService,
    proxy: TcpProxy,
    auth: dict[str, str],
    pg: psycopg.Connection[Any],
    report_figure: Callable[[str], None],
) -> None:
    task_id = create_task(service, auth)
    worker = service.worker_pids()

    proxy.cut()  # drop the worker's connection, then silence every new one
    proxy.blackhole()
    elapsed = assert_every_endpoint_unavailable(service, auth, task_id)
    assert proxy.connections_accepted > 1  # the worker did try, and was left hanging

    proxy.restore()
    recovery = assert_serves_again(service, auth, task_id, pg)
    assert_same_worker(service, worker)
    report_figure(
        f"blackhole: {len(elapsed)} requests answered 503 in at most {max(elapsed):.3f}s "
        f"(connect timeout {CONNECT_TIMEOUT}s); first request after restore: {recovery:.3f}s"
    )


def test_repeated_outages_are_each_survived_by_the_same_worker(
    service: LiveService,
    proxy: TcpProxy,
    auth: dict[str, str],
    pg: psycopg.Connection[Any],
    report_figure: Callable[[str], None],
) -> None:
    task_id = create_task(service, auth)
    worker = service.worker_pids()
    outages = 5
    for _ in range(outages):
        proxy.cut()
        assert_unavailable(timed("GET", service.url("/health"))[0])
        assert_unavailable(timed("GET", service.url("/api/tasks"), headers=auth)[0])
        proxy.restore()
        assert_serves_again(service, auth, task_id, pg)
    assert_same_worker(service, worker)
    report_figure(f"{outages} consecutive outages survived by worker {worker}")


def test_service_started_while_the_database_is_down_serves_once_it_arrives(
    proxy: TcpProxy, e2e_database: str, start_service: Callable[..., LiveService], auth: dict[str, str]
) -> None:
    proxy.cut()
    service = start_proxied(start_service, proxy, e2e_database, "outage-at-boot")
    worker = service.worker_pids()
    assert_unavailable(timed("GET", service.url("/health"))[0])
    assert_unavailable(timed("GET", service.url("/api/tasks"), headers=auth)[0])

    proxy.restore()
    assert timed("GET", service.url("/health"))[0].status_code == 200
    task_id = create_task(service, auth)
    assert requests.get(service.url(f"/api/tasks/{task_id}"), headers=auth, timeout=REQUEST_TIMEOUT).status_code == 200
    assert_same_worker(service, worker)

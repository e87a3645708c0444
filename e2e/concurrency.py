"""Concurrent workloads and what they must leave behind, against any endpoint:
one gunicorn (e2e/test_concurrency.py) or nginx in front of two
(e2e/test_scale_out.py).

Each simulated user runs their own operations in order (as one browser tab
would), while all users run in parallel; the workload knows what every
acknowledged write should have left, and the checks compare that with the
database. Durations are returned for reporting, never asserted on.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

import psycopg
import requests

from e2e.live import Endpoint, session_for

USERS = 50
OPERATIONS_PER_USER = 20
# Generous: the run takes seconds; the limit only stops a hung run.
TIME_LIMIT = 180
REQUEST_TIMEOUT = 60
EXPECTED_STATUS = {"create": 201, "update": 200, "toggle": 200, "delete": 204, "list": 200}
FLIPS = 40
EXPLICIT_COMPLETIONS = 30


@dataclass
class UserRun:
    user_id: str
    # What the acknowledged writes left: id -> (title, completed).
    expected: dict[int, tuple[str, bool]] = field(default_factory=dict)
    # Tasks whose last write was not acknowledged: their state is unknown.
    uncertain: set[int] = field(default_factory=set)
    listings: list[set[int]] = field(default_factory=list)
    wrong_listings: list[str] = field(default_factory=list)
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)


@dataclass
class ParallelUsers:
    """The outcome of run_parallel_users."""

    prefix: str
    runs: list[UserRun]
    elapsed: float

    @property
    def statuses(self) -> Counter[tuple[str, int]]:
        return sum((run.statuses for run in self.runs), Counter())

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    def summary(self) -> str:
        return (
            f"{USERS} users x {OPERATIONS_PER_USER} operations (+1 final listing each): {self.requests} requests "
            f"in {self.elapsed:.1f}s; by outcome: {dict(sorted(self.statuses.items()))}"
        )


def pick_operation(rng: random.Random, run: UserRun) -> str:
    if not run.expected:
        return "create"
    return rng.choices(["create", "update", "toggle", "delete", "list"], weights=[30, 20, 25, 10, 15])[0]


def run_user(service: Endpoint, token: str, run: UserRun, seed: int, deadline: float) -> UserRun:
    rng = random.Random(seed)  # noqa: S311 (a reproducible mix of operations, not a secret)
    session = session_for(service)
    session.headers["Authorization"] = f"Bearer {token}"
    for number in range(OPERATIONS_PER_USER + 1):
        if time.monotonic() > deadline:
            run.failures.append("time limit reached")
            break
        # The last operation is always a listing: every user checks what they see.
        operation = "list" if number == OPERATIONS_PER_USER else pick_operation(rng, run)
        task_id = rng.choice(sorted(run.expected)) if operation in ("update", "toggle", "delete") else None
        try:
            response = perform(session, service, operation, task_id, run, number)
        except requests.RequestException as exc:
            run.failures.append(f"{operation}: {type(exc).__name__}")
            if task_id is not None:
                run.uncertain.add(task_id)
            continue
        run.statuses[(operation, response.status_code)] += 1
        if response.status_code != EXPECTED_STATUS[operation]:
            run.failures.append(f"{operation} {task_id}: {response.status_code} {response.text[:200]}")
            if task_id is not None:
                run.uncertain.add(task_id)
            continue
        record(run, operation, task_id, response)
    session.close()
    return run


def perform(
    session: requests.Session, service: Endpoint, operation: str, task_id: int | None, run: UserRun, number: int
) -> requests.Response:
    tasks, one = service.url("/api/tasks"), service.url(f"/api/tasks/{task_id}")
    if operation == "create":
        return session.post(tasks, json={"title": f"{run.user_id} #{number}"}, timeout=REQUEST_TIMEOUT)
    if operation == "update":
        return session.patch(one, json={"title": f"{run.user_id} #{number} renamed"}, timeout=REQUEST_TIMEOUT)
    if operation == "toggle":
        return session.patch(f"{one}/complete", timeout=REQUEST_TIMEOUT)
    if operation == "delete":
        return session.delete(one, timeout=REQUEST_TIMEOUT)
    return session.get(tasks, timeout=REQUEST_TIMEOUT)


def record(run: UserRun, operation: str, task_id: int | None, response: requests.Response) -> None:
    if operation == "delete":
        assert task_id is not None  # deletes, updates and toggles name a task
        del run.expected[task_id]
        return
    body = response.json()
    if operation == "list":
        items = body["items"]
        seen = {item["id"] for item in items}
        run.listings.append(seen)
        strangers = {item["user_id"] for item in items} - {run.user_id}
        # Sequential per user: the listing is exactly what this user's
        # acknowledged writes left (tasks in doubt may or may not be there).
        certain = set(run.expected) - run.uncertain
        if strangers or not certain <= seen or not seen - certain <= run.uncertain:
            run.wrong_listings.append(f"saw {sorted(seen)} with owners {strangers or '-'}, expected {sorted(certain)}")
        return
    assert body["user_id"] == run.user_id
    if operation == "toggle":
        assert task_id is not None
        previous = run.expected[task_id][1]
        if body["completed"] == previous and task_id not in run.uncertain:
            run.failures.append(f"toggle {task_id} answered {body['completed']}, was {previous}")
    run.expected[body["id"]] = (body["title"], body["completed"])
    run.uncertain.discard(body["id"])


def run_parallel_users(service: Endpoint, token_for: Callable[..., str]) -> ParallelUsers:
    """USERS users in parallel, each running OPERATIONS_PER_USER mixed
    operations in order, then one listing."""
    prefix = f"load-{uuid.uuid4().hex[:8]}"
    runs = [UserRun(f"{prefix}-{n:02d}") for n in range(USERS)]
    started = time.monotonic()
    deadline = started + TIME_LIMIT
    with ThreadPoolExecutor(max_workers=USERS) as pool:
        futures = [
            pool.submit(run_user, service, token_for(run.user_id), run, seed, deadline) for seed, run in enumerate(runs)
        ]
        done, not_done = wait(futures, timeout=TIME_LIMIT + REQUEST_TIMEOUT)
    elapsed = time.monotonic() - started
    assert not not_done, "some users never finished"
    for future in done:
        future.result()  # re-raise anything a user thread raised
    return ParallelUsers(prefix, runs, elapsed)


def assert_every_acknowledged_write_kept_and_listings_private(load: ParallelUsers, pg: psycopg.Connection[Any]) -> None:
    """Every request answered as expected, each listing held exactly the
    user's own tasks, and the database holds exactly what was acknowledged."""
    runs = load.runs
    failures = [f"{run.user_id}: {failure}" for run in runs for failure in run.failures]
    assert not failures, failures[:10]
    assert not any(code >= 500 for _, code in load.statuses)
    assert load.requests == USERS * (OPERATIONS_PER_USER + 1)
    wrong = [f"{run.user_id}: {listing}" for run in runs for listing in run.wrong_listings]
    assert not wrong, wrong[:5]

    rows = pg.execute(
        "SELECT user_id, id, title, completed FROM tasks_task WHERE user_id LIKE %s AND deleted_at IS NULL",
        [f"{load.prefix}-%"],
    ).fetchall()
    stored: dict[str, dict[int, tuple[str, bool]]] = {run.user_id: {} for run in runs}
    for user_id, task_id, title, completed in rows:
        stored[user_id][task_id] = (title, completed)
    for run in runs:
        assert stored[run.user_id] == run.expected, run.user_id
    # Ids are unique, so no id any user listed belongs to someone else.
    owner = {task_id: user_id for user_id, tasks in stored.items() for task_id in tasks}
    for run in runs:
        for listing in run.listings:
            assert all(owner.get(task_id, run.user_id) == run.user_id for task_id in listing)


def concurrently(
    service: Endpoint, calls: int, threads: int, send: Callable[[requests.Session], requests.Response]
) -> list[Any]:
    """`calls` requests spread over `threads` threads, one Session per thread."""
    local = threading.local()

    def one_call(_: int) -> requests.Response:
        if not hasattr(local, "session"):
            local.session = session_for(service)
        return send(local.session)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        responses = list(pool.map(one_call, range(calls), timeout=TIME_LIMIT))
    assert [response.status_code for response in responses] == [200] * calls, [r.text for r in responses][:3]
    return [response.json() for response in responses]


def create_task(service: Endpoint, headers: dict[str, str]) -> dict[str, Any]:
    response = requests.post(
        service.url("/api/tasks"), json={"title": "Shared"}, headers=headers, timeout=30, verify=service.verify
    )
    assert response.status_code == 201, response.text
    return response.json()


def assert_concurrent_flips_alternate_and_cancel_out(
    service: Endpoint, token_for: Callable[..., str], pg: psycopg.Connection[Any]
) -> list[bool]:
    """FLIPS no-body flips of one task at once; returns the answers in the
    order the row lock let them through."""
    headers = {"Authorization": f"Bearer {token_for(f'flipper-{uuid.uuid4().hex[:8]}')}"}
    task = create_task(service, headers)
    url = service.url(f"/api/tasks/{task['id']}/complete")

    bodies = concurrently(
        service, FLIPS, 20, lambda session: session.patch(url, headers=headers, timeout=REQUEST_TIMEOUT)
    )

    # An even number of flips leaves the task as it was...
    assert pg.execute("SELECT completed FROM tasks_task WHERE id = %s", [task["id"]]).fetchone() == (False,)
    # ...and each answer is the state its own flip produced: in the order the
    # row lock let them through, the answers alternate, starting from true.
    in_order = [body["completed"] for body in sorted(bodies, key=lambda body: body["updated_at"])]
    assert in_order == [True, False] * (FLIPS // 2)
    return in_order


def assert_concurrent_explicit_completions_change_the_task_once(
    service: Endpoint, token_for: Callable[..., str], pg: psycopg.Connection[Any]
) -> None:
    """EXPLICIT_COMPLETIONS concurrent `{"completed": true}`, then as many `false`."""
    headers = {"Authorization": f"Bearer {token_for(f'setter-{uuid.uuid4().hex[:8]}')}"}
    task = create_task(service, headers)
    url = service.url(f"/api/tasks/{task['id']}/complete")

    for wanted in (True, False):

        def set_completed(session: requests.Session, wanted: bool = wanted) -> requests.Response:
            return session.patch(url, json={"completed": wanted}, headers=headers, timeout=REQUEST_TIMEOUT)

        bodies = concurrently(service, EXPLICIT_COMPLETIONS, 15, set_completed)
        assert {body["completed"] for body in bodies} == {wanted}
        # Only the first call to get the row changed it; every other call found
        # it already set and wrote nothing, so all answers show one update.
        assert len({body["updated_at"] for body in bodies}) == 1
        row = pg.execute("SELECT completed, updated_at FROM tasks_task WHERE id = %s", [task["id"]]).fetchone()
        assert row is not None
        completed, updated_at = row
        assert completed is wanted
        assert updated_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ") == bodies[0]["updated_at"]

"""API_RATE_LIMIT under gunicorn with 2 workers: one count per user across
workers when REDIS_URL is set, and an outage of Redis is not an outage of the API.

Which worker answers a request is steered, not left to chance (e2e/workers.py)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import requests

from api.throttling import lease_size
from e2e.live import LiveService
from e2e.redis_cache import RedisCache
from e2e.workers import statuses_alternating_workers as alternating
from testing.processes import free_port

LIMIT = 5


def statuses_alternating_workers(service: LiveService, token: str, rounds: int) -> list[int]:
    """Each round: one request answered by each worker (see e2e/workers.py)."""
    headers = {"Authorization": f"Bearer {token}"}
    return alternating(
        service,
        "/api/tasks",
        f"Bearer {token}",
        rounds,
        lambda: requests.get(service.url("/api/tasks"), headers=headers, timeout=15).status_code,
    )


def statuses_within_one_day(
    service: LiveService, token_for: Callable[..., str], user_prefix: str, rounds: int
) -> list[int]:
    """statuses_alternating_workers for a fresh user, within one window.
    Windows are fixed (whole UTC days here); a run that straddles midnight is
    repeated once with a fresh user rather than judged."""
    for _ in range(2):
        day = time.time() // 86400
        statuses = statuses_alternating_workers(service, token_for(f"{user_prefix}-{uuid.uuid4().hex}"), rounds)
        if time.time() // 86400 == day:
            break
    return statuses


def test_rate_limit_is_counted_across_workers_through_redis(
    start_service: Callable[..., LiveService], redis_cache: RedisCache, token_for: Callable[..., str]
) -> None:
    service = start_service(name="throttle-redis", API_RATE_LIMIT=f"{LIMIT}/day", **redis_cache.env)

    statuses = statuses_within_one_day(service, token_for, "throttled", rounds=4)

    # 8 requests, 4 answered by each worker: a count per worker would let all 8 through.
    assert statuses == [200] * LIMIT + [429] * 3
    keys = redis_cache.stored_keys()
    assert keys, "the count is not kept in Redis"
    # Each counter expires a second after its window (a day here): none is left forever.
    assert all(0 < redis_cache.client.ttl(key) <= 86400 + 1 for key in keys)


def test_a_throttled_answer_is_json_with_retry_after(
    start_service: Callable[..., LiveService], redis_cache: RedisCache, token_for: Callable[..., str]
) -> None:
    service = start_service(name="throttle-429", API_RATE_LIMIT="1/day", **redis_cache.env)
    headers = {"Authorization": f"Bearer {token_for(f'throttled-{uuid.uuid4().hex}')}"}

    first = requests.get(service.url("/api/tasks"), headers=headers, timeout=15)
    second = requests.post(service.url("/api/tasks"), json={"title": "too many"}, headers=headers, timeout=15)

    assert first.status_code == 200
    assert second.status_code == 429
    assert second.headers["Content-Type"] == "application/json; charset=utf-8"
    assert set(second.json()) == {"detail"}
    assert 1 <= int(second.headers["Retry-After"]) <= 86400


def test_without_redis_each_worker_counts_on_its_own(
    start_service: Callable[..., LiveService], token_for: Callable[..., str]
) -> None:
    """The process-local fallback, and the proof that the steering above
    really reaches both workers: the same 8 requests all pass."""
    service = start_service(name="throttle-local", API_RATE_LIMIT=f"{LIMIT}/day")
    token = token_for(f"throttled-{uuid.uuid4().hex}")

    statuses = statuses_alternating_workers(service, token, rounds=4)

    assert statuses == [200] * 8


def test_unreachable_redis_fails_open_and_is_logged(
    start_service: Callable[..., LiveService], token_for: Callable[..., str]
) -> None:
    closed = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    service = start_service(name="throttle-redis-down", API_RATE_LIMIT="1/hour", REDIS_URL=closed)
    headers = {"Authorization": f"Bearer {token_for(f'throttled-{uuid.uuid4().hex}')}"}

    statuses = [requests.get(service.url("/api/tasks"), headers=headers, timeout=15).status_code for _ in range(3)]
    health = requests.get(service.url("/health"), timeout=15)

    assert statuses == [200, 200, 200]
    assert health.status_code == 200
    assert "rate limit not applied: throttle cache unavailable (ConnectionError)" in service.log()


def test_unauthenticated_requests_leave_nothing_in_redis(
    start_service: Callable[..., LiveService], redis_cache: RedisCache, token_for: Any
) -> None:
    service = start_service(name="throttle-anon", API_RATE_LIMIT=f"{LIMIT}/min", **redis_cache.env)

    statuses = {
        requests.get(service.url("/api/tasks"), headers=headers, timeout=15).status_code
        for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic YWxpY2U6cHc="})
        for _ in range(3)
    }

    assert statuses == {401}
    assert redis_cache.stored_keys() == []


def test_a_large_limit_is_leased_to_the_workers_a_few_requests_at_a_time_and_never_exceeded(
    start_service: Callable[..., LiveService], redis_cache: RedisCache, token_for: Callable[..., str]
) -> None:
    allowance = 251  # leases of 2 (api/throttling.py): the last one only half within the limit
    service = start_service(name="throttle-lease", API_RATE_LIMIT=f"{allowance}/day", **redis_cache.env)

    statuses = statuses_within_one_day(service, token_for, "leased", rounds=135)

    # Both workers answered all along; together never more than the limit, and
    # short of it by at most the request the other worker still holds.
    passed = statuses.count(200)
    assert allowance - (lease_size(allowance) - 1) <= passed <= allowance
    assert set(statuses[-10:]) == {429}
    # The count moved by leases of 2: far fewer round trips than requests.
    (key,) = redis_cache.stored_keys()
    assert int(redis_cache.client.get(key)) % lease_size(allowance) == 0

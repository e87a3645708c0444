"""Scaled out: nginx, configured by the shipped deploy/nginx/todo-api.conf,
round robin in front of two gunicorn instances on different ports that share
PostgreSQL and Redis.

The concurrency workloads of e2e/test_concurrency.py run through the balancer
unchanged; nginx's access log names the instance that answered each request,
which shows that both served, and each instance's own log confirms it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
import requests

from e2e.balancer import Balancer
from e2e.concurrency import (
    EXPLICIT_COMPLETIONS,
    FLIPS,
    assert_concurrent_explicit_completions_change_the_task_once,
    assert_concurrent_flips_alternate_and_cancel_out,
    assert_every_acknowledged_write_kept_and_listings_private,
    run_parallel_users,
)
from e2e.redis_cache import RedisCache

LIMIT = 5
BODY_LIMIT = 1024 * 1024  # API_MAX_BODY_BYTES' default, and the shipped client_max_body_size


def per_instance(balancer: Balancer, entries: list[dict[str, Any]]) -> list[int]:
    """Requests answered by the first and the second instance."""
    split = balancer.split(entries)
    return [split[instance.port] for instance in balancer.instances]


def new_entries(balancer: Balancer, logged_before: int, sent: int) -> list[dict[str, Any]]:
    return balancer.wait_for_entries(logged_before + sent)[logged_before:]


def test_fifty_users_through_the_balancer_lose_no_acknowledged_write_and_see_only_their_own_tasks(
    balanced_service: Balancer,
    token_for: Callable[..., str],
    pg: psycopg.Connection[Any],
    report_figure: Callable[[str], None],
) -> None:
    logged_before = len(balanced_service.entries())

    load = run_parallel_users(balanced_service, token_for)

    split = per_instance(balanced_service, new_entries(balanced_service, logged_before, load.requests))
    report_figure(f"through nginx to 2 instances: {load.summary()}; answered per instance: {split}")
    assert_every_acknowledged_write_kept_and_listings_private(load, pg)
    # Round robin: each instance answered its share, not just a stray request.
    assert sum(split) == load.requests
    assert min(split) >= load.requests // 3, split


def test_concurrent_flips_through_the_balancer_are_never_lost(
    balanced_service: Balancer,
    token_for: Callable[..., str],
    pg: psycopg.Connection[Any],
    report_figure: Callable[[str], None],
) -> None:
    logged_before = len(balanced_service.entries())

    in_order = assert_concurrent_flips_alternate_and_cancel_out(balanced_service, token_for, pg)

    # The row lock, not the instance, orders the flips: both instances flipped.
    split = per_instance(balanced_service, new_entries(balanced_service, logged_before, 1 + FLIPS))
    assert min(split) > 0, split
    report_figure(
        f"through nginx: {FLIPS} concurrent flips of one task, {in_order.count(True)} answered true, "
        f"final state unchanged; answered per instance (with the create): {split}"
    )


def test_concurrent_explicit_completions_through_the_balancer_change_the_task_once(
    balanced_service: Balancer,
    token_for: Callable[..., str],
    pg: psycopg.Connection[Any],
) -> None:
    logged_before = len(balanced_service.entries())

    assert_concurrent_explicit_completions_change_the_task_once(balanced_service, token_for, pg)

    split = per_instance(balanced_service, new_entries(balanced_service, logged_before, 1 + 2 * EXPLICIT_COMPLETIONS))
    assert min(split) > 0, split


def send_in_turn(balancer: Balancer, token: str, count: int) -> tuple[list[requests.Response], list[int]]:
    """`count` GETs one after another; the answers, and the port of the
    instance that answered each (from nginx's access log)."""
    request_ids = [f"throttle-{uuid.uuid4().hex}" for _ in range(count)]
    responses = [
        requests.get(
            balancer.url("/api/tasks"),
            headers={"Authorization": f"Bearer {token}", "X-Request-ID": request_id},
            timeout=15,
            verify=balancer.verify,
        )
        for request_id in request_ids
    ]
    entries = balancer.entries_for(request_ids)
    ports = []
    for request_id in request_ids:
        instance = balancer.served_by(entries[request_id])
        assert instance is not None, entries[request_id]
        ports.append(instance.port)
    return responses, ports


def throttled_run(balancer: Balancer, token_for: Callable[..., str]) -> tuple[list[requests.Response], list[int]]:
    """2 x LIMIT requests by a fresh user. Windows are fixed (whole UTC days
    here); a run that straddles midnight is repeated once rather than judged."""
    for _ in range(2):
        day = time.time() // 86400
        responses, ports = send_in_turn(balancer, token_for(f"throttled-{uuid.uuid4().hex}"), 2 * LIMIT)
        if time.time() // 86400 == day:
            break
    return responses, ports


def test_rate_limit_is_one_count_across_both_instances_through_shared_redis(
    start_balanced: Callable[..., Balancer],
    redis_cache: RedisCache,
    token_for: Callable[..., str],
    report_figure: Callable[[str], None],
) -> None:
    balancer = start_balanced(name="balanced-throttle", API_RATE_LIMIT=f"{LIMIT}/day", **redis_cache.env)

    responses, ports = throttled_run(balancer, token_for)

    statuses = [response.status_code for response in responses]
    # Both instances answered within the limit, so neither counted alone:
    # counting per instance would have let all 2 x LIMIT through.
    assert statuses == [200] * LIMIT + [429] * LIMIT
    assert set(ports[:LIMIT]) == {instance.port for instance in balancer.instances}
    for refused in responses[LIMIT:]:
        assert refused.headers["Content-Type"] == "application/json; charset=utf-8"
        assert set(refused.json()) == {"detail"}
        assert 1 <= int(refused.headers["Retry-After"]) <= 86400
    assert redis_cache.stored_keys(), "the count is not kept in Redis"
    report_figure(
        f"rate limit {LIMIT}/day through nginx, shared Redis: {len(statuses)} requests, "
        f"per instance {[ports.count(instance.port) for instance in balancer.instances]}: "
        f"{statuses.count(200)} passed, {statuses.count(429)} answered 429"
    )


def test_instances_that_do_not_share_a_redis_prefix_each_count_on_their_own(
    start_balanced: Callable[..., Balancer],
    redis_cache: RedisCache,
    token_for: Callable[..., str],
    report_figure: Callable[[str], None],
) -> None:
    """The misconfiguration the shared CACHE_KEY_PREFIX prevents, and the
    proof that the requests of the test above really alternate instances."""
    balancer = start_balanced(
        name="balanced-throttle-apart",
        API_RATE_LIMIT=f"{LIMIT}/day",
        b_overrides=redis_cache.env_with_own_prefix("b"),
        **redis_cache.env,
    )

    responses, ports = throttled_run(balancer, token_for)

    assert [ports.count(instance.port) for instance in balancer.instances] == [LIMIT, LIMIT]
    assert [response.status_code for response in responses] == [200] * (2 * LIMIT)
    report_figure(
        f"rate limit {LIMIT}/day through nginx, a Redis prefix per instance: {len(responses)} requests, "
        f"{LIMIT} per instance, all passed"
    )


def test_client_request_id_comes_back_through_the_balancer_unchanged(
    balanced_service: Balancer, token_for: Callable[..., str]
) -> None:
    request_id = f"scale-out-{uuid.uuid4().hex}"

    response = requests.get(
        balanced_service.url("/api/tasks"),
        headers={"Authorization": f"Bearer {token_for('request-id')}", "X-Request-ID": request_id},
        timeout=15,
        verify=balanced_service.verify,
    )

    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == request_id
    entry = balanced_service.entries_for({request_id})[request_id]
    answered = balanced_service.served_by(entry)
    assert answered is not None
    assert [f'request_id="{request_id}"' in instance.log() for instance in balanced_service.instances] == [
        instance is answered for instance in balanced_service.instances
    ]


@pytest.mark.parametrize("sent", [None, "not/well-formed", "x" * 129], ids=["missing", "malformed", "too-long"])
def test_request_without_a_usable_id_gets_one_from_nginx_that_the_instance_logs_and_returns(
    balanced_service: Balancer, token_for: Callable[..., str], sent: str | None
) -> None:
    headers = {"Authorization": f"Bearer {token_for('request-id')}"}
    if sent is not None:
        headers["X-Request-ID"] = sent

    response = requests.get(
        balanced_service.url("/api/tasks"), headers=headers, timeout=15, verify=balanced_service.verify
    )

    request_id = response.headers["X-Request-ID"]
    assert request_id != sent
    # One id for the request in nginx's access log and in the instance's log.
    answered = balanced_service.served_by(balanced_service.entries_for({request_id})[request_id])
    assert answered is not None
    assert f'request_id="{request_id}"' in answered.log()


def padded_body(size: int) -> bytes:
    """A valid body of exactly `size` bytes: the padding is an ignored field."""
    empty = b'{"title": "Big", "padding": ""}'
    return empty[:-2] + b"x" * (size - len(empty)) + b'"}'


def test_body_limit_of_the_balancer_matches_the_api_and_refuses_in_json(
    balanced_service: Balancer, token_for: Callable[..., str]
) -> None:
    headers = {"Authorization": f"Bearer {token_for('big-bodies')}", "Content-Type": "application/json"}
    at_limit, over = f"at-limit-{uuid.uuid4().hex}", f"over-limit-{uuid.uuid4().hex}"

    accepted = requests.post(
        balanced_service.url("/api/tasks"),
        data=padded_body(BODY_LIMIT),
        headers={**headers, "X-Request-ID": at_limit},
        timeout=30,
        verify=balanced_service.verify,
    )
    refused = requests.post(
        balanced_service.url("/api/tasks"),
        data=padded_body(BODY_LIMIT + 1),
        headers={**headers, "X-Request-ID": over},
        timeout=30,
        verify=balanced_service.verify,
    )

    assert accepted.status_code == 201, accepted.text
    assert refused.status_code == 413
    assert refused.headers["Content-Type"] == "application/json; charset=utf-8"
    assert set(refused.json()) == {"detail"}
    entries = balanced_service.entries_for({at_limit, over})
    assert balanced_service.served_by(entries[at_limit]) is not None
    assert balanced_service.served_by(entries[over]) is None, "nginx should refuse it without an instance"

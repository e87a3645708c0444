"""API_AUTH_FAILURE_RATE_LIMIT against real deployments: one count per client
address across gunicorn's workers through Redis, and behind nginx (the shipped
deploy/nginx/todo-api.conf) the address taken from X-Forwarded-For only when
the request comes from a proxy listed in TRUSTED_PROXIES.

Clients here connect from several loopback addresses (127.0.0.2, 127.0.0.3,
...: all of 127.0.0.0/8 is this host), so nginx and gunicorn see different
peers. Windows are whole UTC days, so no test straddles a window's end unless
it runs across midnight; then it is repeated once rather than judged."""

from __future__ import annotations

import http.client
import ssl
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import requests

from e2e.balancer import SERVER_NAME, Balancer
from e2e.live import LiveService
from e2e.redis_cache import RedisCache
from e2e.workers import statuses_alternating_workers

LIMIT = 3
BAD = "Bearer not-a-token"
NGINX = "127.0.0.1"  # the address nginx connects to the instances from


def get_from(source: str, target: Balancer | LiveService, **headers: str) -> http.client.HTTPResponse:
    """GET /api/tasks over a connection from the loopback address `source`:
    to the balancer over HTTPS, as its clients do, or straight to an instance
    (which, behind the shipped template, expects nginx's X-Forwarded-Proto)."""
    connection: http.client.HTTPConnection
    if isinstance(target, Balancer):
        context = ssl.create_default_context(cafile=str(target.certificate))
        connection = http.client.HTTPSConnection(
            SERVER_NAME, target.port, timeout=15, source_address=(source, 0), context=context
        )
    else:
        connection = http.client.HTTPConnection("127.0.0.1", target.port, timeout=15, source_address=(source, 0))
        headers = {"Host": "127.0.0.1", "X-Forwarded-Proto": "https", **headers}
    connection.request("GET", "/api/tasks", headers={"Connection": "close", **headers})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def statuses_from(source: str, target: Balancer | LiveService, count: int, **headers: str) -> list[int]:
    return [get_from(source, target, Authorization=BAD, **headers).status for _ in range(count)]


@contextmanager
def one_window() -> Iterator[Callable[[], bool]]:
    """Yields a check that the window (a UTC day) has not changed meanwhile."""
    day = time.time() // 86400
    yield lambda: time.time() // 86400 == day


def test_failures_are_counted_across_workers_through_redis_and_then_even_valid_tokens_wait(
    start_service: Callable[..., LiveService], redis_cache: RedisCache, token_for: Callable[..., str]
) -> None:
    service = start_service(name="authfail-redis", API_AUTH_FAILURE_RATE_LIMIT=f"{LIMIT + 1}/day", **redis_cache.env)
    valid = f"Bearer {token_for(f'user-{uuid.uuid4().hex}')}"

    def one_from_each_worker(authorization: str, rounds: int) -> list[int]:
        def send() -> int:
            headers = {"Authorization": authorization}
            return requests.get(service.url("/api/tasks"), headers=headers, timeout=15).status_code

        return statuses_alternating_workers(service, "/api/tasks", authorization, rounds, send)

    for _ in range(2):
        with one_window() as same_window:
            failures = one_from_each_worker(BAD, rounds=2)
            over = one_from_each_worker(valid, rounds=1)
            if same_window():
                break

    # 4 failures, 2 answered by each worker: a count per worker would still be at 2 of 4.
    assert failures == [401] * (LIMIT + 1)
    assert over == [429, 429]
    keys = [key for key in redis_cache.stored_keys() if b"authfail" in key]
    assert keys
    assert all(b"127.0.0.1" not in key for key in keys)
    assert all(0 < redis_cache.client.ttl(key) <= 86400 + 1 for key in keys)


def test_the_429_is_json_with_retry_after_and_the_401s_before_it_are_unchanged(
    start_service: Callable[..., LiveService], redis_cache: RedisCache
) -> None:
    service = start_service(name="authfail-429", API_AUTH_FAILURE_RATE_LIMIT="1/day", **redis_cache.env)

    first = requests.get(service.url("/api/tasks"), headers={"Authorization": BAD}, timeout=15)
    second = requests.get(service.url("/api/tasks"), headers={"Authorization": BAD}, timeout=15)

    assert first.status_code == 401
    assert first.json() == {"detail": "Invalid token: malformed"}
    assert first.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    assert second.status_code == 429
    assert second.headers["Content-Type"] == "application/json; charset=utf-8"
    assert set(second.json()) == {"detail"}
    assert 1 <= int(second.headers["Retry-After"]) <= 86400
    assert "WWW-Authenticate" not in second.headers


def balanced_with_limit(start_balanced: Callable[..., Balancer], redis_cache: RedisCache, **overrides: str) -> Balancer:
    return start_balanced(
        name=f"authfail-{uuid.uuid4().hex[:6]}",
        API_AUTH_FAILURE_RATE_LIMIT=f"{LIMIT}/day",
        **redis_cache.env,
        **overrides,
    )


def test_behind_a_trusted_nginx_each_client_address_has_its_own_allowance(
    start_balanced: Callable[..., Balancer], redis_cache: RedisCache
) -> None:
    balancer = balanced_with_limit(start_balanced, redis_cache, TRUSTED_PROXIES=NGINX)

    for _ in range(2):
        with one_window() as same_window:
            # Whatever a client writes in X-Forwarded-For, nginx's entry names it.
            first = [
                get_from("127.0.0.2", balancer, Authorization=BAD, **{"X-Forwarded-For": f"198.51.100.{n}"}).status
                for n in range(LIMIT + 1)
            ]
            second = statuses_from("127.0.0.3", balancer, 1)
            if same_window():
                break

    assert first == [401] * LIMIT + [429]
    assert second == [401]
    # Both instances counted: nginx spread the requests across them.
    served = balancer.split(balancer.wait_for_entries(LIMIT + 2))
    assert len(served) == 2, served


def test_x_forwarded_for_from_a_peer_that_is_not_a_trusted_proxy_is_ignored(
    start_balanced: Callable[..., Balancer], redis_cache: RedisCache
) -> None:
    balancer = balanced_with_limit(start_balanced, redis_cache, TRUSTED_PROXIES=NGINX)
    instance = balancer.instances[0]

    # Straight to an instance, from 127.0.0.4, naming a new client each time.
    statuses = [
        get_from("127.0.0.4", instance, Authorization=BAD, **{"X-Forwarded-For": f"198.51.100.{n}"}).status
        for n in range(LIMIT + 1)
    ]

    assert statuses == [401] * LIMIT + [429]


def test_behind_nginx_without_trusted_proxies_every_client_counts_as_nginx(
    start_balanced: Callable[..., Balancer], redis_cache: RedisCache
) -> None:
    """Fail closed: unset, TRUSTED_PROXIES trusts nobody, X-Forwarded-For is
    ignored, and every client behind nginx shares nginx's allowance."""
    balancer = balanced_with_limit(start_balanced, redis_cache)

    for _ in range(2):
        with one_window() as same_window:
            first = statuses_from("127.0.0.2", balancer, LIMIT)
            second = statuses_from("127.0.0.3", balancer, 1)
            if same_window():
                break

    assert first == [401] * LIMIT
    assert second == [429]

"""Fixtures for end-to-end tests against gunicorn and PostgreSQL.

`make test-e2e` runs these. They need PostgreSQL (E2E_PG_URL, default the
local server); without it they are skipped, except under CI where that fails.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import psycopg
import pytest

from e2e.balancer import INSTANCE_ENV, Balancer, find_nginx

# Fixtures for the e2e/test_browser_*.py files.
from e2e.browser.fixtures import browser, page, screenshot  # noqa: F401
from e2e.live import LiveService
from e2e.redis_cache import RedisCache, redis_under_own_prefix
from testing.databases import create_database, drop_database
from testing.environments import deployment_env
from testing.tokens import mint

_FIGURES: list[str] = []


@pytest.fixture
def report_figure() -> Callable[[str], None]:
    """Record a measured figure; the run lists them all at the end, so CI's log
    carries the numbers the README quotes."""
    return lambda text: _FIGURES.append(text.strip())


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _FIGURES:
        terminalreporter.section("measured figures")
        for line in _FIGURES:
            terminalreporter.write_line(line)


E2E_PG_URL = os.environ.get("E2E_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    try:
        psycopg.connect(E2E_PG_URL, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required under CI for end-to-end tests: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {E2E_PG_URL}")
    return E2E_PG_URL


@pytest.fixture(scope="session")
def e2e_database(pg_admin_url: str) -> Iterator[str]:
    """URL of a freshly migrated database, shared by the session's services."""
    url = create_database(pg_admin_url)
    yield url
    drop_database(pg_admin_url, url)


@pytest.fixture(scope="session")
def better_auth_secret() -> str:
    return secrets.token_urlsafe(40)


@pytest.fixture(scope="session")
def token_for(better_auth_secret: str) -> Callable[..., str]:
    """token_for("alice") -> a valid HS256 token for the live services."""

    def _token(user_id: Any, **claims: Any) -> str:
        return mint(better_auth_secret, user_id, **claims)

    return _token


@pytest.fixture(scope="session")
def live_service(e2e_database: str, better_auth_secret: str) -> Iterator[LiveService]:
    """The default deployment: gunicorn, 2 workers, DEBUG off, throttling off."""
    with LiveService(deployment_env(e2e_database, better_auth_secret), name="live") as service:
        yield service


@pytest.fixture
def start_service(e2e_database: str, better_auth_secret: str) -> Iterator[Callable[..., LiveService]]:
    """start_service(NAME=value, ...) -> a started service with those overrides,
    stopped at the end of the test."""
    started: list[LiveService] = []

    def _start(*, name: str = "custom", **overrides: str) -> LiveService:
        env = deployment_env(overrides.pop("DATABASE_URL", e2e_database), better_auth_secret, **overrides)
        service = LiveService(env, name=name).start()
        started.append(service)
        return service

    yield _start
    for service in started:
        service.stop()


@pytest.fixture
def pg(e2e_database: str) -> Iterator[psycopg.Connection[Any]]:
    """A direct connection to the live database, to check what was really stored."""
    # No prepared statements (psycopg prepares a query run 5 times): through a
    # transaction-pooling PgBouncer (make test-pgbouncer) the next run of it may
    # land on a server connection where it was never prepared.
    with psycopg.connect(e2e_database, autocommit=True, prepare_threshold=None) as conn:
        yield conn


@pytest.fixture
def redis_cache() -> Iterator[RedisCache]:
    """The local Redis under a key prefix of its own (concurrent runs share
    the server): `.env` points a service at it; the keys the service wrote are
    deleted afterwards."""
    with redis_under_own_prefix() as cache:
        yield cache


@pytest.fixture(scope="session")
def session_redis_cache() -> Iterator[RedisCache]:
    """As redis_cache, one prefix for the whole session."""
    with redis_under_own_prefix() as cache:
        yield cache


# --- nginx in front of two instances (e2e/balancer.py) ----------------------------


@pytest.fixture(scope="session")
def nginx_binary() -> str:
    nginx = find_nginx()
    if nginx is None:
        if os.environ.get("CI"):
            pytest.fail("nginx is required under CI for the scale-out tests: apt-get install nginx (or set E2E_NGINX)")
        pytest.skip("nginx not found (apt-get install nginx, or set E2E_NGINX)")
    return nginx


@contextmanager
def running_balancer(nginx: str, envs: tuple[dict[str, str], dict[str, str]], *, name: str) -> Iterator[Balancer]:
    instances = [LiveService(env, name=f"{name}-{letter}") for env, letter in zip(envs, "ab", strict=True)]
    balancer = Balancer(nginx, instances, name=name)
    try:
        yield balancer.start()
    finally:
        balancer.stop()


@pytest.fixture(scope="session")
def balanced_service(
    nginx_binary: str, e2e_database: str, better_auth_secret: str, session_redis_cache: RedisCache
) -> Iterator[Balancer]:
    """nginx with the shipped configuration in front of two gunicorn
    instances (2 workers each, DEBUG off, throttling off, the settings the
    shipped file asks for) sharing the e2e database and Redis."""
    env = deployment_env(e2e_database, better_auth_secret, **INSTANCE_ENV, **session_redis_cache.env)
    with running_balancer(nginx_binary, (env, env), name="balanced") as balancer:
        yield balancer


@pytest.fixture
def start_balanced(nginx_binary: str, e2e_database: str, better_auth_secret: str) -> Iterator[Callable[..., Balancer]]:
    """start_balanced(NAME=value, ...) -> a started balancer whose two
    instances have those overrides (on top of the settings the shipped file
    asks for); `b_overrides` apply to the second one only. Stopped at the end
    of the test."""
    with ExitStack() as stack:

        def _start(
            *, name: str = "balanced-custom", b_overrides: dict[str, str] | None = None, **overrides: str
        ) -> Balancer:
            env_a = deployment_env(e2e_database, better_auth_secret, **{**INSTANCE_ENV, **overrides})
            env_b = {**env_a, **(b_overrides or {})}
            return stack.enter_context(running_balancer(nginx_binary, (env_a, env_b), name=name))

        yield _start

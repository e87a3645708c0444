"""The local Redis under a key prefix of its own, for the end-to-end tests
that share a cache between workers and instances (E2E_REDIS_URL, default the
local server; without it those tests are skipped, except under CI where that
fails). The fixtures are in e2e/conftest.py."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

E2E_REDIS_URL = os.environ.get("E2E_REDIS_URL", "redis://127.0.0.1:6379/0")


@dataclass
class RedisCache:
    env: dict[str, str]  # overrides for start_service(**env)
    prefix: str
    client: Any

    def stored_keys(self) -> list[bytes]:
        return list(self.client.scan_iter(match=f"{self.prefix}:*"))

    def env_with_own_prefix(self, suffix: str) -> dict[str, str]:
        """Overrides for a service that uses the same Redis but keeps its own
        keys (deleted afterwards too)."""
        return {**self.env, "CACHE_KEY_PREFIX": f"{self.prefix}-{suffix}"}


@contextmanager
def redis_under_own_prefix() -> Iterator[RedisCache]:
    import redis

    client = redis.Redis.from_url(E2E_REDIS_URL, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Redis is required under CI for end-to-end tests: {exc}")
        pytest.skip(f"Redis not reachable at {E2E_REDIS_URL}")
    prefix = f"todo-e2e-{secrets.token_hex(6)}"
    cache = RedisCache({"REDIS_URL": E2E_REDIS_URL, "CACHE_KEY_PREFIX": prefix}, prefix, client)
    try:
        yield cache
    finally:
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
        client.close()

"""Fixtures shared by every test: clients that carry real Bearer tokens, and
tasks created straight in the database. The plain helpers they call are in
testing/; test modules import those from there, never from here."""

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from api import throttling
from tasks.changes import lock_for_writing
from tasks.models import Task
from testing import processes
from testing.credentials import signing_key
from testing.tokens import mint

TokenFactory = Callable[..., str]


@pytest.fixture(autouse=True)
def _no_rate_limit_unless_asked(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests send far more requests per user, and far more bad tokens from
    one address, than a person would; the ones about throttling set the limits
    themselves (api/tests/test_throttling.py, test_client_address_limits.py).
    No test inherits requests that an earlier one leased from the count."""
    settings.API_RATE_LIMIT = "off"
    settings.API_AUTH_FAILURE_RATE_LIMIT = "off"
    settings.API_DOCS_RATE_LIMIT = "off"
    monkeypatch.setattr(throttling, "leases", throttling.Leases())


@pytest.fixture
def make_token() -> TokenFactory:
    """Sign a token the way a Better Auth frontend would: HS256 with the shared
    secret, signed here with PyJWT rather than by the code under test.
    `make_token(user_id, expires_in=, key=, algorithm=, **claims)`; a claim
    given as None is left out."""

    def _make(
        user_id: Any = "alice",
        *,
        expires_in: timedelta = timedelta(minutes=5),
        key: str | None = None,
        algorithm: str = "HS256",
        **claims: Any,
    ) -> str:
        return mint(key or signing_key(), user_id, expires_in=expires_in, algorithm=algorithm, **claims)

    return _make


@pytest.fixture
def api_client() -> APIClient:
    """A client with no credentials."""
    return APIClient()


@pytest.fixture
def client_for(make_token: TokenFactory) -> Callable[[str], APIClient]:
    def _client(user_id: str) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(user_id)}")
        return client

    return _client


@pytest.fixture
def alice(client_for: Callable[[str], APIClient]) -> APIClient:
    return client_for("alice")


@pytest.fixture
def bob(client_for: Callable[[str], APIClient]) -> APIClient:
    return client_for("bob")


@pytest.fixture
def make_task(db: None) -> Callable[..., Task]:
    def _make(user_id: str = "alice", **fields: Any) -> Task:
        """A task of `user_id`, written as the API writes one: under the
        user's write locks, so it has its change number (GET /api/sync)."""
        fields.setdefault("title", "Buy milk")
        with transaction.atomic():
            lock_for_writing(user_id, order=True)
            return Task.objects.create(user_id=user_id, **fields)

    return _make


@pytest.fixture
def value_in_fresh_process() -> Callable[..., Any]:
    """`value_in_fresh_process(expression, **env)`: the JSON value of
    `expression` (with `settings` and `connection` in scope) in a new
    interpreter in development mode, without this one's configuration,
    plus `env` (testing.processes.value_in_fresh_process)."""
    return processes.value_in_fresh_process


@pytest.fixture
def postgresql_only() -> None:
    """Skip on SQLite: row and advisory locks, the change number sequence and
    real concurrency need PostgreSQL."""
    if connection.vendor != "postgresql":
        pytest.skip(
            f"row and advisory locks and sequences need PostgreSQL; this run uses {connection.vendor}: "
            "set DATABASE_URL=postgres://... to run the PostgreSQL-only tests"
        )


@pytest.fixture
def other_connection(postgresql_only: None) -> Iterator[psycopg.Connection[Any]]:
    """A second PostgreSQL connection to the test database, outside Django: to
    hold locks the service's requests then meet. Rolled back and closed at the end."""
    with psycopg.connect(**connection.get_connection_params()) as other:
        yield other

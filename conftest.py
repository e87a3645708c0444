"""Fixtures shared by every test: clients that carry real Bearer tokens, and
tasks created straight in the database."""

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from tasks.models import Task

TokenFactory = Callable[..., str]


@pytest.fixture(autouse=True)
def _no_rate_limit_unless_asked(settings: Any) -> None:
    """Tests send far more requests per user than a person would; the ones
    about throttling set API_RATE_LIMIT themselves (api/tests/test_throttling.py)."""
    settings.API_RATE_LIMIT = "off"


@pytest.fixture
def make_token() -> TokenFactory:
    """Sign a token the way a Better Auth frontend would: HS256 with the shared
    secret, signed here with PyJWT rather than by the code under test."""

    def _make(
        user_id: Any = "alice",
        *,
        expires_in: timedelta = timedelta(minutes=5),
        key: str | None = None,
        algorithm: str = "HS256",
        **claims: Any,
    ) -> str:
        now = timezone.now()
        payload = {"sub": user_id, "iat": int(now.timestamp()), "exp": int((now + expires_in).timestamp())}
        payload.update(claims)
        payload = {name: value for name, value in payload.items() if value is not None}
        return jwt.encode(payload, key or settings.SIMPLE_JWT["SIGNING_KEY"], algorithm=algorithm)

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
        fields.setdefault("title", "Buy milk")
        return Task.objects.create(user_id=user_id, **fields)

    return _make


@pytest.fixture
def value_in_fresh_process() -> Callable[..., Any]:
    """`value_in_fresh_process(expression, **env)`: the JSON value of
    `expression` (with `settings` and `connection` in scope) in a new
    interpreter, whose environment is this one's without DATABASE_* and
    DJANGO_* variables, plus `env`. Settings are read once per process."""
    program = (
        "import json, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'todo_project.settings'; "
        "from django.conf import settings; from django.db import connection; "
        "print(json.dumps({expression}))"
    )

    def _value(expression: str, **env: str) -> Any:
        clean = {name: value for name, value in os.environ.items() if not name.startswith(("DATABASE_", "DJANGO_"))}
        result = subprocess.run(  # noqa: S603 (our own interpreter and settings)
            [sys.executable, "-c", program.format(expression=expression)],
            cwd=Path(__file__).resolve().parent,
            env={**clean, "DJANGO_DEBUG": "true", **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return json.loads(result.stdout.strip().splitlines()[-1])

    return _value

"""The real gunicorn command refuses an unsafe production configuration: a
non-zero exit, one line naming the variable, no traceback, no worker started,
and never the offending secret echoed back. (api/tests/test_settings.py
checks the same rules through manage.py.)"""

from __future__ import annotations

import secrets
import subprocess
import sys

import pytest

from testing.environments import deployment_env
from testing.processes import REPO, free_port

UNUSED_DATABASE = "postgres://nobody@127.0.0.1:9/never-connected"
SHORT = "Zq8#short-but-random-31-chars!x"

CASES = {
    "secret-key-missing": (
        {"DJANGO_SECRET_KEY": None},
        "production mode (DJANGO_DEBUG is not true) needs DJANGO_SECRET_KEY;",
    ),
    "secret-key-dev-default": (
        {"DJANGO_SECRET_KEY": "django-insecure-development-key-do-not-use-in-production"},
        "DJANGO_SECRET_KEY is a known development or example value",
    ),
    "secret-key-example": (
        {"DJANGO_SECRET_KEY": "change-me-to-a-long-random-string"},
        "DJANGO_SECRET_KEY is a known development or example value",
    ),
    "secret-key-short": ({"DJANGO_SECRET_KEY": SHORT}, "DJANGO_SECRET_KEY must be at least 32 characters"),
    "auth-secret-missing": (
        {"BETTER_AUTH_SECRET": None},
        "production mode (DJANGO_DEBUG is not true) needs BETTER_AUTH_SECRET (HS256 tokens) or BETTER_AUTH_URL",
    ),
    "debug-unset-no-secrets": (
        {"DJANGO_DEBUG": None, "DJANGO_SECRET_KEY": None, "BETTER_AUTH_SECRET": None},
        "production mode (DJANGO_DEBUG is not true) needs DJANGO_SECRET_KEY and BETTER_AUTH_SECRET",
    ),
    "auth-secret-dev-default": (
        {"BETTER_AUTH_SECRET": "development-better-auth-secret-do-not-use-in-production"},
        "BETTER_AUTH_SECRET is a known development or example value",
    ),
    "auth-secret-short": ({"BETTER_AUTH_SECRET": SHORT}, "BETTER_AUTH_SECRET must be at least 32 characters"),
    "rate-limit-invalid": ({"API_RATE_LIMIT": "lots"}, "API_RATE_LIMIT must be a rate like 600/min"),
    "log-format-invalid": ({"LOG_FORMAT": "xml"}, "LOG_FORMAT must be plain or json"),
}


@pytest.mark.parametrize(("overrides", "expected"), list(CASES.values()), ids=list(CASES))
def test_gunicorn_refuses_an_unsafe_configuration_with_one_clear_line(
    overrides: dict[str, str | None], expected: str
) -> None:
    env = deployment_env(UNUSED_DATABASE, secrets.token_urlsafe(40))
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value

    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{free_port()}"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    output = (result.stdout + result.stderr).strip()
    assert result.returncode != 0
    assert output.splitlines() == [output], output
    assert output.startswith(f"configuration error: {expected}")
    for name, value in overrides.items():
        if value and "SECRET" in name:
            assert value not in output

"""Environments for a fresh process (manage.py, gunicorn, `python -c`): this
process's environment without any variable the settings read, plus what the
test sets. Settings are read once per process, so each configuration needs a
process of its own.

DJANGO_DEBUG defaults to false (production), which refuses to start without
real secrets: `development_env` sets DJANGO_DEBUG=true explicitly, and
`production_env` DJANGO_DEBUG=false with safe secrets."""

from __future__ import annotations

import os
import secrets

# Variables the settings module reads: none may leak in from the test run.
CONFIG_PREFIXES = ("DJANGO_", "BETTER_AUTH_", "DATABASE_", "JWT_", "CORS_", "API_", "REDIS_", "LOG_", "CACHE_")
CONFIG_NAMES = {
    "BIND_ADDRESS",
    "PORT",
    "WEB_CONCURRENCY",
    "TRUSTED_PROXIES",
    "TASKS_MAX_PER_USER",
    "TRASH_RETENTION_DAYS",
}

# 50 random characters: what `check --deploy` asks of SECRET_KEY.
GOOD_SECRET_KEY = "r7Kq2vXw9LpZt4Nb8YcHs3Mf6Jd1Ge5Ua0Wo-_iQxVyTnBkRzE"
GOOD_AUTH_SECRET = "b3Xy8QwT1mZk6Rc9Vn2Hj5Lp0Fd4Gs7Aa_-eUoIiKtYrWqPzN"


def clean_env(**overrides: str) -> dict[str, str]:
    """This environment with no configuration at all, plus `overrides`: what
    the settings then do by default."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(CONFIG_PREFIXES) and name not in CONFIG_NAMES
    }
    env.update(overrides)
    return env


def development_env(**overrides: str) -> dict[str, str]:
    """Development mode (DJANGO_DEBUG=true: development secrets, SQLite unless
    DATABASE_URL is given), plus `overrides`."""
    return clean_env(**{"DJANGO_DEBUG": "true", **overrides})


def production_env(**overrides: str) -> dict[str, str]:
    """Production mode (DJANGO_DEBUG=false) with safe secrets, plus `overrides`."""
    settings = {"DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": GOOD_SECRET_KEY, "BETTER_AUTH_SECRET": GOOD_AUTH_SECRET}
    return clean_env(**{**settings, **overrides})


def deployment_env(database: str, better_auth_secret: str, **overrides: str) -> dict[str, str]:
    """The environment of a production deployment serving `database`: DEBUG
    off, a random secret key, `better_auth_secret`, two workers, and
    throttling off (fuzzing and load runs send far more than a person would,
    all from one address; a test about throttling sets the limit it tests)."""
    return production_env(
        **{
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "BETTER_AUTH_SECRET": better_auth_secret,
            "DATABASE_URL": database,
            "WEB_CONCURRENCY": "2",
            "API_RATE_LIMIT": "off",
            "API_AUTH_FAILURE_RATE_LIMIT": "off",
            "API_DOCS_RATE_LIMIT": "off",
            **overrides,
        }
    )

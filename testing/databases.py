"""Throwaway PostgreSQL databases next to an admin URL, for the end-to-end
tests and the benchmark."""

from __future__ import annotations

import subprocess
import sys
import uuid
from typing import Any

import psycopg

from testing.environments import development_env
from testing.processes import REPO


def database_url(admin_url: str, name: str) -> str:
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def create_database(admin_url: str) -> str:
    """Create an empty database next to `admin_url`, migrate it, return its URL."""
    name = f"todo_e2e_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = database_url(admin_url, name)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=REPO,
        env=development_env(DATABASE_URL=url),
        check=True,
    )
    return url


def drop_database(admin_url: str, url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def backend_pid(connection: Any) -> int:
    """The PostgreSQL server process behind `connection` (Django's, or any
    DB-API connection): it changes when the connection is replaced."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]

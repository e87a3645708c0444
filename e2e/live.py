"""A real deployment for end-to-end tests: a throwaway PostgreSQL database,
migrated, served by gunicorn with the production settings, driven over HTTP.

Tests here never import the service's code paths that serve requests; they
speak HTTP to gunicorn and read the database with psycopg, as an operator would.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import jwt
import psycopg
import requests

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "e2e" / "artifacts"


class Endpoint(Protocol):
    """Where tests send HTTP: one gunicorn, or nginx in front of several."""

    base_url: str

    def url(self, path: str) -> str: ...


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_answering(
    process: subprocess.Popen[bytes],
    url: str,
    *,
    name: str,
    log: Callable[[], str],
    timeout: float,
    any_status: bool = False,
) -> None:
    """Poll `url` until it answers 200 (any status with `any_status`), or
    raise RuntimeError with the process's log when it exits or the timeout passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{log()}")
        try:
            if requests.get(url, timeout=2).status_code == 200 or any_status:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{name} did not answer within {timeout}s:\n{log()}")


def stop_process(process: subprocess.Popen[bytes], *, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
    """Signal `process` unless it has exited, wait for it (kill it after
    `timeout`), and return its exit code."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


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
        env={**os.environ, "DATABASE_URL": url, "DJANGO_DEBUG": "true"},
        check=True,
    )
    return url


def drop_database(admin_url: str, url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def mint(secret: str, user_id: Any, *, minutes: int = 10, **claims: Any) -> str:
    """An HS256 token as Better Auth's cookie cache signs it (here: with PyJWT)."""
    now = int(time.time())
    payload = {"sub": user_id, "iat": now, "exp": now + minutes * 60, **claims}
    return jwt.encode(payload, secret, algorithm="HS256")


def production_env(database: str, better_auth_secret: str, **overrides: str) -> dict[str, str]:
    """The environment of a production deployment: DEBUG off, real secrets."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "JWT_", "API_", "REDIS_", "LOG_", "BETTER_AUTH_"))
    }
    env.update(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        BETTER_AUTH_SECRET=better_auth_secret,
        DATABASE_URL=database,
        WEB_CONCURRENCY="2",
        # Throttling is off unless a test is about throttling: fuzzing and load
        # runs send far more than a person would.
        API_RATE_LIMIT="off",
    )
    env.update(overrides)
    return env


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        assert self.headers["content-type"] == "application/json; charset=utf-8"
        return json.loads(self.body)


def exchange(
    service: LiveService,
    method: str,
    path: str,
    headers: list[tuple[str, str]],
    body: bytes = b"",
    *,
    add_content_headers: bool = True,
) -> RawResponse:
    """One request, written byte for byte (repeated headers and all), on its own connection."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers]
    if body and add_content_headers:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
    with socket.create_connection(("127.0.0.1", service.port), timeout=10) as sock:
        sock.sendall(request)
        received = bytearray()
        while chunk := sock.recv(65536):
            received += chunk
    head, _, payload = bytes(received).partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    fields = dict(line.split(": ", 1) for line in header_lines)
    return RawResponse(int(status_line.split()[1]), {name.lower(): value for name, value in fields.items()}, payload)


class LiveService:
    """One gunicorn master serving the service on a loopback port."""

    def __init__(self, env: Mapping[str, str], *, name: str = "service", port: int | None = None) -> None:
        self.port = port or free_port()
        self.env = {**env, "PORT": str(self.port)}
        self.base_url = f"http://127.0.0.1:{self.port}"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.log_path = ARTIFACTS / f"{name}-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *, timeout: float = 30) -> LiveService:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{self.port}"],
                cwd=REPO,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            # Any answer will do: /health is a 503 while the database is down.
            wait_until_answering(
                self.process, f"{self.base_url}/health", name="gunicorn", log=self.log, timeout=timeout, any_status=True
            )
        except RuntimeError:
            self.stop()
            raise
        return self

    def stop(self, *, sig: int = signal.SIGTERM, timeout: float = 45) -> int | None:
        """Signal the master and wait for it; returns its exit code."""
        if self.process is None:
            return None
        return stop_process(self.process, sig=sig, timeout=timeout)

    def worker_pids(self) -> set[int]:
        """The gunicorn workers: processes whose parent is the master (read from /proc)."""
        if self.process is None:
            return set()
        pids = set()
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                # "pid (comm) state ppid ...": comm may hold spaces, so split after ")".
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue  # the process exited while we looked
            # A worker that exited but is not reaped yet ("Z") no longer serves.
            if int(fields[1]) == self.process.pid and fields[0] != "Z":
                pids.add(int(stat.parent.name))
        return pids

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def url(self, path: str) -> str:
        return self.base_url + path

    def __enter__(self) -> LiveService:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

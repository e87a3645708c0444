"""Processes the tests and the benchmark start: a Python or manage.py run in a
fresh interpreter, servers polled until they answer and stopped, loopback ports."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import requests

from testing.environments import development_env

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A loopback TCP port nothing listens on (bound by the OS, then released):
    for a server to bind, or for a connection to be refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_python(args: Sequence[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """`python *args` in the repository with exactly `env`; never raises on failure."""
    return subprocess.run(
        [sys.executable, *args], cwd=REPO, env=dict(env), capture_output=True, text=True, timeout=60, check=False
    )


def manage(*args: str, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """`manage.py *args` with exactly `env`."""
    return run_python(["manage.py", *args], env)


_VALUE_PROGRAM = (
    "import json, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'todo_project.settings'; "
    "from django.conf import settings; from django.db import connection; "
    "print(json.dumps({expression}))"
)


def value_in_fresh_process(expression: str, **env: str) -> Any:
    """The JSON value of `expression` (with `settings` and `connection` in
    scope) in a new interpreter in development mode (`development_env`), plus
    `env`. Raises CalledProcessError if the process fails."""
    result = subprocess.run(
        [sys.executable, "-c", _VALUE_PROGRAM.format(expression=expression)],
        cwd=REPO,
        env=development_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def wait_until_answering(
    process: subprocess.Popen[bytes],
    url: str,
    *,
    name: str,
    log: Callable[[], str],
    timeout: float,
    any_status: bool = False,
    verify: bool | str = True,
) -> None:
    """Poll `url` until it answers 200 (any status with `any_status`), or
    raise RuntimeError with the process's log when it exits or the timeout passes.
    `verify` is requests' own: the certificate an HTTPS server must present."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{log()}")
        try:
            if requests.get(url, timeout=2, verify=verify).status_code == 200 or any_status:
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

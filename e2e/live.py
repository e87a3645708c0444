"""A real deployment for end-to-end tests: a throwaway PostgreSQL database,
migrated, served by gunicorn with the production settings, driven over HTTP.

Tests here never import the service's code paths that serve requests; they
speak HTTP to gunicorn and read the database with psycopg, as an operator would.
What the benchmark needs too (processes, ports, throwaway databases, the
production environment, tokens) is in testing/; this module keeps what is
e2e's own.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from testing.processes import REPO, free_port, stop_process, wait_until_answering

ARTIFACTS = REPO / "e2e" / "artifacts"


class Endpoint(Protocol):
    """Where tests send HTTP: one gunicorn, or nginx in front of several."""

    base_url: str

    def url(self, path: str) -> str: ...


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

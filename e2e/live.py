"""A real deployment for end-to-end tests: a throwaway PostgreSQL database,
migrated, served by gunicorn with the production settings, driven over HTTP.

Tests here never import the service's code paths that serve requests; they
speak HTTP to gunicorn and read the database with psycopg, as an operator would.
What the benchmark needs too (processes, ports, throwaway databases, the
production environment, tokens) is in testing/; this module keeps what is
e2e's own.
"""

from __future__ import annotations

import ipaddress
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

import requests

from testing.processes import REPO, free_port, stop_process, wait_until_answering

ARTIFACTS = REPO / "e2e" / "artifacts"


class Endpoint(Protocol):
    """Where tests send HTTP: one gunicorn, or nginx in front of several."""

    base_url: str
    # What `requests` checks the server's certificate with (its `verify=`):
    # nginx answers HTTPS with a certificate the test made.
    verify: bool | str

    def url(self, path: str) -> str: ...


def session_for(endpoint: Endpoint) -> requests.Session:
    """A requests Session that checks the endpoint's certificate with
    `endpoint.verify`. It ignores the environment: requests would otherwise
    let REQUESTS_CA_BUNDLE override a Session's own `verify`."""
    session = requests.Session()
    session.trust_env = False
    session.verify = endpoint.verify
    return session


class LiveService:
    """One gunicorn master serving the service on a loopback port, started
    with the operator's command line: the address comes from gunicorn.conf.py
    and $PORT, as in production."""

    verify: bool | str = True

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
                [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"],
                cwd=REPO,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                # A process group of its own, as under a service manager: a
                # test can end the whole instance at once (`kill_instance`).
                start_new_session=True,
            )
        try:
            # Any answer will do: /health is a 503 while the database is down.
            wait_until_answering(
                self.process, f"{self.base_url}/health", name="gunicorn", log=self.log, timeout=timeout, any_status=True
            )
        except RuntimeError:
            self.stop()
            raise
        # The first worker answers while the master may still be forking the
        # others (gunicorn spaces them by up to 0.1 s): tests that count or
        # kill workers need the full complement.
        workers = int(self.env.get("WEB_CONCURRENCY", "2"))
        deadline = time.monotonic() + timeout
        while len(self.worker_pids()) < workers:
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"gunicorn started {len(self.worker_pids())} of {workers} workers\n{self.log()}")
            time.sleep(0.01)
        return self

    def stop(self, *, sig: int = signal.SIGTERM, timeout: float = 45) -> int | None:
        """Signal the master and wait for it; returns its exit code."""
        if self.process is None:
            return None
        return stop_process(self.process, sig=sig, timeout=timeout)

    def kill_instance(self) -> None:
        """The loss of the instance: SIGKILL to the master and its workers at
        once, as when its host, container or cgroup dies. (SIGKILL to the
        master alone is milder: each orphaned worker finishes the request it
        holds, notices its parent is gone and exits.) Returns once none of
        them runs any more, so the kernel has closed every socket they held."""
        assert self.process is not None, "not started"
        members = {self.process.pid, *self.worker_pids()}
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        deadline = time.monotonic() + 10
        while any(process_state(pid) not in (None, "Z") for pid in members):
            assert time.monotonic() < deadline, "the instance's processes outlived SIGKILL"
            time.sleep(0.01)

    def listening_addresses(self) -> set[str]:
        """The local addresses of the TCP sockets listening on this port
        (from /proc/net/tcp and tcp6): where clients can reach gunicorn."""
        return listening_addresses(self.port)

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


def process_state(pid: int) -> str | None:
    """The state letter of a process ("R", "S", "Z", ...), None once it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


TCP_LISTEN = "0A"


def listening_addresses(port: int) -> set[str]:
    """The local addresses of TCP sockets in LISTEN state on `port`."""
    found = set()
    for table, width in (("/proc/net/tcp", 4), ("/proc/net/tcp6", 16)):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state != TCP_LISTEN or int(hex_port, 16) != port:
                continue
            # The kernel prints each 32-bit word of the address in host (little-endian) order.
            raw = b"".join(bytes.fromhex(address[i : i + 8])[::-1] for i in range(0, len(address), 8))
            assert len(raw) == width
            found.add(str(ipaddress.ip_address(raw)))
    return found

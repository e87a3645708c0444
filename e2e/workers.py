"""Steering requests to each of a gunicorn instance's two sync workers, for
tests of counts that must be shared between workers.

A sync worker that has accepted a connection carrying half a request is busy
until the rest arrives, so a request sent meanwhile is answered by the other
worker, and the held one is answered by the first when it is completed.
`worker_serving` names the worker that holds a given connection."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path

from e2e.live import LiveService


class HeldRequest:
    """A GET whose head is sent up to its last headers, then held."""

    def __init__(self, service: LiveService, path: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", service.port), timeout=15)
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{service.port}\r\n".encode())

    def complete(self, authorization: str) -> int:
        """Send the rest of the head; the status the holding worker answers."""
        self.sock.sendall(f"Authorization: {authorization}\r\nConnection: close\r\n\r\n".encode())
        response = b""
        while b"\r\n" not in response:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            response += chunk
        self.sock.close()
        return int(response.split(b" ", 2)[1])


def statuses_alternating_workers(
    service: LiveService, path: str, authorization: str, rounds: int, send: Callable[[], int]
) -> list[int]:
    """Each round: `send()` (answered by one worker while the other holds a
    request), then the held request completed with `authorization`."""
    statuses = []
    for _ in range(rounds):
        held = HeldRequest(service, path)
        statuses.append(send())
        statuses.append(held.complete(authorization))
    return statuses


def worker_serving(service: LiveService, client: socket.socket) -> int:
    """The pid of the worker holding the server end of `client`'s connection
    to the service (from /proc: the socket whose peer is the client's port)."""
    client_port = client.getsockname()[1]
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port, remote_port = (int(address.rsplit(":", 1)[1], 16) for address in fields[1:3])
            if local_port == service.port and remote_port == client_port:
                inodes.add(f"socket:[{fields[9]}]")
    for pid in service.worker_pids():
        try:
            if inodes & {os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()}:
                return pid
        except OSError:
            continue  # a worker that exited meanwhile
    raise AssertionError(f"no worker of {service.base_url} holds the connection from port {client_port}")

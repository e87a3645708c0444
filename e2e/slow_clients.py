"""Slow clients: connections that send a request's header one byte at a time
and never finish it, the way a slowloris attack holds a server's workers.

gunicorn's sync worker reads a request in the worker that accepted the
connection, so a handful of these hold every worker of a gunicorn that
clients can reach directly; nginx reads headers without tying anything up.
"""

from __future__ import annotations

import socket
import ssl
import threading
from types import TracebackType

# A request that never ends: one more byte of an endless header value each round.
HEADER = b"GET /api/tasks HTTP/1.1\r\nHost: localhost\r\nX-Slow: "
ROUND_INTERVAL = 0.5


class SlowClients:
    """`count` connections to host:port (over TLS with `tls`, naming
    `server_hostname`), each sending one byte every ROUND_INTERVAL seconds
    from a background thread until the block ends."""

    def __init__(
        self,
        host: str,
        port: int,
        count: int,
        *,
        tls: ssl.SSLContext | None = None,
        server_hostname: str | None = None,
    ) -> None:
        self.host, self.port, self.count = host, port, count
        self.tls, self.server_hostname = tls, server_hostname
        self.sockets: list[socket.socket] = []
        self.sent = 0  # bytes sent on each connection so far
        self._closed: set[socket.socket] = set()  # by the server, as a send found
        self._lock = threading.Lock()  # one thread at a time on the sockets
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._trickle, daemon=True)

    def __enter__(self) -> SlowClients:
        try:
            for _ in range(self.count):
                sock = socket.create_connection((self.host, self.port), timeout=10)
                if self.tls is not None:
                    sock = self.tls.wrap_socket(sock, server_hostname=self.server_hostname)
                self.sockets.append(sock)
            self._send_one_byte_each()
        except BaseException:
            self._close()
            raise
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        self._close()

    def _send_one_byte_each(self) -> None:
        byte = HEADER[self.sent : self.sent + 1] or b"x"
        with self._lock:
            for sock in self.sockets:
                if sock in self._closed:
                    continue
                try:
                    sock.sendall(byte)
                except OSError:
                    self._closed.add(sock)
            self.sent += 1

    def _trickle(self) -> None:
        while not self._stop.wait(ROUND_INTERVAL):
            self._send_one_byte_each()

    def wait_for_rounds(self, rounds: int) -> None:
        """Until each connection has sent at least `rounds` bytes."""
        while self.sent < rounds:
            self._stop.wait(ROUND_INTERVAL / 5)

    def held(self) -> int:
        """How many connections are still open and unanswered: the server
        neither wrote to them nor closed them."""
        held = 0
        with self._lock:
            for sock in self.sockets:
                if sock in self._closed:
                    continue
                sock.setblocking(False)
                try:
                    sock.recv(1)  # an answer, or b"" for a closed connection
                except (BlockingIOError, ssl.SSLWantReadError):
                    held += 1  # nothing to read: still waiting for the rest of the header
                except OSError:
                    pass  # reset
                finally:
                    sock.setblocking(True)
        return held

    def _close(self) -> None:
        for sock in self.sockets:
            sock.close()

"""A small threaded TCP proxy on the loopback interface, to take a database
away from a running service without touching the database server itself, or
to cut a client off from the service.

    with TcpProxy("127.0.0.1", 5432) as proxy:   # the service connects to proxy.port
        proxy.cut()        # close every relayed connection and refuse new ones
        proxy.blackhole()  # accept new connections but never answer, like a partition
        proxy.lose_answers()  # relay requests whole, drop every answer, then close
        proxy.restore()    # relay again

`lose_answers()` is a connection cut after the request went through and
before the answer came back: the server reads the whole request and does
the work, the client gets no byte of the answer, only the closed connection.
It holds for connections accepted from then on, until `restore()`.

`blackhole()` affects new connections only (accepted, then silence: what a
partition looks like to libpq's `connect_timeout`); connections already
relayed keep relaying, so call `cut()` first to drop them. A partition of an
open connection cannot be imitated here: on loopback the proxy's kernel
acknowledges every byte, which is what `tcp_user_timeout` would wait for.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from enum import Enum

_CHUNK = 65536


class Mode(Enum):
    OPEN = "open"
    CUT = "cut"
    BLACKHOLE = "blackhole"


class TcpProxy:
    def __init__(self, target_host: str, target_port: int, *, port: int = 0) -> None:
        self.target = (target_host, target_port)
        self.port = port
        self.mode = Mode.OPEN
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        # Every socket the proxy holds (both ends of each relay, and the silent
        # ones of a blackhole), so that cut() can close them all.
        self._sockets: set[socket.socket] = set()
        self._answers_lost = False
        self.connections_accepted = 0

    # --- control --------------------------------------------------------------
    def start(self) -> TcpProxy:
        self._listen()
        return self

    def stop(self) -> None:
        self.cut()

    def cut(self) -> None:
        """Close every live connection and refuse new ones (connection refused)."""
        with self._lock:
            self.mode = Mode.CUT
            self._close_listener()
            self._close_all()

    def blackhole(self) -> None:
        """Accept new connections but never relay nor answer on them."""
        with self._lock:
            self.mode = Mode.BLACKHOLE
        self._listen()

    def lose_answers(self) -> None:
        """Relay what clients send, drop what the target answers: each new
        connection ends, once the target closes it, with nothing delivered."""
        with self._lock:
            self._answers_lost = True

    def restore(self) -> None:
        """Relay again, answers too. Connections held by a blackhole are closed."""
        with self._lock:
            self.mode = Mode.OPEN
            self._answers_lost = False
            self._close_all()
        self._listen()

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- internals ------------------------------------------------------------
    def _listen(self) -> None:
        with self._lock:
            if self._listener is not None:
                return
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            # The same port every time: the service's DATABASE_URL names it.
            listener.bind(("127.0.0.1", self.port))
            listener.listen(64)
            self.port = listener.getsockname()[1]
            self._listener = listener
        threading.Thread(target=self._accept_loop, args=(listener,), daemon=True).start()

    def _close_listener(self) -> None:
        if self._listener is not None:
            # shutdown() wakes the thread blocked in accept(); close() alone
            # would leave the port listening until the next connection.
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                self._listener.close()
            self._listener = None

    def _close_all(self) -> None:
        for sock in list(self._sockets):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()
        self._sockets.clear()

    def _accept_loop(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # the listener was closed by cut() or stop()
                return
            with self._lock:
                mode = self.mode
                self.connections_accepted += 1
                self._sockets.add(client)
            if mode is Mode.OPEN:
                threading.Thread(target=self._relay, args=(client,), daemon=True).start()
            elif mode is Mode.CUT:
                self._discard(client)
            # BLACKHOLE: keep the socket open and never read from it.

    def _relay(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            self._discard(client)
            return
        upstream.settimeout(None)
        with self._lock:
            if self.mode is not Mode.OPEN:
                upstream.close()
                return
            self._sockets.add(upstream)
            deliver_answers = not self._answers_lost
        threading.Thread(target=self._pump, args=(upstream, client, deliver_answers), daemon=True).start()
        self._pump(client, upstream)

    def _pump(self, source: socket.socket, sink: socket.socket, deliver: bool = True) -> None:
        try:
            while data := source.recv(_CHUNK):
                if deliver:
                    sink.sendall(data)
        except OSError:
            pass
        self._discard(source)
        self._discard(sink)

    def _discard(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            sock.close()

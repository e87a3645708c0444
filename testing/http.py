"""One HTTP/1.1 request written byte for byte on its own socket: what no
client library would send (repeated headers, bad header names, odd bodies)."""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from typing import Any, Protocol


class Listening(Protocol):
    """A server on a loopback port (e2e.live.LiveService, for one)."""

    port: int


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def json(self) -> Any:
        assert self.headers["content-type"] == "application/json; charset=utf-8"
        return json.loads(self.body)


def exchange(
    service: Listening,
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

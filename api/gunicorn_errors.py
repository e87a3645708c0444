"""JSON for the errors gunicorn answers itself, before Django sees the request:
a request line over its limit (414), headers over theirs (431), a request it
cannot parse (400). Its own pages are HTML; the contract says every error is
JSON. gunicorn has no hook for these pages, so `install()` replaces the one
function that writes them."""

import json
import socket

from gunicorn import util


def write_json_error(sock: socket.socket, status_int: int, reason: str, mesg: str) -> None:
    # `mesg` can quote the request itself (a header line, with a token in it):
    # the body names the kind of error only, as gunicorn's log line already
    # records the details for the operator.
    body = json.dumps({"detail": reason}).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json; charset=utf-8\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)


def install() -> None:
    util.write_error = write_json_error

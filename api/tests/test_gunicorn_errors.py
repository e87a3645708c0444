"""The errors gunicorn answers itself (oversized request line or headers,
unparseable requests) are written as JSON, without quoting the request."""

import json
import socket

from api.gunicorn_errors import write_json_error


def read_all(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def test_gunicorn_error_is_a_json_detail_naming_the_reason() -> None:
    server, client = socket.socketpair()
    with server, client:
        write_json_error(server, 414, "URI Too Long", "Request Line is too large (6078 > 4094)")
        server.shutdown(socket.SHUT_WR)
        raw = read_all(client)

    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines)
    assert status_line == "HTTP/1.1 414 URI Too Long"
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert int(headers["Content-Length"]) == len(body)
    assert json.loads(body) == {"detail": "URI Too Long"}


def test_gunicorn_error_never_echoes_the_request() -> None:
    server, client = socket.socketpair()
    with server, client:
        write_json_error(server, 400, "Bad Request", "Invalid HTTP Header: 'Authorization: Bearer eyJ.secret.sig'")
        server.shutdown(socket.SHUT_WR)
        raw = read_all(client)

    assert b"secret" not in raw
    assert b"Authorization" not in raw

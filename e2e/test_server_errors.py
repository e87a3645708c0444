"""Errors gunicorn answers itself, before the request reaches Django, are JSON
like every other error (schemathesis found an HTML 414 for a long query)."""

import json
import socket
from typing import Any

import requests

from e2e.live import LiveService


def assert_json_error(response: requests.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert set(response.json()) == {"detail"}


def test_request_line_over_gunicorns_limit_is_a_json_414(live_service: LiveService, token_for: Any) -> None:
    response = requests.get(
        live_service.url("/api/tasks"),
        params={"status": "x" * 5000},
        headers={"Authorization": f"Bearer {token_for('alice')}"},
        timeout=5,
    )

    assert_json_error(response, 414)


def test_headers_over_gunicorns_limit_are_a_json_431(live_service: LiveService) -> None:
    response = requests.get(
        live_service.url("/api/tasks"), headers={f"X-Filler-{n}": "x" for n in range(200)}, timeout=5
    )

    assert_json_error(response, 431)


def test_unparseable_request_is_a_json_400_that_does_not_echo_the_request(live_service: LiveService) -> None:
    secret_looking = "Bearer eyJhbGciOiJIUzI1NiJ9.not-echoed"
    with socket.create_connection(("127.0.0.1", live_service.port), timeout=5) as sock:
        sock.sendall(
            f"GET /api/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization\x01: {secret_looking}\r\n\r\n".encode()
        )
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk

    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 "), raw
    assert b"content-type: application/json; charset=utf-8" in head.lower()
    assert set(json.loads(body)) == {"detail"}
    assert b"not-echoed" not in raw

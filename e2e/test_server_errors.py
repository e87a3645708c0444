"""Errors gunicorn answers itself, before the request reaches Django, are JSON
like every other error (schemathesis found an HTML 414 for a long query)."""

from typing import Any

import requests

from e2e.live import LiveService
from testing.http import exchange


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

    response = exchange(live_service, "GET", "/api/tasks", [("Authorization\x01", secret_looking)])

    assert response.status == 400, response.body
    assert set(response.json()) == {"detail"}  # json() checks the content type
    assert "not-echoed" not in str(response.headers)
    assert b"not-echoed" not in response.body

"""What gunicorn really writes: one JSON line per request, and no trace of a
token a client put in the Authorization header, the query string or a cookie."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import requests

from e2e.live import LiveService


def request_lines(log: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    return [line for line in lines if line["logger"] == "api.request"]


def test_a_token_in_the_header_and_the_query_string_leaves_no_trace_in_the_logs(
    start_service: Callable[..., LiveService], token_for: Callable[..., str], better_auth_secret: str
) -> None:
    service = start_service(name="logging-json", LOG_FORMAT="json")
    user = f"logged-{uuid.uuid4().hex}"
    token = token_for(user)
    forged = token_for(user, iss="somebody-else")[:-4] + "AAAA"  # bad signature: a 401
    # method, path, credential, expected status, user id expected in the log
    sent = [
        ("GET", "/api/tasks", token, 200, user),
        ("POST", "/api/tasks", token, 422, user),
        ("GET", "/api/tasks/999999999", token, 404, user),
        ("GET", "/api/tasks", forged, 401, None),
        ("GET", "/no/such/path", token, 404, None),  # outside the API: the token is never read
    ]

    for index, (method, path, credential, expected, _) in enumerate(sent):
        response = requests.request(
            method,
            service.url(f"{path}?token={credential}&access_token={credential}"),
            headers={
                "Authorization": f"Bearer {credential}",
                "Cookie": f"better-auth.session_data={credential}",
                "X-Request-ID": f"leak-check-{index}",
            },
            json={} if method == "POST" else None,
            timeout=15,
        )
        assert response.status_code == expected, response.text
        assert response.headers["X-Request-ID"] == f"leak-check-{index}"
    service.stop()

    log = service.log()
    for secret in (token, forged, better_auth_secret, service.env["DJANGO_SECRET_KEY"]):
        assert secret not in log
    assert "Bearer" not in log
    logged = {line["request_id"]: line for line in request_lines(log)}
    for index, (method, path, _, expected, user_id) in enumerate(sent):
        line = logged[f"leak-check-{index}"]
        assert (line["method"], line["path"], line["status"], line["user_id"]) == (method, path, expected, user_id)


def test_gunicorn_writes_no_access_log_line_of_its_own(live_service: LiveService) -> None:
    marker = uuid.uuid4().hex
    requests.get(live_service.url(f"/health?marker={marker}"), headers={"X-Request-ID": marker}, timeout=15)

    log = live_service.log()
    assert f'request_id="{marker}"' in log  # the app's line, plain format by default
    assert f"marker={marker}" not in log

"""The shipped nginx template at the edge (deploy/nginx/todo-api.conf), run by
the real nginx with a certificate made for the run: the API over HTTPS only,
no answer at all for any other host name, and the app's own limits enforced
before an instance is involved.
"""

from __future__ import annotations

import re
import runpy
import socket
import ssl
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
import requests

from e2e.balancer import SERVER_NAME, SHIPPED_CONF, Balancer
from testing.processes import REPO

GUNICORN: dict[str, Any] = runpy.run_path(str(REPO / "gunicorn.conf.py"))


def tls_context(balancer: Balancer) -> ssl.SSLContext:
    assert isinstance(balancer.verify, str)
    return ssl.create_default_context(cafile=balancer.verify)


def raw_answer(sock: socket.socket, request: bytes) -> bytes:
    """Everything the server sends back to `request` before it closes."""
    sock.sendall(request)
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def stored_titles(pg: psycopg.Connection[Any], user_id: str) -> list[str]:
    return [row[0] for row in pg.execute("SELECT title FROM tasks_task WHERE user_id = %s", [user_id])]


# --- HTTPS for the API's name, nothing over plain HTTP -----------------------------


def test_the_api_answers_over_https_and_the_instance_knows_the_request_was_secure(
    balanced_service: Balancer, token_for: Callable[..., str]
) -> None:
    response = requests.get(
        balanced_service.url("/api/tasks"),
        headers={"Authorization": f"Bearer {token_for('over-tls')}"},
        verify=balanced_service.verify,
        timeout=15,
    )

    assert response.status_code == 200, response.text
    assert response.url.startswith(f"https://{SERVER_NAME}:")
    # The instance saw HTTPS through nginx's X-Forwarded-Proto: with
    # DJANGO_SECURE_SSL it adds HSTS, and redirected nothing.
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert not response.history


def test_plain_http_to_the_api_name_is_redirected_to_https_and_never_reaches_an_instance(
    balanced_service: Balancer, token_for: Callable[..., str], pg: psycopg.Connection[Any]
) -> None:
    user_id = f"plain-http-{uuid.uuid4().hex[:8]}"
    request_id = f"plain-http-{uuid.uuid4().hex}"

    response = requests.post(
        f"http://{SERVER_NAME}:{balanced_service.http_port}/api/tasks?page=1",
        json={"title": "Over plain HTTP"},
        headers={"Authorization": f"Bearer {token_for(user_id)}", "X-Request-ID": request_id},
        allow_redirects=False,
        timeout=15,
    )

    assert response.status_code == 301
    assert response.headers["Location"] == f"https://{SERVER_NAME}/api/tasks?page=1"
    assert balanced_service.served_by(balanced_service.entries_for({request_id})[request_id]) is None
    assert stored_titles(pg, user_id) == []


# --- Any other host name: no answer ------------------------------------------------


OTHER_HOST_OVER_HTTP = {
    "another-name": b"GET /health HTTP/1.1\r\nHost: evil.example\r\nX-Request-ID: {id}\r\n\r\n",
    "the-ip-address": b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-ID: {id}\r\n\r\n",
    "no-host-at-all": b"GET /health HTTP/1.0\r\nX-Request-ID: {id}\r\n\r\n",
}


@pytest.mark.parametrize("request_template", OTHER_HOST_OVER_HTTP.values(), ids=OTHER_HOST_OVER_HTTP.keys())
def test_plain_http_for_another_host_is_closed_without_an_answer(
    balanced_service: Balancer, request_template: bytes
) -> None:
    request_id = f"other-host-{uuid.uuid4().hex}"

    with socket.create_connection(("127.0.0.1", balanced_service.http_port), timeout=10) as sock:
        answer = raw_answer(sock, request_template.replace(b"{id}", request_id.encode()))

    assert answer == b""
    assert not any(request_id in instance.log() for instance in balanced_service.instances)


@pytest.mark.parametrize("server_name", ["evil.example", None], ids=["another-name", "no-name"])
def test_tls_handshake_for_another_name_is_refused_before_any_certificate_is_shown(
    balanced_service: Balancer, server_name: str | None
) -> None:
    context = tls_context(balanced_service)
    # Checking is off so the client does get as far as the handshake; the
    # server must refuse it before sending a certificate.
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE

    with (
        socket.create_connection(("127.0.0.1", balanced_service.port), timeout=10) as sock,
        pytest.raises(ssl.SSLError, match=r"UNRECOGNIZED_NAME|unrecognized name"),
    ):
        context.wrap_socket(sock, server_hostname=server_name)


def test_request_for_another_host_on_the_api_names_tls_connection_is_closed_without_an_answer(
    balanced_service: Balancer,
) -> None:
    request_id = f"other-host-tls-{uuid.uuid4().hex}"

    request = f"GET /health HTTP/1.1\r\nHost: evil.example\r\nX-Request-ID: {request_id}\r\n\r\n"

    with (
        socket.create_connection(("127.0.0.1", balanced_service.port), timeout=10) as raw,
        tls_context(balanced_service).wrap_socket(raw, server_hostname=SERVER_NAME) as sock,
    ):
        answer = raw_answer(sock, request.encode())

    assert answer == b""
    assert not any(request_id in instance.log() for instance in balanced_service.instances)


# --- The app's limits, at the edge -------------------------------------------------


HEADER_FIELD_LIMIT: int = GUNICORN["limit_request_field_size"]


def authorization_of_length(token: str, line_length: int) -> str:
    """An Authorization value carrying `token` whose header line,
    "Authorization: <value>\\r\\n", is `line_length` bytes: the API accepts
    any number of spaces after the scheme."""
    padding = line_length - len("Authorization: Bearer \r\n") - len(token)
    assert padding >= 0
    return "Bearer " + " " * padding + token


def test_header_limit_of_the_balancer_is_gunicorns_and_refuses_in_json_before_any_instance(
    balanced_service: Balancer, token_for: Callable[..., str], pg: psycopg.Connection[Any]
) -> None:
    user_id = f"big-header-{uuid.uuid4().hex[:8]}"
    token = token_for(user_id)
    at_limit, over = f"header-at-limit-{uuid.uuid4().hex}", f"header-over-limit-{uuid.uuid4().hex}"

    def create(line_length: int, request_id: str) -> requests.Response:
        return requests.post(
            balanced_service.url("/api/tasks"),
            json={"title": request_id},
            # The id first: nginx has read it when it stops at the Authorization line.
            headers={"X-Request-ID": request_id, "Authorization": authorization_of_length(token, line_length)},
            verify=balanced_service.verify,
            timeout=15,
        )

    accepted = create(HEADER_FIELD_LIMIT, at_limit)
    refused = create(HEADER_FIELD_LIMIT + 1, over)

    assert accepted.status_code == 201, accepted.text
    assert refused.status_code == 431
    assert refused.headers["Content-Type"] == "application/json; charset=utf-8"
    assert refused.json() == {"detail": "Request Header Fields Too Large"}  # gunicorn's own words
    assert stored_titles(pg, user_id) == [at_limit]
    entries = balanced_service.entries_for({at_limit, over})
    assert balanced_service.served_by(entries[at_limit]) is not None
    assert balanced_service.served_by(entries[over]) is None, "nginx should refuse it without an instance"


def directive(name: str) -> list[str]:
    """The values of every `name ...;` line in the shipped file."""
    return re.findall(rf"^\s*{name}\s+([^;]+);", SHIPPED_CONF.read_text(), flags=re.MULTILINE)


def seconds(value: str) -> int:
    assert value.endswith("s"), value
    return int(value[:-1])


def test_the_templates_limits_are_the_apps() -> None:
    """What the requests above cannot show in a test's time: the timeouts,
    and the body size against the setting's own default."""
    settings = GUNICORN["settings"]
    (body_limit,) = directive("client_max_body_size")
    assert body_limit == "1m"
    assert settings.API_MAX_BODY_BYTES == 1024 * 1024  # the default; keep the two equal
    # Every server reads headers with gunicorn's per-field limit.
    assert {value.split()[1] for value in directive("large_client_header_buffers")} == {str(HEADER_FIELD_LIMIT)}
    # nginx waits longer for an answer than gunicorn lets a worker run, so a
    # stuck request is ended by gunicorn's timeout (and logged there) first.
    (read_timeout,) = directive("proxy_read_timeout")
    (send_timeout,) = directive("proxy_send_timeout")
    assert seconds(read_timeout) > GUNICORN["timeout"]
    assert seconds(send_timeout) > GUNICORN["timeout"]
    # Never a second application of a POST or PATCH that reached an instance
    # (e2e/test_instance_loss.py proves it with nginx running).
    (next_upstream,) = directive("proxy_next_upstream")
    assert "non_idempotent" not in next_upstream.split()

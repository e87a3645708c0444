"""Attacks only a real server shows, sent as raw HTTP/1.1 bytes to gunicorn:
a 100 KB Authorization header, two Authorization headers, a token in the query
string or a cookie, a body over the limit, ids no client library would send.
Whatever the answer, PostgreSQL is read afterwards to prove nothing was written.
"""

from __future__ import annotations

import json
import runpy
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
import requests

from e2e.live import LiveService
from testing.http import RawResponse, exchange
from testing.processes import REPO
from testing.tokens import mint

OTHER_SECRET = "an-attackers-secret-that-is-long-enough-for-hs256"
NOT_PROVIDED = "Authentication credentials were not provided."
HEADER_FIELD_LIMIT: int = runpy.run_path(str(REPO / "gunicorn.conf.py"))["limit_request_field_size"]
BODY_LIMIT = 1024 * 1024  # API_MAX_BODY_BYTES' default


@dataclass
class Victim:
    """A user with one task on the live service, and a way to see the whole table."""

    user_id: str
    task_id: int
    token: str
    pg: psycopg.Connection[Any]

    def table(self) -> list[tuple]:
        return self.pg.execute("SELECT * FROM tasks_task ORDER BY id").fetchall()


@pytest.fixture
def victim(live_service: LiveService, token_for: Callable[..., str], pg: psycopg.Connection[Any]) -> Victim:
    user_id = f"victim-{uuid.uuid4().hex[:8]}"
    token = token_for(user_id)
    created = requests.post(
        live_service.url("/api/tasks"),
        json={"title": "Original", "description": "Untouched"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    return Victim(user_id, created.json()["id"], token, pg)


# (method, path template, body): every write a request could attempt.
WRITES = {
    "create": ("POST", "/api/tasks", b'{"title": "Pwned"}'),
    "patch": ("PATCH", "/api/tasks/{id}", b'{"title": "Pwned"}'),
    "complete": ("PATCH", "/api/tasks/{id}/complete", b""),
    "delete": ("DELETE", "/api/tasks/{id}", b""),
}


def attempt(
    service: LiveService, victim: Victim, write: tuple[str, str, bytes], headers, query: str = ""
) -> RawResponse:
    method, template, body = write
    return exchange(service, method, template.format(id=victim.task_id) + query, headers, body)


def bearer(token: str) -> list[tuple[str, str]]:
    return [("Authorization", f"Bearer {token}")]


def assert_unauthorized_json(response: RawResponse) -> str:
    assert response.status == 401, response.body
    assert response.headers["www-authenticate"].startswith("Bearer")
    return response.json()["detail"]


def token_of_about(secret: str, user_id: str, length: int) -> str:
    """A genuinely signed token between `length` - 16 and `length` characters."""
    overhead = len(mint(secret, user_id, pad=""))
    token = mint(secret, user_id, pad="x" * ((length - overhead - 8) * 3 // 4))
    assert length - 16 <= len(token) <= length
    return token


def bearer_value_of(token: str, length: int) -> str:
    """`Bearer <token>` stretched to `length` with spaces after the scheme
    (RFC 6750 allows one or more)."""
    return "Bearer" + " " * (length - len("Bearer") - len(token)) + token


# --- Oversized Authorization headers: refused by gunicorn itself ---------------------


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
@pytest.mark.parametrize("signed_by", ["the-real-secret", "another-secret"])
def test_hundred_kb_token_is_a_431_from_gunicorn_and_writes_nothing(
    live_service, victim, better_auth_secret, write, signed_by
):
    secret = better_auth_secret if signed_by == "the-real-secret" else OTHER_SECRET
    token = token_of_about(secret, victim.user_id, 100 * 1024)
    before = victim.table()

    response = attempt(live_service, victim, write, bearer(token))

    assert response.status == 431
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert json.loads(response.body) == {"detail": "Request Header Fields Too Large"}
    assert "x-request-id" not in response.headers  # gunicorn answered: the app never ran
    assert token[:64].encode() not in response.body
    assert victim.table() == before


def test_header_filling_gunicorns_limit_authenticates_and_one_byte_more_is_a_431(
    live_service, victim, better_auth_secret
):
    # The limit counts the whole field: "Authorization: <value>\r\n".
    largest_value = HEADER_FIELD_LIMIT - len("Authorization: \r\n")
    token = token_of_about(better_auth_secret, victim.user_id, largest_value - 8)

    accepted = attempt(
        live_service, victim, WRITES["create"], [("Authorization", bearer_value_of(token, largest_value))]
    )
    refused = attempt(
        live_service, victim, WRITES["create"], [("Authorization", bearer_value_of(token, largest_value + 1))]
    )

    assert accepted.status == 201, accepted.body
    assert accepted.json()["user_id"] == victim.user_id
    assert refused.status == 431


def test_service_answers_normally_after_oversized_headers(live_service, victim, better_auth_secret):
    for _ in range(3):
        attempt(live_service, victim, WRITES["delete"], [("Authorization", "Bearer " + "x" * 200_000)])

    response = exchange(live_service, "GET", f"/api/tasks/{victim.task_id}", bearer(victim.token))

    assert response.status == 200
    assert response.json()["title"] == "Original"


# --- Two Authorization headers ----------------------------------------------------------

# Each pair is sent as two separate header lines; gunicorn joins them with a comma.
TWO_HEADERS = {
    "same-valid-token-twice": lambda valid, forged: (f"Bearer {valid}", f"Bearer {valid}"),
    "valid-then-forged": lambda valid, forged: (f"Bearer {valid}", f"Bearer {forged}"),
    "forged-then-valid": lambda valid, forged: (f"Bearer {forged}", f"Bearer {valid}"),
    "valid-then-bare-scheme": lambda valid, forged: (f"Bearer {valid}", "Bearer"),
    "valid-then-empty": lambda valid, forged: (f"Bearer {valid}", ""),
    "basic-then-valid": lambda valid, forged: ("Basic YWxpY2U6c2VjcmV0", f"Bearer {valid}"),
}


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
@pytest.mark.parametrize("pair", TWO_HEADERS.values(), ids=TWO_HEADERS.keys())
def test_two_authorization_headers_are_a_401_and_write_nothing(live_service, victim, write, pair):
    first, second = pair(victim.token, mint(OTHER_SECRET, victim.user_id))
    before = victim.table()

    response = attempt(live_service, victim, write, [("Authorization", first), ("Authorization", second)])

    assert_unauthorized_json(response)
    assert victim.table() == before


# --- Tokens outside the Authorization header ----------------------------------------------

MISPLACED = {
    "query-access-token": lambda token: ([], f"?access_token={token}"),
    "query-token": lambda token: ([], f"?token={token}"),
    "cookie-session-data": lambda token: ([("Cookie", f"better-auth.session_data={token}")], ""),
    "cookie-bearer-value": lambda token: ([("Cookie", f"Authorization=Bearer%20{token}")], ""),
    "x-access-token-header": lambda token: ([("X-Access-Token", token)], ""),
}


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
@pytest.mark.parametrize("place", MISPLACED.values(), ids=MISPLACED.keys())
def test_token_outside_the_authorization_header_does_not_authenticate(live_service, victim, write, place):
    headers, query = place(victim.token)
    before = victim.table()

    response = attempt(live_service, victim, write, headers, query)

    assert assert_unauthorized_json(response) == NOT_PROVIDED
    assert victim.table() == before


# --- Bodies and paths ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "write", [w for name, w in WRITES.items() if name != "delete"], ids=["create", "patch", "complete"]
)
def test_body_one_byte_over_the_limit_is_a_json_413_and_writes_nothing(live_service, victim, write):
    method, template, _ = write
    empty = b'{"title": "Big", "padding": ""}'
    body = empty[:-2] + b"x" * (BODY_LIMIT + 1 - len(empty)) + b'"}'
    before = victim.table()

    response = attempt(live_service, victim, (method, template, body), bearer(victim.token))

    assert response.status == 413
    assert isinstance(response.json()["detail"], str)
    assert victim.table() == before


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("task_id", ["0", "-1", "99999999999999999999", "abc", "%00", "%ff", "1%00"])
def test_impossible_id_is_a_json_404_through_gunicorn(live_service, victim, method, task_id):
    before = victim.table()
    body = b'{"title": "Pwned"}' if method in ("PUT", "PATCH") else b""

    response = exchange(live_service, method, f"/api/tasks/{task_id}", bearer(victim.token), body)

    assert response.status == 404
    assert isinstance(response.json()["detail"], str)
    assert victim.table() == before


def test_raw_nul_byte_in_the_request_line_is_refused_by_gunicorn(live_service, victim):
    before = victim.table()

    response = exchange(live_service, "DELETE", f"/api/tasks/{victim.task_id}\x00", bearer(victim.token))

    assert response.status == 400
    assert victim.table() == before


# --- Chunked bodies: Django reads by Content-Length only -------------------------------

CHUNKED_WRITES = {
    "create": ("POST", "/api/tasks", b'{"title": "Pwned"}'),
    "patch": ("PATCH", "/api/tasks/{id}", b'{"title": "Pwned"}'),
    "put": ("PUT", "/api/tasks/{id}", b'{"title": "Pwned"}'),
    "set-completed": ("PATCH", "/api/tasks/{id}/complete", b'{"completed": true}'),
}


def chunked(body: bytes) -> bytes:
    return f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"


@pytest.mark.parametrize("write", CHUNKED_WRITES.values(), ids=CHUNKED_WRITES.keys())
def test_chunked_body_is_a_411_not_silently_read_as_empty(live_service, victim, write):
    # Before the 411 a chunked PATCH answered 200 and changed nothing.
    method, template, body = write
    before = victim.table()
    headers = [*bearer(victim.token), ("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")]

    response = exchange(
        live_service, method, template.format(id=victim.task_id), headers, chunked(body), add_content_headers=False
    )

    assert response.status == 411, response.body
    assert "Content-Length" in response.json()["detail"]
    assert victim.table() == before


def test_chunked_body_without_a_token_is_still_a_401_first(live_service, victim):
    headers = [("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")]

    response = exchange(
        live_service, "POST", "/api/tasks", headers, chunked(b'{"title": "Pwned"}'), add_content_headers=False
    )

    assert assert_unauthorized_json(response) == NOT_PROVIDED

"""One structured log line per request, a request id the client can quote,
and no credential in any log line, whatever the outcome.

The token-in-the-query-string case against gunicorn's real output is in
e2e/test_request_logging.py."""

import io
import json
import logging
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any, Protocol, cast
from unittest import mock

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from api.request_logging import JsonFormatter, PlainFormatter
from tasks.views import TaskViewSet

TASKS = "/api/tasks"
REQUEST_LOGGER = "api.request"


class RequestRecord(Protocol):
    """A request logger's LogRecord: the middleware passes these fields as `extra`."""

    levelname: str
    method: str
    path: str
    status: int
    duration_ms: float
    user_id: str | None
    request_id: str

    def getMessage(self) -> str: ...


def request_records(caplog: pytest.LogCaptureFixture) -> list[RequestRecord]:
    records = [record for record in caplog.records if record.name == REQUEST_LOGGER]
    return cast(list[RequestRecord], records)


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """Everything any logger writes during the test, formatted both ways the
    service can write it (LOG_FORMAT=plain and json), at every level."""
    stream = io.StringIO()
    plain = logging.StreamHandler(stream)
    plain.setFormatter(PlainFormatter())
    as_json = logging.StreamHandler(stream)
    as_json.setFormatter(JsonFormatter())
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(plain)
    root.addHandler(as_json)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(plain)
    root.removeHandler(as_json)
    root.setLevel(previous_level)


# --- The line -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_request_logs_one_line_with_method_path_status_duration_user_and_request_id(
    alice: APIClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=REQUEST_LOGGER)

    response = alice.get(TASKS)

    [record] = request_records(caplog)
    assert record.levelname == "INFO"
    assert record.method == "GET"
    assert record.path == TASKS
    assert record.status == 200
    assert isinstance(record.duration_ms, float) and record.duration_ms >= 0
    assert record.user_id == "alice"
    assert record.request_id == response["X-Request-ID"]
    assert record.getMessage().startswith('method="GET" path="/api/tasks" status=200 duration_ms=')


@pytest.mark.django_db
def test_unauthenticated_request_is_logged_without_a_user(
    api_client: APIClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=REQUEST_LOGGER)

    api_client.get(TASKS)

    [record] = request_records(caplog)
    assert (record.status, record.user_id) == (401, None)


@pytest.mark.django_db
def test_service_endpoints_are_logged_without_loading_a_session(
    client: Any, caplog: pytest.LogCaptureFixture, django_assert_num_queries: Any
) -> None:
    caplog.set_level(logging.INFO, logger=REQUEST_LOGGER)

    with django_assert_num_queries(1):  # the health check's SELECT 1, nothing for the log line
        client.get("/health")

    [record] = request_records(caplog)
    assert (record.path, record.status, record.user_id) == ("/health", 200, None)


def test_unknown_path_is_logged_with_its_404(client: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=REQUEST_LOGGER)

    client.post("/no/such/thing")

    [record] = request_records(caplog)
    assert (record.method, record.path, record.status) == ("POST", "/no/such/thing", 404)


@pytest.mark.django_db
def test_query_string_is_never_logged(alice: APIClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=REQUEST_LOGGER)

    alice.get(TASKS, {"status": "pending", "token": "query-secret"})

    [record] = request_records(caplog)
    assert record.path == TASKS
    assert "query-secret" not in caplog.text


def test_an_encoded_newline_in_the_path_cannot_forge_a_log_line(client: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=REQUEST_LOGGER)

    client.get("/x%0Astatus=200%20user_id=%22admin%22")

    [record] = request_records(caplog)
    assert "\n" not in record.getMessage()
    assert '\\nstatus=200 user_id=\\"admin\\"' in record.getMessage()


# --- The request id -----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("request_id", ["abc", "req-2026.11.23_0001", "A" * 128])
def test_a_well_formed_client_request_id_is_used_and_echoed(
    alice: APIClient, caplog: pytest.LogCaptureFixture, request_id: str
) -> None:
    caplog.set_level(logging.INFO, logger=REQUEST_LOGGER)

    response = alice.get(TASKS, HTTP_X_REQUEST_ID=request_id)

    assert response["X-Request-ID"] == request_id
    assert request_records(caplog)[0].request_id == request_id


@pytest.mark.django_db
@pytest.mark.parametrize(
    "request_id", ["", "A" * 129, "has space", "semi;colon", "new\nline", 'quote"d', "émoji-🙂", "a/b"]
)
def test_a_malformed_client_request_id_is_replaced_by_a_generated_one(
    alice: APIClient, caplog: pytest.LogCaptureFixture, request_id: str
) -> None:
    caplog.set_level(logging.INFO, logger=REQUEST_LOGGER)

    response = alice.get(TASKS, HTTP_X_REQUEST_ID=request_id)

    generated = response["X-Request-ID"]
    assert generated != request_id
    assert len(generated) == 32 and int(generated, 16) >= 0
    assert request_records(caplog)[0].request_id == generated


@pytest.mark.django_db
def test_each_request_without_an_id_gets_a_different_one(alice: APIClient) -> None:
    ids = {alice.get(TASKS)["X-Request-ID"] for _ in range(3)}

    assert len(ids) == 3


def test_request_id_is_echoed_on_errors_outside_the_api_too(client: Any) -> None:
    response = client.get("/no/such/thing", HTTP_X_REQUEST_ID="trace-404")

    assert response.status_code == 404
    assert response["X-Request-ID"] == "trace-404"


def test_browsers_may_read_the_request_id_cross_origin(client: Any) -> None:
    response = client.get("/health", HTTP_ORIGIN="http://localhost:3000")

    assert "x-request-id" in response["Access-Control-Expose-Headers"].lower()


# --- JSON lines ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_json_format_writes_one_object_per_line_with_the_request_fields(
    alice: APIClient, log_output: io.StringIO
) -> None:
    response = alice.get(TASKS, HTTP_X_REQUEST_ID="json-line-1")

    lines = [json.loads(line) for line in log_output.getvalue().splitlines() if line.startswith("{")]
    [entry] = [line for line in lines if line["logger"] == REQUEST_LOGGER]
    assert entry["level"] == "INFO"
    assert entry["message"] == "GET /api/tasks 200"
    assert entry["method"] == "GET"
    assert entry["path"] == TASKS
    assert entry["status"] == response.status_code == 200
    assert entry["user_id"] == "alice"
    assert entry["request_id"] == "json-line-1"
    assert isinstance(entry["duration_ms"], float)
    assert entry["time"].endswith("+00:00")


def test_json_format_puts_a_traceback_inside_the_object() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = logging.getLogger("x").makeRecord("x", logging.ERROR, __file__, 1, "failed", (), exc_info=None)
        record.exc_info = sys.exc_info()

    line = JsonFormatter().format(record)

    assert "\n" not in line
    assert "RuntimeError: boom" in json.loads(line)["exception"]


@pytest.mark.django_db
def test_a_traceback_carries_the_request_id_of_the_request_that_crashed(
    alice: APIClient, log_output: io.StringIO
) -> None:
    with mock.patch.object(TaskViewSet, "list", side_effect=RuntimeError("database exploded")):
        response = alice.get(TASKS, HTTP_X_REQUEST_ID="crash-7")

    assert response.status_code == 500
    written = log_output.getvalue()
    # Ours with the traceback, and Django's "Internal Server Error" line.
    plain_errors = [line for line in written.splitlines() if " ERROR " in line and not line.startswith("{")]
    assert len(plain_errors) == 2
    assert all(line.endswith(' request_id="crash-7"') for line in plain_errors)
    json_errors = [json.loads(line) for line in written.splitlines() if line.startswith("{") and '"ERROR"' in line]
    assert len(json_errors) == 2
    assert [entry.get("request_id") for entry in json_errors] == ["crash-7", "crash-7"]


# What str.splitlines(), and so many log shippers, split on, beside "\n" and "\r":
# json.dumps(ensure_ascii=False) escapes the control characters, not these.
UNICODE_LINE_BREAKS = {"next-line": "\u0085", "line-separator": "\u2028", "paragraph-separator": "\u2029"}


@pytest.mark.parametrize("brk", list(UNICODE_LINE_BREAKS.values()), ids=list(UNICODE_LINE_BREAKS))
def test_json_format_escapes_unicode_line_breaks_so_a_record_stays_one_line(brk: str) -> None:
    message = f'before{brk}{{"level": "CRITICAL"}}{brk}after'
    record = logging.getLogger("x").makeRecord("x", logging.WARNING, __file__, 1, message, (), exc_info=None)

    line = JsonFormatter().format(record)

    assert line.splitlines() == [line]
    assert brk not in line
    assert json.loads(line)["message"] == message


@pytest.mark.parametrize("brk", list(UNICODE_LINE_BREAKS.values()), ids=list(UNICODE_LINE_BREAKS))
def test_a_unicode_line_break_in_the_path_stays_on_the_requests_json_line(
    client: Any, log_output: io.StringIO, brk: str
) -> None:
    encoded = "".join(f"%{byte:02X}" for byte in brk.encode())

    client.get(f"/x{encoded}forged")

    as_json = [line for line in log_output.getvalue().split("\n") if line.startswith("{")]
    [entry] = [json.loads(line) for line in as_json if json.loads(line)["logger"] == REQUEST_LOGGER]
    assert entry["path"] == f"/x{brk}forged"
    assert all(line.splitlines() == [line] for line in as_json)


def test_a_line_logged_outside_any_request_has_no_request_id(log_output: io.StringIO) -> None:
    logging.getLogger("todo_project").warning("starting up")

    plain, as_json = log_output.getvalue().splitlines()
    assert plain.endswith("todo_project starting up")
    assert "request_id" not in json.loads(as_json)


# --- Nothing secret reaches the logs -----------------------------------------------------------


@pytest.fixture
def leak_check(log_output: io.StringIO, caplog: pytest.LogCaptureFixture) -> Callable[[str], None]:
    """Assert that none of the given values appears in any log output."""
    caplog.set_level(logging.DEBUG)

    def _check(*values: str) -> None:
        written = log_output.getvalue() + caplog.text
        assert REQUEST_LOGGER in written  # the request was logged at all
        for value in (*values, settings.SECRET_KEY, settings.BETTER_AUTH_SECRET):
            assert value is not None and value not in written

    return _check


def send(client: APIClient, method: str, path: str, token: str, **body: Any) -> int:
    client.raise_request_exception = False
    response = getattr(client, method)(
        f"{path}?token={token}&access_token={token}",
        body or None,
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_COOKIE=f"better-auth.session_data={token}",
    )
    return response.status_code


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    [
        ("get", TASKS, {}, 200),
        ("get", f"{TASKS}/999999", {}, 404),
        ("post", TASKS, {"title": ""}, 422),
        ("post", TASKS, {"title": "fine"}, 201),
    ],
    ids=["200", "404", "422", "201"],
)
def test_no_credential_reaches_the_logs(
    api_client: APIClient,
    make_token: Callable[..., str],
    leak_check: Callable[..., None],
    method: str,
    path: str,
    body: dict[str, Any],
    expected: int,
) -> None:
    token = make_token("alice")

    assert send(api_client, method, path, token, **body) == expected
    leak_check(token, f"Bearer {token}")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "token_kind", ["wrong-key", "expired", "malformed"], ids=["401-bad-signature", "401-expired", "401-malformed"]
)
def test_no_rejected_credential_reaches_the_logs(
    api_client: APIClient, make_token: Callable[..., str], leak_check: Callable[..., None], token_kind: str
) -> None:
    token = {
        "wrong-key": lambda: make_token("alice", key="another-secret-of-at-least-32-chars!"),
        "expired": lambda: make_token("alice", expires_in=timedelta(minutes=-10)),
        "malformed": lambda: "eyJhbGciOiJIUzI1NiJ9.not-json-at-all.c2lnbmF0dXJl",
    }[token_kind]()

    assert send(api_client, "get", TASKS, token) == 401
    leak_check(token, f"Bearer {token}")


@pytest.mark.django_db
def test_no_credential_reaches_the_logs_when_a_view_crashes(
    api_client: APIClient, make_token: Callable[..., str], leak_check: Callable[..., None]
) -> None:
    token = make_token("alice")

    with mock.patch.object(TaskViewSet, "list", side_effect=RuntimeError("database exploded")):
        status = send(api_client, "get", TASKS, token)

    assert status == 500
    leak_check(token, f"Bearer {token}")


@pytest.mark.django_db
def test_no_credential_reaches_the_logs_when_a_middleware_crashes(
    api_client: APIClient, make_token: Callable[..., str], leak_check: Callable[..., None]
) -> None:
    """An exception outside DRF goes through Django's own 500 handling, which
    attaches the request (query string and all) to its log record."""
    token = make_token("alice")

    with mock.patch("django.middleware.common.CommonMiddleware.process_request", side_effect=RuntimeError("boom")):
        status = send(api_client, "get", TASKS, token)

    assert status == 500
    leak_check(token, f"Bearer {token}")

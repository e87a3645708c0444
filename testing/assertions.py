"""Checks of the service's answers and of the task table, shared between test
modules (Django test client responses)."""

from __future__ import annotations

from subprocess import CompletedProcess
from typing import TYPE_CHECKING, Any

from tasks.models import Task

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse
    from rest_framework.response import _MonkeyPatchedResponse

    # What the test clients return (Django's Client, DRF's APIClient): the
    # stubs' names for responses with json(), request and the rest attached.
    TestResponse = _MonkeyPatchedWSGIResponse | _MonkeyPatchedResponse

JSON_CONTENT_TYPE = "application/json; charset=utf-8"


def assert_json_error(response: TestResponse, status: int) -> dict[str, Any]:
    """An error answer with `status`: a JSON object with a non-empty string
    `detail`, no HTML, no traceback. Returns the body."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == JSON_CONTENT_TYPE
    body = response.json()
    assert isinstance(body, dict)
    assert isinstance(body.get("detail"), str)
    assert body["detail"]
    text = response.content.decode()
    assert "<html" not in text.lower()
    assert "Traceback" not in text
    return body


def assert_422_naming(response: TestResponse, *fields: str) -> dict[str, Any]:
    """A validation error naming exactly `fields`, each in `detail` too."""
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == JSON_CONTENT_TYPE
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert isinstance(body["detail"], str)
    assert "\n" not in body["detail"]
    assert set(body["errors"]) == set(fields)
    for field in fields:
        assert field in body["detail"]
        messages = body["errors"][field]
        assert isinstance(messages, list)
        assert messages
        assert all(isinstance(message, str) and message for message in messages)
    return body


def assert_refused_with_one_line(result: CompletedProcess[str], variable: str) -> str:
    """A process that refused to start: non-zero exit, one line on stderr
    naming `variable`, no traceback. Returns that line."""
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert variable in lines[0]
    assert "Traceback" not in result.stderr
    return lines[0]


def database_state() -> list[tuple]:
    """Every stored task, every column: equal before and after means nothing was written."""
    return list(Task.objects.order_by("pk").values_list())

"""Every error answer is JSON with a string `detail`, whatever went wrong:
bad bodies, bad ids, wrong methods, unknown paths, server and database failures."""

import json
import logging

import pytest
from django.db import InterfaceError, OperationalError, connection
from rest_framework.test import APIClient

from tasks.models import Task
from testing.assertions import assert_json_error

pytestmark = pytest.mark.django_db

SECRET_MESSAGE = "kaboom: SELECT secret FROM internals"


@pytest.fixture
def task(make_task) -> Task:
    return make_task(title="Original", description="Original description")


def unchanged(task: Task) -> bool:
    stored = Task.objects.get(pk=task.pk)
    return (stored.title, stored.description, stored.completed, stored.updated_at) == (
        task.title,
        task.description,
        task.completed,
        task.updated_at,
    )


# Every endpoint that reads a body: (method, path template).
BODY_ENDPOINTS = [
    ("post", "/api/tasks"),
    ("put", "/api/tasks/{id}"),
    ("patch", "/api/tasks/{id}"),
    ("patch", "/api/tasks/{id}/complete"),
]
BODY_ENDPOINT_IDS = ["create", "put", "patch", "complete"]


def send_raw(client, method: str, template: str, task: Task, raw, content_type: str = "application/json"):
    return getattr(client, method)(template.format(id=task.id), raw, content_type=content_type)


def assert_refused_as_malformed_json(response, task: Task, count_before: int) -> None:
    body = assert_json_error(response, 400)
    assert body["detail"].startswith("Malformed JSON")
    assert Task.objects.count() == count_before
    assert unchanged(task)


@pytest.mark.parametrize(("method", "template"), BODY_ENDPOINTS, ids=BODY_ENDPOINT_IDS)
class TestMalformedBodies:
    @pytest.mark.parametrize(
        "raw",
        [
            "{",
            '{"title": "x"',
            '{"title": "x",}',
            "{'title': 'x'}",
            '{"title": "x"} trailing',
            "not json",
            '{"title": "x" "description": "y"}',
            " ",
        ],
    )
    def test_invalid_json_is_a_400_malformed_json(self, alice, task, method, template, raw):
        count = Task.objects.count()

        response = send_raw(alice, method, template, task, raw)

        assert_refused_as_malformed_json(response, task, count)

    @pytest.mark.parametrize(
        "raw",
        [
            '{"title": NaN}',
            '{"title": "x", "completed": Infinity}',
            '{"title": "x", "description": -Infinity}',
            "NaN",
        ],
    )
    def test_nan_and_infinity_literals_are_a_400(self, alice, task, method, template, raw):
        count = Task.objects.count()

        response = send_raw(alice, method, template, task, raw)

        assert_refused_as_malformed_json(response, task, count)

    @pytest.mark.parametrize(
        "raw",
        [b'{"title": "\xff"}', b'{"title": "caf\xe9"}', b'{"title": "\xed\xa0\x80"}', b"\xfe\xff\x00{"],
        ids=["ff", "latin1", "encoded-surrogate", "bom-utf16"],
    )
    def test_invalid_utf8_is_a_400(self, alice, task, method, template, raw):
        count = Task.objects.count()

        response = send_raw(alice, method, template, task, raw)

        assert_refused_as_malformed_json(response, task, count)

    @pytest.mark.parametrize(
        "raw",
        ["[" * 100_000, "[" * 100_000 + "]" * 100_000, '{"a":' * 50_000 + "1" + "}" * 50_000],
        ids=["unclosed-arrays", "closed-arrays", "nested-objects"],
    )
    def test_deeply_nested_json_is_refused_without_a_server_error(self, alice, task, method, template, raw):
        count = Task.objects.count()

        response = send_raw(alice, method, template, task, raw)

        assert response.status_code in (400, 422)
        assert_json_error(response, response.status_code)
        assert Task.objects.count() == count
        assert unchanged(task)

    @pytest.mark.parametrize(
        ("raw", "content_type"),
        [
            ('{"title": "x"}', "text/plain"),
            ('{"title": "x"}', "text/plain; charset=utf-8"),
            ("title=x", "application/x-www-form-urlencoded"),
            ('{"title": "x"}', "application/xml"),
            ('{"title": "x"}', "application/octet-stream"),
            ('{"title": "x"}', "application/json-patch+json"),
        ],
    )
    def test_body_that_is_not_json_is_a_415(self, alice, task, method, template, raw, content_type):
        count = Task.objects.count()

        response = send_raw(alice, method, template, task, raw, content_type=content_type)

        assert_json_error(response, 415)
        assert Task.objects.count() == count
        assert unchanged(task)

    def test_multipart_form_is_a_415(self, alice, task, method, template):
        response = getattr(alice, method)(template.format(id=task.id), {"title": "x"}, format="multipart")

        assert_json_error(response, 415)
        assert unchanged(task)

    @pytest.mark.parametrize(
        "content_type", ["Application/JSON", "application/json; charset=utf-8", "application/json;charset=UTF-8"]
    )
    def test_json_content_type_is_case_insensitive_and_may_name_its_charset(
        self, alice, task, method, template, content_type
    ):
        response = send_raw(alice, method, template, task, '{"completed": true, "title": "x"}', content_type)

        assert response.status_code in (200, 201)
        assert response.json()["completed"] is True

    def test_body_over_the_limit_is_a_413(self, alice, task, method, template, settings):
        settings.API_MAX_BODY_BYTES = 1024
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
        raw = json.dumps({"title": "big", "description": "d" * 2000})
        assert len(raw.encode()) > 2000
        count = Task.objects.count()

        response = send_raw(alice, method, template, task, raw)

        assert_json_error(response, 413)
        assert Task.objects.count() == count
        assert unchanged(task)

    def test_body_within_the_limit_is_accepted(self, alice, task, method, template, settings):
        settings.API_MAX_BODY_BYTES = 1024
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024

        response = send_raw(alice, method, template, task, json.dumps({"title": "small", "description": "d" * 500}))

        assert response.status_code in (200, 201)  # complete ignores the fields it does not know


# Path ids that cannot name one of alice's tasks.
NUMERIC_MISSING_IDS = ["424242", "0", "-1", "9223372036854775807", "9223372036854775808", "99999999999999999999"]
NON_NUMERIC_IDS = ["abc", "%00", "1.5", "1e3", "0x1", "%20", "%201", "\N{FULLWIDTH DIGIT ONE}", "null", "1;2"]

# (method, path suffix after the id, body)
ID_ENDPOINTS = [
    ("get", "", None),
    ("put", "", {"title": "x"}),
    ("patch", "", {"title": "x"}),
    ("delete", "", None),
    ("patch", "/complete", None),
]
ID_ENDPOINT_IDS = ["get", "put", "patch", "delete", "complete"]


def call(client, method: str, path: str, body=None):
    if body is None:
        return getattr(client, method)(path)
    return getattr(client, method)(path, body, format="json")


@pytest.mark.parametrize(("method", "suffix", "body"), ID_ENDPOINTS, ids=ID_ENDPOINT_IDS)
class TestUnknownIds:
    @pytest.mark.parametrize("raw_id", NUMERIC_MISSING_IDS)
    def test_numeric_id_with_no_task_is_a_404_task_not_found(self, alice, task, method, suffix, body, raw_id):
        count = Task.objects.count()

        response = call(alice, method, f"/api/tasks/{raw_id}{suffix}", body)

        assert assert_json_error(response, 404) == {"detail": "Task not found"}
        assert Task.objects.count() == count
        assert unchanged(task)

    @pytest.mark.parametrize("raw_id", NON_NUMERIC_IDS)
    def test_non_numeric_id_is_a_json_404(self, alice, task, method, suffix, body, raw_id):
        count = Task.objects.count()

        response = call(alice, method, f"/api/tasks/{raw_id}{suffix}", body)

        assert set(assert_json_error(response, 404)) == {"detail"}
        assert Task.objects.count() == count
        assert unchanged(task)


class TestMethodNotAllowed:
    @pytest.mark.parametrize(
        ("method", "template", "allowed", "refused"),
        [
            ("post", "/api/tasks/{id}", {"GET", "PUT", "PATCH", "DELETE"}, "POST"),
            ("post", "/api/tasks/{id}/", {"GET", "PUT", "PATCH", "DELETE"}, "POST"),
            ("delete", "/api/tasks", {"GET", "POST"}, "DELETE"),
            ("put", "/api/tasks", {"GET", "POST"}, "PUT"),
            ("patch", "/api/tasks/", {"GET", "POST"}, "PATCH"),
            ("get", "/api/tasks/{id}/complete", {"PATCH"}, "GET"),
            ("post", "/api/tasks/{id}/complete", {"PATCH"}, "POST"),
            ("put", "/api/tasks/{id}/complete", {"PATCH"}, "PUT"),
            ("delete", "/api/tasks/{id}/complete", {"PATCH"}, "DELETE"),
        ],
    )
    def test_wrong_method_is_a_405_with_allow(self, alice, task, method, template, allowed, refused):
        count = Task.objects.count()

        response = getattr(alice, method)(template.format(id=task.id))

        assert_json_error(response, 405)
        assert "Allow" in response
        advertised = {name.strip() for name in response["Allow"].split(",")}
        assert allowed <= advertised
        assert refused not in advertised
        assert Task.objects.count() == count
        assert unchanged(task)

    @pytest.mark.parametrize("method", ["PROPFIND", "TRACE", "CONNECT", "LINK"])
    @pytest.mark.parametrize("template", ["/api/tasks", "/api/tasks/{id}", "/api/tasks/{id}/complete"])
    def test_unknown_http_method_is_a_405_with_allow(self, alice, task, method, template):
        response = alice.generic(method, template.format(id=task.id))

        assert_json_error(response, 405)
        assert method not in response["Allow"]
        assert unchanged(task)

    def test_405_is_the_same_for_a_missing_task(self, alice, db):
        response = alice.post("/api/tasks/424242")

        assert_json_error(response, 405)
        assert "Allow" in response


class TestUnknownPaths:
    @pytest.mark.parametrize(
        "path",
        [
            "/nope",
            "/nope/",
            "/api",
            "/api/",
            "/api/nope",
            "/api/nope/",
            "/api/task",
            "/api/tasks/1/nope",
            "/api/tasks/1/complete/extra",
            "/api/tasks//",
            "/api/v1/tasks",
            "/static/nope.js",
            "/%00",
            "/api/tasks/../../etc/passwd",
        ],
    )
    @pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
    @pytest.mark.parametrize("authenticated", [True, False], ids=["with-token", "without-token"])
    def test_unknown_path_is_a_json_404_never_html(self, alice, api_client, path, method, authenticated):
        client = alice if authenticated else api_client

        response = getattr(client, method)(path, {"title": "x"}, format="json")

        assert response.status_code in (401, 404)
        assert_json_error(response, response.status_code)
        if authenticated:
            assert response.status_code == 404

    @pytest.mark.parametrize("path", ["/nope", "/api/nope"])
    def test_unknown_path_with_a_browser_accept_header_is_still_json(self, alice, path):
        response = alice.get(path, headers={"Accept": "text/html,application/xhtml+xml"})

        assert_json_error(response, 404)


class TestRequestsDjangoRefuses:
    @pytest.mark.parametrize("path", ["/api/tasks", "/nope", "/health"])
    def test_disallowed_host_is_a_json_400(self, alice, db, path):
        response = alice.get(path, headers={"Host": "evil.example"})

        assert_json_error(response, 400)

    def test_failure_outside_the_api_views_is_a_json_500(self, make_token, db, monkeypatch, caplog):
        """Django's own handler500, not DRF's: the URL resolver itself fails."""

        def explode(self, path):
            raise RuntimeError(SECRET_MESSAGE)

        monkeypatch.setattr("django.urls.resolvers.URLResolver.resolve", explode)
        client = APIClient(raise_request_exception=False)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token('alice')}")

        with caplog.at_level(logging.ERROR):
            response = client.get("/api/tasks")

        assert assert_json_error(response, 500) == {"detail": "Internal server error"}
        assert SECRET_MESSAGE not in response.content.decode()
        assert any(record.exc_info and record.exc_info[0] is RuntimeError for record in caplog.records)


VIEW_FAILURES = [
    ("get", "/api/tasks", None),
    ("get", "/api/tasks/{id}", None),
    ("put", "/api/tasks/{id}", {"title": "x"}),
    ("patch", "/api/tasks/{id}", {"title": "x"}),
    ("patch", "/api/tasks/{id}/complete", None),
    ("delete", "/api/tasks/{id}", None),
]
VIEW_FAILURE_IDS = ["list", "get", "put", "patch", "complete", "delete"]


@pytest.fixture
def fragile_client(make_token) -> APIClient:
    """Alice's client, answering a server error instead of re-raising it."""
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token('alice')}")
    return client


class TestUnexpectedException:
    @pytest.mark.parametrize(("method", "template", "body"), VIEW_FAILURES, ids=VIEW_FAILURE_IDS)
    def test_unexpected_exception_is_a_bare_500_and_logged_with_its_traceback(
        self, fragile_client, task, monkeypatch, caplog, method, template, body
    ):
        def explode(self):
            raise RuntimeError(SECRET_MESSAGE)

        monkeypatch.setattr("tasks.views.TaskViewSet.get_queryset", explode)

        with caplog.at_level(logging.ERROR):
            response = call(fragile_client, method, template.format(id=task.id), body)

        assert assert_json_error(response, 500) == {"detail": "Internal server error"}
        assert SECRET_MESSAGE not in response.content.decode()
        logged = [record for record in caplog.records if record.exc_info and record.exc_info[0] is RuntimeError]
        assert logged, "the exception was not logged with its traceback"
        assert SECRET_MESSAGE in str(logged[0].exc_info[1])
        assert unchanged(task)

    def test_unexpected_exception_on_create_is_a_bare_500(self, fragile_client, db, monkeypatch, caplog):
        def explode(self, serializer):
            raise RuntimeError(SECRET_MESSAGE)

        monkeypatch.setattr("tasks.views.TaskViewSet.perform_create", explode)

        with caplog.at_level(logging.ERROR):
            response = fragile_client.post("/api/tasks", {"title": "x"}, format="json")

        assert response.status_code == 500
        assert response.json() == {"detail": "Internal server error"}
        assert SECRET_MESSAGE not in response.content.decode()
        assert any(record.exc_info and record.exc_info[0] is RuntimeError for record in caplog.records)
        assert Task.objects.count() == 0


class TestDatabaseUnreachable:
    @pytest.mark.parametrize(
        "error",
        [
            OperationalError("could not connect to server: Connection refused"),
            InterfaceError("connection already closed"),
        ],
        ids=["operational", "interface"],
    )
    @pytest.mark.parametrize(
        ("method", "template", "body"),
        [*VIEW_FAILURES, ("post", "/api/tasks", {"title": "x"})],
        ids=[*VIEW_FAILURE_IDS, "create"],
    )
    def test_unreachable_database_is_a_503_with_retry_after(self, fragile_client, task, method, template, body, error):
        def refuse(execute, sql, params, many, context):
            raise error

        with connection.execute_wrapper(refuse):
            response = call(fragile_client, method, template.format(id=task.id), body)

        body = assert_json_error(response, 503)
        assert "Retry-After" in response
        assert response["Retry-After"].isdigit()
        assert "could not connect" not in body["detail"]
        assert "connection already closed" not in body["detail"]

    def test_queryset_evaluation_failing_is_a_503(self, fragile_client, task, monkeypatch):
        def refuse(self):
            raise OperationalError("server closed the connection unexpectedly")

        monkeypatch.setattr("django.db.models.query.QuerySet._fetch_all", refuse)

        response = fragile_client.get(f"/api/tasks/{task.id}")

        assert_json_error(response, 503)
        assert response["Retry-After"].isdigit()

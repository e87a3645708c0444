"""Hostile bodies, values and paths: never a 500, never a partial write, and
what is accepted is stored to the character. Run on SQLite and PostgreSQL:
PostgreSQL refuses NUL in text, so a NUL that slipped through would be a 500
there only.

test_validation.py and test_errors.py pin the common cases (NUL and lone
surrogates in title and description, wrong JSON types, non-object bodies,
invalid JSON, the 413 with a small limit, unknown ids); this file adds values
at the edges of JSON and of the database, hostile strings in fields the
service ignores, the default size limit at its boundary, and ids refused
before any query.
"""

import json

import pytest
from django.conf import settings

from tasks.models import Task
from testing.assertions import assert_422_naming, assert_json_error, database_state

pytestmark = pytest.mark.django_db

BODY_ENDPOINTS = {
    "create": ("post", "/api/tasks"),
    "put": ("put", "/api/tasks/{id}"),
    "patch": ("patch", "/api/tasks/{id}"),
    "complete": ("patch", "/api/tasks/{id}/complete"),
}
FIELD_ENDPOINTS = {name: endpoint for name, endpoint in BODY_ENDPOINTS.items() if name != "complete"}


@pytest.fixture
def task(make_task) -> Task:
    """Alice's task: every test compares the whole table, `updated_at` included."""
    return make_task(title="Original", description="Original description")


def send_raw(client, endpoint: tuple[str, str], task: Task, raw: str | bytes):
    method, template = endpoint
    return getattr(client, method)(template.format(id=task.id), raw, content_type="application/json")


def assert_no_nul_or_surrogate_stored() -> None:
    for row in Task.objects.values_list("user_id", "title", "description"):
        text = "".join(value or "" for value in row)
        assert "\x00" not in text
        assert not any("\ud800" <= char <= "\udfff" for char in text)


# JSON values no task field accepts, written as raw JSON text: each is valid
# JSON, but sits at an edge of what JSON or Python numbers can hold.
EDGE_VALUES = {
    "overflowing-float": "1e400",
    "negative-overflowing-float": "-1e400",
    "negative-zero": "-0.0",
    "4000-digit-integer": "9" * 4000,
    "array-nested-200-deep": "[" * 200 + "]" * 200,
    "object-nested-200-deep": '{"a": ' * 200 + "1" + "}" * 200,
}


def body_with(field: str, raw_value: str) -> str:
    """A body whose other fields are all valid, so a partial write would show."""
    body = {"title": "Renamed", "description": "Changed", "completed": True}
    body[field] = "__VALUE__"
    return json.dumps(body).replace('"__VALUE__"', raw_value)


@pytest.mark.parametrize("endpoint", FIELD_ENDPOINTS.values(), ids=FIELD_ENDPOINTS.keys())
@pytest.mark.parametrize("field", ["title", "description", "completed"])
@pytest.mark.parametrize("value", EDGE_VALUES.values(), ids=EDGE_VALUES.keys())
def test_edge_value_in_any_field_is_a_422_naming_it_and_writes_nothing(alice, task, endpoint, field, value):
    before = database_state()

    response = send_raw(alice, endpoint, task, body_with(field, value))

    assert_422_naming(response, field)
    assert database_state() == before


@pytest.mark.parametrize("value", EDGE_VALUES.values(), ids=EDGE_VALUES.keys())
def test_edge_value_as_completed_on_the_toggle_is_a_422_and_changes_nothing(alice, task, value):
    before = database_state()

    response = send_raw(alice, BODY_ENDPOINTS["complete"], task, f'{{"completed": {value}}}')

    assert_422_naming(response, "completed")
    assert database_state() == before


# Hostile values where the service reads nothing: unknown keys and the fields
# the server sets. They are ignored, and none of them reaches the database.
IGNORED_FRAGMENTS = {
    "nul-key-and-value": '"\\u0000": "\\u0000"',
    "surrogate-key-and-value": '"\\ud800": "\\udfff"',
    "unknown-field-nested-200-deep": '"extra": ' + "[" * 200 + "]" * 200,
    "unknown-field-overflowing-float": '"extra": 1e400',
    "id-as-a-query-operator": '"id": {"$gt": 0}',
    "id-as-sql": '"id": "1 OR 1=1"',
    "user-id-with-nul": '"user_id": "bob\\u0000"',
    "user-id-as-a-list": '"user_id": ["bob"]',
    "created-at-lone-surrogate": '"created_at": "\\ud800"',
    "updated-at-overflowing-float": '"updated_at": 1e400',
}


@pytest.mark.parametrize("endpoint", FIELD_ENDPOINTS.values(), ids=FIELD_ENDPOINTS.keys())
@pytest.mark.parametrize("fragment", IGNORED_FRAGMENTS.values(), ids=IGNORED_FRAGMENTS.keys())
def test_hostile_value_in_an_ignored_field_is_ignored_and_never_stored(alice, task, endpoint, fragment):
    response = send_raw(alice, endpoint, task, f'{{"title": "Kept", {fragment}}}')

    assert response.status_code in (200, 201), response.content
    stored = Task.objects.get(pk=response.json()["id"])
    assert (stored.title, stored.user_id) == ("Kept", "alice")
    assert_no_nul_or_surrogate_stored()


@pytest.mark.parametrize("fragment", IGNORED_FRAGMENTS.values(), ids=IGNORED_FRAGMENTS.keys())
def test_hostile_value_in_an_ignored_field_of_the_toggle_is_ignored(alice, task, fragment):
    response = send_raw(alice, BODY_ENDPOINTS["complete"], task, f'{{"completed": true, {fragment}}}')

    assert response.status_code == 200, response.content
    assert Task.objects.get(pk=task.pk).completed is True
    assert_no_nul_or_surrogate_stored()


# Byte sequences that are not JSON, beyond those in test_errors.py.
NOT_JSON = {
    "raw-nul-byte-in-a-string": b'{"title": "a\x00b"}',
    "raw-control-byte-in-a-string": b'{"title": "a\x1bb"}',
    "utf8-bom-prefix": b'\xef\xbb\xbf{"title": "x"}',
    "5000-digit-integer": b'{"title": "x", "completed": ' + b"9" * 5000 + b"}",
    "nul-byte-outside-strings": b'{"title": "x"}\x00',
}


@pytest.mark.parametrize("endpoint", BODY_ENDPOINTS.values(), ids=BODY_ENDPOINTS.keys())
@pytest.mark.parametrize("raw", NOT_JSON.values(), ids=NOT_JSON.keys())
def test_bytes_that_are_not_json_are_a_400_and_write_nothing(alice, task, endpoint, raw):
    before = database_state()

    response = send_raw(alice, endpoint, task, raw)

    assert assert_json_error(response, 400)["detail"].startswith("Malformed JSON")
    assert database_state() == before


def padded_body(size: int) -> bytes:
    """A valid body of exactly `size` bytes: the padding is an ignored field."""
    empty = b'{"title": "Big", "completed": true, "padding": ""}'
    return empty[:-2] + b"x" * (size - len(empty)) + b'"}'


@pytest.mark.parametrize("endpoint", BODY_ENDPOINTS.values(), ids=BODY_ENDPOINTS.keys())
class TestDefaultBodySizeLimit:
    """At the configured default (API_MAX_BODY_BYTES, 1 MiB), to the byte."""

    def test_body_of_exactly_the_limit_is_accepted(self, alice, task, endpoint):
        body = padded_body(settings.API_MAX_BODY_BYTES)
        assert len(body) == settings.DATA_UPLOAD_MAX_MEMORY_SIZE

        response = send_raw(alice, endpoint, task, body)

        assert response.status_code in (200, 201), response.content[:200]

    def test_one_byte_over_the_limit_is_a_413_and_writes_nothing(self, alice, task, endpoint):
        before = database_state()

        response = send_raw(alice, endpoint, task, padded_body(settings.API_MAX_BODY_BYTES + 1))

        assert_json_error(response, 413)
        assert database_state() == before


# Path ids that cannot name a task. Numeric ones out of range would be a
# database error if they reached a query, so none may.
IMPOSSIBLE_IDS = [
    "0",
    "-1",
    "-0",
    "+1",
    "99999999999999999999",
    "9223372036854775808",
    "9" * 400,
    "abc",
    "%00",
    "1%00",
    "%ff",
    "%c0%80",
    "%e2%80%ae1",
    "\N{ARABIC-INDIC DIGIT THREE}",
    "1%20OR%201=1",
    "1'--",
]
ID_REQUESTS = {
    "get": ("get", "", None),
    "put": ("put", "", '{"title": "x"}'),
    "patch": ("patch", "", '{"title": "x"}'),
    "complete": ("patch", "/complete", None),
    "delete": ("delete", "", None),
}


@pytest.mark.parametrize(("method", "suffix", "raw"), ID_REQUESTS.values(), ids=ID_REQUESTS.keys())
@pytest.mark.parametrize("task_id", IMPOSSIBLE_IDS)
def test_impossible_id_is_a_json_404_before_any_query(
    alice, task, django_assert_num_queries, method, suffix, raw, task_id
):
    before = database_state()
    extra = {} if raw is None else {"data": raw, "content_type": "application/json"}

    with django_assert_num_queries(0):
        response = getattr(alice, method)(f"/api/tasks/{task_id}{suffix}", **extra)

    assert_json_error(response, 404)
    assert database_state() == before


@pytest.mark.parametrize("value", ["%ED%A0%80", "%ff", "%00%00", "pending%ED%A0%80", "%E2%80%AEpending", "1e400"])
def test_hostile_status_filter_is_a_400_before_any_query(alice, django_assert_num_queries, value):
    with django_assert_num_queries(0):
        response = alice.get(f"/api/tasks?status={value}")

    assert_json_error(response, 400)


@pytest.mark.parametrize("endpoint", BODY_ENDPOINTS.values(), ids=BODY_ENDPOINTS.keys())
def test_chunked_body_is_a_411_before_any_query(alice, task, endpoint, django_assert_num_queries):
    # Django reads a body by Content-Length only; a chunked one would look empty.
    method, template = endpoint
    before = database_state()

    with django_assert_num_queries(0):
        response = getattr(alice, method)(
            template.format(id=task.id),
            b'{"completed": true}',
            content_type="application/json",
            HTTP_TRANSFER_ENCODING="chunked",
        )

    assert "Content-Length" in assert_json_error(response, 411)["detail"]
    assert database_state() == before

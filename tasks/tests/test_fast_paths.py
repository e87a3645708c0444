"""The hand-written fast paths give exactly what the stock code they replace
gives: a task's representation (DRF's field-by-field walk), the rendered JSON
(DRF's JSONRenderer), and the datetimes read from PostgreSQL (Django's loader)."""

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from django.db import connection
from django.utils.functional import lazy
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.renderers import JSONRenderer

from api.renderers import UTF8JSONRenderer
from tasks.models import Task
from tasks.serializers import TaskSerializer

TIMES = [
    datetime(2026, 11, 23, 13, 30, 4, 349123, tzinfo=UTC),
    datetime(2026, 11, 23, 13, 30, 4, 0, tzinfo=UTC),  # whole second: still six digits
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2026, 6, 1, 2, 0, 0, 5, tzinfo=timezone(timedelta(hours=5, minutes=30))),
]
TEXTS = ["Buy milk", "", " padded ", "emoji 🎉 and 日本語", "line\u2028separator\u2029", 'quote " backslash \\', "\t\n"]


def drf_representation(task: Task) -> dict[str, Any]:
    """What ModelSerializer's own field-by-field to_representation gives."""
    return dict(serializers.ModelSerializer.to_representation(TaskSerializer(), task))


@pytest.mark.django_db
@pytest.mark.parametrize("created_at", TIMES)
@pytest.mark.parametrize("description", [None, *TEXTS])
def test_task_representation_equals_drfs_field_by_field_one(make_task, created_at, description) -> None:
    task = make_task(title="Title", description=description, completed=True, created_at=created_at)
    task.refresh_from_db()

    assert TaskSerializer(task).data == drf_representation(task)
    assert list(TaskSerializer(task).data) == TaskSerializer.Meta.fields


@pytest.mark.parametrize("created_at", TIMES)
def test_unsaved_aware_datetimes_are_written_like_drf_does(created_at) -> None:
    task = Task(id=1, user_id="alice", title="T", created_at=created_at, updated_at=created_at)

    assert TaskSerializer(task).data == drf_representation(task)


RENDERED = [
    {"items": [], "count": 0},
    {"detail": ErrorDetail("Task not found", code="not_found")},
    {"title": [ErrorDetail("This field may not be blank.", code="blank")]},
    {"detail": lazy(lambda: "lazy text", str)()},
    {"text": TEXTS, "numbers": [0, -1, 2**63 - 1, 1.5], "flags": [True, False, None]},
    {"when": TIMES[0], "date": TIMES[0].date()},
    {"nested": {"deeper": [{"a": "b"}]}},
    {1: "integer key"},
    {"huge": 2**64},
    [1, "two"],
]


@pytest.mark.parametrize("data", RENDERED)
def test_rendered_json_is_drfs_byte_for_byte(data) -> None:
    expected = JSONRenderer().render(data, "application/json", {})

    assert UTF8JSONRenderer().render(data, "application/json", {}) == expected


def test_nothing_renders_as_an_empty_body() -> None:
    assert UTF8JSONRenderer().render(None) == b""


@pytest.mark.django_db
def test_postgresql_timestamps_read_back_as_utc_datetimes_equal_to_djangos(make_task) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the timestamptz loader is PostgreSQL's")
    from django.db.backends.postgresql.psycopg_any import register_tzloader
    from psycopg.pq import Format

    from api.postgres import UTCTimestamptzLoader

    connection.ensure_connection()
    assert connection.connection.adapters.get_loader(1184, Format.TEXT) is UTCTimestamptzLoader  # 1184: timestamptz
    for moment in TIMES:
        make_task(created_at=moment, updated_at=moment)
    fast = list(Task.objects.order_by("id").values_list("created_at", flat=True))

    with connection.cursor() as cursor:
        register_tzloader(UTC, cursor)  # Django's own loader, on this cursor only
        cursor.execute("SELECT created_at FROM tasks_task ORDER BY id")
        stock = [row[0] for row in cursor.fetchall()]

    assert fast == stock == TIMES
    assert all(value.tzinfo is UTC for value in fast)


@pytest.mark.django_db
def test_the_list_represents_each_task_as_a_single_task_answer_does(alice, make_task) -> None:
    """The list reads rows, not Task instances: each must come out the same."""
    for description in [None, *TEXTS]:
        make_task(description=description, created_at=TIMES[0])

    listed = alice.get("/api/tasks").json()["items"]

    assert listed == [alice.get(f"/api/tasks/{item['id']}").json() for item in listed]
    assert listed == [drf_representation(task) for task in Task.objects.filter(user_id="alice")]

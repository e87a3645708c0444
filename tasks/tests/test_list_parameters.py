"""GET /api/tasks parameters: a bad value of any of them is a 400 whose detail
names the parameter, judged before any query; good values, empty `q` and
unknown parameters are accepted."""

from typing import Any

import pytest

from testing.assertions import assert_json_error

pytestmark = pytest.mark.django_db

BAD_VALUES = {
    "status": ["", "done", "Pending", "ALL", " all"],
    "q": ["a\x00b", "\x00", "x" * 201, "é" * 201],
    "priority": ["", "urgent", "High", "high,", ",high", "high,,low", "high low", "3", "high;low"],
    "due_from": [
        "",
        "2026-02-30",
        "2026-13-01",
        "2026-1-5",
        "20260105",
        "2026-01-05T00:00:00",
        "1899-12-31",
        "3000-01-01",
        "\uff12\uff10\uff12\uff16-01-05",
        " 2026-01-05",
    ],
    "due_to": ["", "2026-02-29", "yesterday", "0001-01-01", "9999-12-31"],
    "overdue": ["", "True", "1", "yes", "no", "FALSE"],
    "tz": ["", "utc", "europe/berlin", "Europe/berlin", "localtime", "Mars/Base", "+02:00", "../../etc/passwd"],
    "ordering": ["", "due_at", "-due", "-title", "priority", "-position", "id", "Title", "created_at,id"],
    "limit": ["", "0", "201", "-1", "+5", "1.5", "ten", " 5", "\uff15", "1e2", "99999999999999999999"],
    "cursor": ["", "x", "not-a-cursor", "eyJ0eXAiOiJKV1QifQ", "a:b:c"],
}
DETAILS = {
    "status": "Invalid status filter: must be 'pending', 'completed', or 'all'",
    "priority": "Invalid priority: must be one or more of 'none', 'low', 'medium', 'high', separated by commas",
    "due_from": "Invalid due_from: must be a date YYYY-MM-DD",
    "due_to": "Invalid due_to: must be a date YYYY-MM-DD",
    "overdue": "Invalid overdue: must be 'true' or 'false'",
    "tz": "Invalid tz: not an IANA time zone name",
    "ordering": "Invalid ordering: must be one of '-created_at', 'created_at', '-updated_at', 'updated_at', "
    "'due', '-priority', 'position', 'title'",
    "limit": "Invalid limit: must be an integer from 1 to 200",
    "cursor": "Invalid cursor",
}
BAD_CASES = [(name, value) for name, values in BAD_VALUES.items() for value in values]


@pytest.mark.parametrize(("name", "value"), BAD_CASES)
def test_a_bad_value_is_a_400_naming_the_parameter_before_any_query(
    alice, make_task, django_assert_num_queries, name: str, value: str
) -> None:
    make_task()

    with django_assert_num_queries(0):
        response = alice.get("/api/tasks", {name: value})

    body = assert_json_error(response, 400)
    assert name in body["detail"] or name == "status", body
    if name in DETAILS:
        assert body["detail"] == DETAILS[name]


@pytest.mark.parametrize(
    ("value", "detail"),
    [("a\x00b", "Invalid q: must not contain NUL"), ("x" * 201, "Invalid q: must be at most 200 characters")],
)
def test_q_details(alice, db, value: str, detail: str) -> None:
    assert assert_json_error(alice.get("/api/tasks", {"q": value}), 400)["detail"] == detail


@pytest.mark.parametrize(("name", "value"), BAD_CASES)
def test_a_bad_value_is_refused_whatever_else_is_good(alice, db, name: str, value: str) -> None:
    good = {"status": "pending", "ordering": "due", "tz": "Europe/Berlin", "limit": "5", "priority": "high"}

    response = alice.get("/api/tasks", {**good, name: value})

    assert_json_error(response, 400)


def test_due_from_after_due_to_is_a_400_naming_both(alice, db) -> None:
    response = alice.get("/api/tasks", {"due_from": "2026-03-02", "due_to": "2026-03-01"})

    assert assert_json_error(response, 400)["detail"] == "Invalid due range: due_from is after due_to"


GOOD_VALUES: dict[str, list[str]] = {
    "status": ["all", "pending", "completed"],
    "q": ["", "milk", "%", "_", "\\", "x" * 200, "é" * 200, " "],
    "priority": ["none", "low", "medium", "high", "high,low", "none,low,medium,high", "high,high"],
    "due_from": ["1900-01-01", "2026-02-28", "2028-02-29", "2999-12-31"],
    "due_to": ["1900-01-01", "2999-12-31"],
    "overdue": ["true", "false"],
    "tz": ["UTC", "Europe/Berlin", "America/Santiago", "Etc/GMT-14", "Pacific/Kiritimati"],
    "ordering": ["-created_at", "created_at", "-updated_at", "updated_at", "due", "-priority", "position", "title"],
    "limit": ["1", "200", "007", "50"],
}


@pytest.mark.parametrize(("name", "value"), [(n, v) for n, values in GOOD_VALUES.items() for v in values])
def test_a_good_value_is_accepted(alice, make_task, name: str, value: str) -> None:
    make_task()

    response = alice.get("/api/tasks", {name: value})

    assert response.status_code == 200, response.content


def test_due_from_equal_to_due_to_is_one_day(alice, db) -> None:
    assert alice.get("/api/tasks", {"due_from": "2026-03-01", "due_to": "2026-03-01"}).status_code == 200


def test_unknown_parameters_are_ignored(alice, make_task) -> None:
    task = make_task()

    response = alice.get("/api/tasks", {"page": "2", "offset": "x", "sort": "title", "Limit": "0", "STATUS": "x"})

    assert response.status_code == 200
    assert [item["id"] for item in response.json()["items"]] == [task.id]


def test_an_empty_q_is_no_search(alice, make_task) -> None:
    make_task(title="one")
    make_task(title="two")

    with_empty = alice.get("/api/tasks", {"q": ""}).json()

    assert with_empty == alice.get("/api/tasks").json()
    assert with_empty["count"] == 2


def test_without_parameters_the_answer_is_every_task_newest_first_with_no_cursor(alice, make_task) -> None:
    tasks = [make_task(title=f"t{n}") for n in range(3)]

    response = alice.get("/api/tasks")

    assert response.json()["next_cursor"] is None
    assert [item["id"] for item in response.json()["items"]] == [task.id for task in reversed(tasks)]
    assert "Link" not in response


def test_a_repeated_parameter_counts_by_its_last_value(alice, make_task) -> None:
    for n in range(3):
        make_task(title=f"t{n}")

    response = alice.get("/api/tasks?limit=1&limit=2")

    assert response.json()["count"] == 2


def params_with(**extra: Any) -> dict[str, Any]:
    return {"ordering": "due", **extra}


def test_every_parameter_combines_with_every_other(alice, make_task) -> None:
    make_task(title="Buy milk", priority=3, due_date="2026-03-02")

    response = alice.get(
        "/api/tasks",
        params_with(
            status="pending",
            q="MILK",
            priority="high,low",
            due_from="2026-03-01",
            due_to="2026-03-31",
            overdue="true",
            tz="Europe/Berlin",
            limit="10",
        ),
    )

    assert response.status_code == 200
    assert [item["title"] for item in response.json()["items"]] == ["Buy milk"]

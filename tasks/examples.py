"""Realistic requests and answers for the OpenAPI document, so ReDoc and
Swagger show a task rather than "string" placeholders. Every request example
is a valid request (schemathesis sends them)."""

from typing import Any

from drf_spectacular.utils import OpenApiExample

from tasks.etags import task_etag


def tagged(task: dict[str, Any]) -> dict[str, Any]:
    """`task` with the ETag its id and updated_at give."""
    return {**task, "etag": task_etag(task["id"], task["updated_at"])}


TASK: dict[str, Any] = tagged(
    {
        "id": 42,
        "user_id": "Qm9iJ3MgdXNlciBpZA",
        "title": "Buy groceries",
        "description": "Milk, bread, eggs",
        "completed": False,
        "completed_at": None,
        "due_date": "2026-01-09",
        "due_at": None,
        "priority": "high",
        "position": "a0V",
        "created_at": "2026-01-05T12:00:00.123456Z",
        "updated_at": "2026-01-05T12:00:00.123456Z",
    }
)
CALL_TASK: dict[str, Any] = tagged(
    {
        **TASK,
        "id": 41,
        "title": "Call the plumber",
        "description": None,
        "due_date": None,
        "due_at": "2026-01-08T16:30:00.000000Z",
        "priority": "medium",
        "position": "a0k",
        "created_at": "2026-01-04T09:15:00.000000Z",
        "updated_at": "2026-01-04T09:15:00.000000Z",
    }
)


def response(name: str, value: Any, status: str = "200") -> OpenApiExample:
    return OpenApiExample(name, value=value, response_only=True, status_codes=[status])


def request(name: str, value: Any, summary: str = "") -> OpenApiExample:
    return OpenApiExample(name, value=value, request_only=True, summary=summary or name)


LIST = [
    response(
        "A page of tasks",
        {"items": [TASK, CALL_TASK], "count": 2, "next_cursor": None},
    ),
]
CREATE = [
    request(
        "An all-day task",
        {"title": "Buy groceries", "description": "Milk, bread, eggs", "due_date": "2026-01-09", "priority": "high"},
    ),
    request("A timed task", {"title": "Call the plumber", "due_at": "2026-01-08T17:30:00+01:00"}),
    request("Just a title", {"title": "Water the plants"}),
    response("The created task", TASK, "201"),
]
RETRIEVE = [response("A task", TASK)]
UPDATE = [
    request("Rename and reschedule", {"title": "Buy groceries and flowers", "due_at": "2026-01-09T17:30:00+01:00"}),
    request("Clear the description", {"description": None}),
    response(
        "The updated task",
        tagged(
            {
                **TASK,
                "title": "Buy groceries and flowers",
                "due_date": None,
                "due_at": "2026-01-09T16:30:00.000000Z",
                "updated_at": "2026-01-06T08:00:00.000000Z",
            }
        ),
    ),
]
PARTIAL_UPDATE = [
    request("Lower the priority", {"priority": "medium"}),
    request("Make it all-day", {"due_date": "2026-01-10"}),
    response("The updated task", tagged({**TASK, "priority": "medium", "updated_at": "2026-01-06T08:00:00.000000Z"})),
]
COMPLETE = [
    request("Flip", {}, "No body, an empty body or {} flips completed"),
    request("Set", {"completed": True}, "Set completed (idempotent)"),
    response(
        "The completed task",
        tagged(
            {
                **TASK,
                "completed": True,
                "completed_at": "2026-01-06T08:30:00.000000Z",
                "updated_at": "2026-01-06T08:30:00.000000Z",
            }
        ),
    ),
]
MOVE = [
    request("After another task", {"after": 41}, "Right after task 41"),
    request("First", {"after": None}, "To the top of the manual order"),
    response("The moved task", tagged({**TASK, "position": "a0r", "updated_at": "2026-01-06T08:00:00.000000Z"})),
]

DONE_TASK: dict[str, Any] = tagged(
    {
        **TASK,
        "id": 40,
        "title": "Pay the rent",
        "description": None,
        "completed": True,
        "completed_at": "2026-01-03T10:00:00.000000Z",
        "due_date": "2026-01-03",
        "priority": "none",
        "position": "a0G",
        "created_at": "2026-01-02T08:00:00.000000Z",
        "updated_at": "2026-01-03T10:00:00.000000Z",
    }
)
TRASH = [
    response(
        "The trash",
        {"items": [{**DONE_TASK, "deleted_at": "2026-01-07T18:00:00.000000Z"}], "count": 1, "next_cursor": None},
    )
]
EMPTY_TRASH = [response("Emptied", {"deleted": 3})]
RESTORE = [response("The restored task", tagged({**DONE_TASK, "updated_at": "2026-01-08T09:00:00.000000Z"}))]
CLEAR_COMPLETED = [
    response("Two tasks trashed", {"trashed": 2, "ids": [38, 40]}),
    response("None was completed", {"trashed": 0, "ids": []}),
]
SYNC = [
    response(
        "Changes since the token",
        {
            "items": [CALL_TASK, TASK],
            "deleted": [40],
            "sync_token": "WzEsIlRjN2h2UGVfR3lZR2NVcjhKZExEIiwxN10:1vB2xq:3nq0m8Yw7pYyJ1yq9cQ2Zc0Hc4m2w9k1m1J2qVd1Xx8",
        },
    )
]

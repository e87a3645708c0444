"""`GET /api/tasks` in the OpenAPI document: each parameter with its exact
values, the page it answers, the `Link` header, and examples. The values
come from tasks/listing.py, which judges them, so the two cannot drift."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema_serializer
from rest_framework import serializers

from tasks import examples
from tasks.days import time_zone_names
from tasks.filters import STATUS_CHOICES
from tasks.listing import DEFAULT_TIME_ZONE, MAX_LIMIT, Q_MAX_LENGTH
from tasks.orderings import DEFAULT_ORDERING, ORDERINGS
from tasks.schema import NO_NUL_PATTERN
from tasks.serializers import DUE_DATE_MAX, DUE_DATE_MIN, PRIORITY_NAMES, TaskListSerializer

# 1900-01-01 to 2999-12-31 (DUE_DATE_MIN, DUE_DATE_MAX); `format: date` adds that the day exists.
DUE_DATE_PATTERN = r"^(19[0-9]{2}|2[0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
DUE_DATE_SCHEMA = {"type": "string", "format": "date", "pattern": DUE_DATE_PATTERN}


@extend_schema_serializer(many=False, component_name="TaskList")
class TaskPageSerializer(TaskListSerializer):
    """One page of the list: the first version's `items` and `count`, and the cursor of the next page."""

    next_cursor = serializers.CharField(
        allow_null=True,
        help_text="Pass as `cursor` for the next page; null on the last page (always null without `limit`).",
    )


def _query(name: str, schema: dict[str, Any], description: str, **extra: Any) -> OpenApiParameter:
    return OpenApiParameter(name, schema, OpenApiParameter.QUERY, description=description, **extra)


def _example(name: str, value: Any, summary: str) -> list[OpenApiExample]:
    return [OpenApiExample(name, value=value, summary=summary)]


LIST_PARAMETERS = [
    _query(
        "status",
        {"type": "string", "enum": list(STATUS_CHOICES), "default": "all"},
        "Which of the caller's tasks to list.",
    ),
    _query(
        "q",
        {"type": "string", "maxLength": Q_MAX_LENGTH, "pattern": NO_NUL_PATTERN},
        "Tasks whose title or description contains this text, ignoring letter case; `%`, `_` and `\\` are "
        "plain characters. Empty means no search.",
        examples=_example("q", "milk", "A word"),
    ),
    _query(
        "priority",
        {"type": "array", "items": {"type": "string", "enum": list(PRIORITY_NAMES)}, "minItems": 1},
        "Tasks with any of these priorities, separated by commas.",
        style="form",
        explode=False,
        examples=_example("priority", ["high", "medium"], "High or medium"),
    ),
    _query(
        "due_from",
        DUE_DATE_SCHEMA,
        f"Tasks due on this day or later, in `tz` ({DUE_DATE_MIN} to {DUE_DATE_MAX}): a `due_date` from this "
        "day, or a `due_at` from its first instant. Tasks without a due date never match.",
        examples=_example("due_from", "2026-03-01", "From the first of March"),
    ),
    _query(
        "due_to",
        DUE_DATE_SCHEMA,
        "Tasks due on this day or earlier, in `tz`: a `due_date` up to this day, or a `due_at` before the "
        "first instant of the next day. Not before `due_from`.",
        examples=_example("due_to", "2026-03-31", "To the end of March"),
    ),
    _query(
        "overdue",
        {"type": "boolean"},
        "`true`: pending tasks due before today in `tz`, or at an instant already past. `false`: every other task.",
    ),
    _query(
        "tz",
        {"type": "string", "enum": sorted(time_zone_names()), "default": DEFAULT_TIME_ZONE},
        "The IANA time zone (exact case) in which due dates, `due_from`, `due_to` and today are read.",
        examples=_example("tz", "Europe/Berlin", "Berlin"),
    ),
    _query(
        "ordering",
        {"type": "string", "enum": list(ORDERINGS), "default": DEFAULT_ORDERING},
        "The order; ties are broken by `id` (descending for `-created_at`, `-updated_at` and `-priority`). "
        "`due`: soonest first, a `due_date` counting as the first instant of its day in `tz`, tasks without "
        "one last. `position`: the manual order. `title`: ignoring letter case.",
    ),
    _query(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
        "At most this many tasks in the answer; without it, every matching task.",
        examples=_example("limit", 50, "A page of 50"),
    ),
    _query(
        "cursor",
        {"type": "string", "minLength": 1},
        "The `next_cursor` of the previous page, for the same filters, `tz` and `ordering` (`limit` may "
        "change). Anything else is a 400 `Invalid cursor`.",
    ),
    OpenApiParameter(
        "Link",
        {"type": "string"},
        OpenApiParameter.HEADER,
        description='`<URL>; rel="next"`: the next page, present exactly when `next_cursor` is not null.',
        response=[200],
    ),
]

LIST_RESPONSE = OpenApiResponse(
    TaskPageSerializer, description="The matching tasks, in order: all of them, or a page of `limit`."
)
# A real cursor, though signed with the development SECRET_KEY: each
# deployment signs its own. `?ordering=due&limit=2` for the user of the examples.
EXAMPLE_CURSOR = (
    "WzEsIjFRRGtvNVlEbkxheEJVV1ZnVElRIixbMCwiMjAyNi0wMS0wOVQwMDowMDowMCswMDowMCIsNDJdXQ"
    ":1xZ3XC:Ku-4QskwKEPUeXtVoJ6K5KoGutTgPxh3LMMQtuz6Hlc"
)
PAGE_EXAMPLES = [
    examples.response(
        "A page with more to come (?ordering=due&limit=2)",
        {"items": [examples.CALL_TASK, examples.TASK], "count": 2, "next_cursor": EXAMPLE_CURSOR},
    )
]

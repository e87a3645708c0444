"""`GET /api/tasks`: its query parameters, and reading one page with its cursor.

Every parameter is judged before any query, and a bad value is a 400 whose
detail names the parameter. A cursor is the sort key of a page's last task
and a digest of what it was a cursor for (the user, the filters, the time
zone and the ordering), signed with the service's SECRET_KEY: a client can
hand it back, not forge or reuse it elsewhere.
(docs/decisions/list-keyset-pagination.md)
"""

from __future__ import annotations

import hashlib
import json
import re
from base64 import urlsafe_b64encode
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from django.core import signing
from django.db.models import QuerySet
from django.utils import timezone
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.request import Request

from tasks.days import is_time_zone_name
from tasks.filters import STATUS_CHOICES, InvalidStatusFilter, due_conditions, filter_tasks
from tasks.models import Task
from tasks.orderings import DEFAULT_ORDERING, ORDERINGS, Ordering
from tasks.serializers import PRIORITY_NAMES, parse_due_date

MAX_LIMIT = 200
Q_MAX_LENGTH = 200
DEFAULT_TIME_ZONE = "UTC"
DIGITS = re.compile(r"[0-9]+")
CURSOR_SALT = "tasks.list.cursor"
CURSOR_VERSION = 1


class InvalidListParameter(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid_parameter"


class InvalidCursor(InvalidListParameter):
    default_detail = "Invalid cursor"
    default_code = "invalid_cursor"


def _quoted(values: Sequence[str]) -> str:
    return ", ".join(f"'{value}'" for value in values)


LIMIT_DETAIL = f"Invalid limit: must be an integer from 1 to {MAX_LIMIT}"
ORDERING_DETAIL = f"Invalid ordering: must be one of {_quoted(list(ORDERINGS))}"
PRIORITY_DETAIL = f"Invalid priority: must be one or more of {_quoted(list(PRIORITY_NAMES))}, separated by commas"
OVERDUE_DETAIL = "Invalid overdue: must be 'true' or 'false'"
TZ_DETAIL = "Invalid tz: not an IANA time zone name"
Q_NUL_DETAIL = "Invalid q: must not contain NUL"
Q_LENGTH_DETAIL = f"Invalid q: must be at most {Q_MAX_LENGTH} characters"
DUE_RANGE_DETAIL = "Invalid due range: due_from is after due_to"


def due_date_detail(name: str) -> str:
    return f"Invalid {name}: must be a date YYYY-MM-DD"


def _parse_due_date(name: str, raw: str) -> date:
    try:
        return parse_due_date(raw)
    except ValueError:
        raise InvalidListParameter(due_date_detail(name)) from None


def _parse_priorities(raw: str) -> tuple[int, ...]:
    names = raw.split(",")
    if not all(name in PRIORITY_NAMES for name in names):
        raise InvalidListParameter(PRIORITY_DETAIL)
    return tuple(sorted({PRIORITY_NAMES[name] for name in names}))


@dataclass(frozen=True)
class ListQuery:
    """The list's parameters, validated and normalized: two requests that ask
    for the same tasks in the same order have equal queries (but `limit`)."""

    status: str = "all"
    q: str | None = None
    priorities: tuple[int, ...] | None = None
    due_from: date | None = None
    due_to: date | None = None
    overdue: bool | None = None
    tz: str = DEFAULT_TIME_ZONE
    ordering: str = DEFAULT_ORDERING
    limit: int | None = None
    cursor: str | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> ListQuery:
        """Judge every parameter; an absent one takes its default, an unknown one is ignored."""
        fields: dict[str, Any] = {}
        if (value := params.get("status")) is not None:
            if value not in STATUS_CHOICES:
                raise InvalidStatusFilter()
            fields["status"] = value
        if value := params.get("q"):  # empty means absent
            if "\x00" in value:
                raise InvalidListParameter(Q_NUL_DETAIL)
            if len(value) > Q_MAX_LENGTH:
                raise InvalidListParameter(Q_LENGTH_DETAIL)
            fields["q"] = value
        if (value := params.get("priority")) is not None:
            fields["priorities"] = _parse_priorities(value)
        for name in ("due_from", "due_to"):
            if (value := params.get(name)) is not None:
                fields[name] = _parse_due_date(name, value)
        if fields.get("due_from") and fields.get("due_to") and fields["due_from"] > fields["due_to"]:
            raise InvalidListParameter(DUE_RANGE_DETAIL)
        if (value := params.get("overdue")) is not None:
            if value not in ("true", "false"):
                raise InvalidListParameter(OVERDUE_DETAIL)
            fields["overdue"] = value == "true"
        if (value := params.get("tz")) is not None:
            if not is_time_zone_name(value):
                raise InvalidListParameter(TZ_DETAIL)
            fields["tz"] = value
        if (value := params.get("ordering")) is not None:
            if value not in ORDERINGS:
                raise InvalidListParameter(ORDERING_DETAIL)
            fields["ordering"] = value
        if (value := params.get("limit")) is not None:
            if not (DIGITS.fullmatch(value) and 1 <= int(value) <= MAX_LIMIT):
                raise InvalidListParameter(LIMIT_DETAIL)
            fields["limit"] = int(value)
        if (value := params.get("cursor")) is not None:
            if not value:
                raise InvalidCursor()
            fields["cursor"] = value
        return cls(**fields)

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @property
    def order(self) -> Ordering:
        return ORDERINGS[self.ordering]

    def binding(self, user_id: str) -> str:
        """A digest of whose list this is and of everything that decides its
        order and content: what a cursor is valid for."""
        identity = [
            user_id,
            self.status,
            self.q,
            self.priorities,
            self.due_from and self.due_from.isoformat(),
            self.due_to and self.due_to.isoformat(),
            self.overdue,
            self.tz,
            self.ordering,
        ]
        digest = hashlib.sha256(json.dumps(identity, separators=(",", ":")).encode()).digest()
        return urlsafe_b64encode(digest[:15]).decode()


def encode_cursor(query: ListQuery, user_id: str, key: list[Any]) -> str:
    return signing.dumps([CURSOR_VERSION, query.binding(user_id), key], salt=CURSOR_SALT, compress=True)


def decode_cursor(query: ListQuery, user_id: str, cursor: str) -> tuple[Any, ...]:
    """The sort key `cursor` continues from, if it was made for this user and
    these filters, time zone and ordering; otherwise InvalidCursor."""
    try:
        version, binding, key = signing.loads(cursor, salt=CURSOR_SALT)
        if version != CURSOR_VERSION or binding != query.binding(user_id):
            raise ValueError("a cursor for another list")
        return query.order.decode_key(key)
    except (signing.BadSignature, ValueError, TypeError):
        raise InvalidCursor() from None


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    next_cursor: str | None


def read_page(tasks: QuerySet[Task], query: ListQuery, user_id: str, fields: Sequence[str]) -> Page:
    """The page of the user's `tasks` that `query` asks for, as rows with
    `fields` (and the ordering's key fields), and the cursor of the next page
    when another task follows."""
    after = decode_cursor(query, user_id, query.cursor) if query.cursor is not None else None
    now = timezone.now()
    order = query.order
    row_fields = list(dict.fromkeys([*fields, *order.key_fields]))
    count = None if query.limit is None else query.limit + 1
    rows = order.rows(filter_tasks(tasks, query, now), row_fields, after, count, query.zone, due_conditions(query, now))
    if query.limit is None or len(rows) <= query.limit:
        return Page(rows, None)
    rows = rows[: query.limit]
    return Page(rows, encode_cursor(query, user_id, order.key(rows[-1], query.zone)))


def next_page_link(request: Request, cursor: str) -> str:
    """`Link: <URL>; rel="next"`: this request's absolute URL, every
    parameter kept but `cursor`, which becomes the next page's."""
    params = request.query_params.copy()
    params["cursor"] = cursor
    return f'<{request.build_absolute_uri(f"{request.path}?{params.urlencode()}")}>; rel="next"'

"""The list's orderings, each read as keyset (seek) scans.

A page continues from the sort key of the previous page's last task: the
scan seeks to it in an index and reads on, so a page deep in the list costs
what the first one does, and a task written meanwhile cannot shift the
others between pages as an offset would. Every ordering is a strict total
order (ties broken by `id`), so a walk visits each unchanged task once.
(docs/decisions/list-keyset-pagination.md)
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import (
    BigIntegerField,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    Expression,
    F,
    Field,
    Func,
    QuerySet,
    Value,
)
from django.db.models.expressions import Combinable, OrderBy

from tasks.days import last_day_started_by, start_of_day
from tasks.filters import DueConditions
from tasks.models import Task, title_order

# A sort key in JSON terms (what a cursor carries): datetimes as ISO 8601 text.
JSONKey = list[Any]


class RowComparison(Func):
    """`(a, b) > (x, y)`, or `<` when descending: PostgreSQL and SQLite compare
    row values lexicographically, and PostgreSQL's B-tree seeks straight to
    the bound on an index over (..., a, b). The OR of column comparisons
    that it stands for would make the index scan read from the start of the
    user's range and filter."""

    output_field = BooleanField()

    def __init__(self, columns: Sequence[Combinable], values: Sequence[Value], *, descending: bool) -> None:
        super().__init__(*columns, *values)
        self.descending = descending

    def as_sql(
        self, compiler: Any, connection: BaseDatabaseWrapper, *args: Any, **kwargs: Any
    ) -> tuple[str, list[Any]]:
        parts, params = [], []
        for expression in self.get_source_expressions():
            sql, expression_params = compiler.compile(expression)
            parts.append(sql)
            params.extend(expression_params)
        half = len(parts) // 2
        operator = "<" if self.descending else ">"
        return f"({', '.join(parts[:half])}) {operator} ({', '.join(parts[half:])})", params


def _encode(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


def _decode(kind: type, raw: Any) -> Any:
    """A key part read back from a cursor; ValueError when it is not a `kind`."""
    if kind is datetime:
        value = datetime.fromisoformat(raw) if isinstance(raw, str) else None
        if value is None or value.tzinfo is None:
            raise ValueError("not an aware datetime")
        return value
    if type(raw) is not kind:
        raise ValueError(f"not a {kind.__name__}")
    return raw


FIELD_FOR_KIND: dict[type, type[Field]] = {datetime: DateTimeField, int: BigIntegerField, str: CharField}


class Ordering(Protocol):
    @property
    def key_fields(self) -> tuple[str, ...]:
        """The row attributes the ordering reads its key from (fields or annotations)."""
        ...

    def rows(
        self,
        tasks: QuerySet[Task],
        fields: Sequence[str],
        after: tuple[Any, ...] | None,
        count: int | None,
        zone: ZoneInfo,
        due: DueConditions,
    ) -> list[Any]:
        """Up to `count` rows (all when None) with `fields`, in order, after the key `after`."""
        ...

    def key(self, row: Any, zone: ZoneInfo) -> JSONKey: ...

    def decode_key(self, raw: JSONKey) -> tuple[Any, ...]:
        """The key a cursor carries; ValueError when it is not one of this ordering's."""
        ...


@dataclass(frozen=True)
class SeekOrdering:
    """One column (or expression), then `id`, in one direction: one scan of
    the index on (user_id, column, id), forwards or backwards."""

    column: str
    kind: type
    descending: bool = False
    # Annotated under `column` when the key is an expression, not a field.
    expression: Expression | None = None
    # The column alone is a strict order for one user (a unique index): no
    # `id` in the ORDER BY, which the unique index could not serve.
    unique: bool = False

    @property
    def key_fields(self) -> tuple[str, ...]:
        return (self.column, "id")

    def rows(
        self,
        tasks: QuerySet[Task],
        fields: Sequence[str],
        after: tuple[Any, ...] | None,
        count: int | None,
        zone: ZoneInfo,
        due: DueConditions,
    ) -> list[Any]:
        if self.expression is not None:
            tasks = tasks.annotate(**{self.column: self.expression})
        if after is not None:
            value, task_id = after
            if self.unique:
                tasks = tasks.filter(**{f"{self.column}__gt": value})
            else:
                bound = (Value(value, output_field=FIELD_FOR_KIND[self.kind]()), Value(task_id))
                tasks = tasks.filter(RowComparison((F(self.column), F("id")), bound, descending=self.descending))
        columns = (self.column,) if self.unique else (self.column, "id")
        order: list[OrderBy] = [F(c).desc() if self.descending else F(c).asc() for c in columns]
        selected = tasks.order_by(*order).values_list(*fields, named=True)
        return list(selected if count is None else selected[:count])

    def key(self, row: Any, zone: ZoneInfo) -> JSONKey:
        return [_encode(getattr(row, self.column)), row.id]

    def decode_key(self, raw: JSONKey) -> tuple[Any, ...]:
        value, task_id = raw
        return _decode(self.kind, value), _decode(int, task_id)


UNDATED = 1  # the group of tasks without a due date or instant, after the others


class DueOrdering:
    """`ordering=due`: tasks with a due date or instant, soonest first, a
    `due_date` counting as the first instant of that day in the caller's
    time zone; then the others; ties by `id`.

    A due date's instant depends on the time zone, so no single index holds
    this order. Its key is (group, instant, id), and a page merges two
    keyset scans, of the due-instant index and of the due-date index, then
    continues with a scan of the undated tasks once both are exhausted. The
    first instant of a day only grows with the day, so the date scan keeps
    the date order and seeks to the date bound that the instant gives.
    """

    key_fields = ("due_at", "due_date", "id")

    def rows(
        self,
        tasks: QuerySet[Task],
        fields: Sequence[str],
        after: tuple[Any, ...] | None,
        count: int | None,
        zone: ZoneInfo,
        due: DueConditions,
    ) -> list[Any]:
        rows: list[Any] = []
        last_id = 0
        if after is None or after[0] != UNDATED:
            rows = self._due_rows(tasks, fields, after, count, zone, due)
        else:
            last_id = after[2]
        if due.undated and (count is None or len(rows) < count):
            undated = tasks.filter(due_at__isnull=True, due_date__isnull=True, id__gt=last_id)
            selected = undated.order_by("id").values_list(*fields, named=True)
            rows += selected if count is None else selected[: count - len(rows)]
        return rows

    def _due_rows(
        self,
        tasks: QuerySet[Task],
        fields: Sequence[str],
        after: tuple[Any, ...] | None,
        count: int | None,
        zone: ZoneInfo,
        due: DueConditions,
    ) -> list[Any]:
        timed = tasks.filter(due.timed, due_at__isnull=False)
        dated = tasks.filter(due.dated, due_date__isnull=False)
        if after is not None:
            _, instant, task_id = after
            timed = timed.filter(
                RowComparison((F("due_at"), F("id")), (Value(instant), Value(task_id)), descending=False)
            )
            # Dates whose first instant is after `instant`, and the date that
            # starts exactly at it with a greater id.
            day = last_day_started_by(instant, zone)
            if start_of_day(day, zone) == instant:
                bound = (Value(day, output_field=DateField()), Value(task_id))
                dated = dated.filter(RowComparison((F("due_date"), F("id")), bound, descending=False))
            else:
                dated = dated.filter(due_date__gt=day)
        timed_rows = timed.order_by("due_at", "id").values_list(*fields, named=True)
        dated_rows = dated.order_by("due_date", "id").values_list(*fields, named=True)
        if count is not None:
            timed_rows, dated_rows = timed_rows[:count], dated_rows[:count]
        merged = heapq.merge(list(timed_rows), list(dated_rows), key=lambda row: self._instant_and_id(row, zone))
        return list(merged if count is None else islice(merged, count))

    @staticmethod
    def _instant_and_id(row: Any, zone: ZoneInfo) -> tuple[datetime, int]:
        return (row.due_at if row.due_at is not None else start_of_day(row.due_date, zone)), row.id

    def key(self, row: Any, zone: ZoneInfo) -> JSONKey:
        if row.due_at is None and row.due_date is None:
            return [UNDATED, None, row.id]
        instant, task_id = self._instant_and_id(row, zone)
        return [0, _encode(instant), task_id]

    def decode_key(self, raw: JSONKey) -> tuple[Any, ...]:
        group, instant, task_id = raw
        if group == UNDATED and instant is None:
            return UNDATED, None, _decode(int, task_id)
        if group != 0:
            raise ValueError("not a group")
        return 0, _decode(datetime, instant), _decode(int, task_id)


ORDERINGS: dict[str, Ordering] = {
    "-created_at": SeekOrdering("created_at", datetime, descending=True),
    "created_at": SeekOrdering("created_at", datetime),
    "-updated_at": SeekOrdering("updated_at", datetime, descending=True),
    "updated_at": SeekOrdering("updated_at", datetime),
    "due": DueOrdering(),
    "-priority": SeekOrdering("priority", int, descending=True),
    "position": SeekOrdering("position", str, unique=True),
    "title": SeekOrdering("title_key", str, expression=title_order()),
}
DEFAULT_ORDERING = "-created_at"

"""The list's filters: which of the caller's tasks `GET /api/tasks` answers.

Each takes a parsed ListQuery (tasks/listing.py), whose values are already
validated; nothing here refuses anything."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from rest_framework import status
from rest_framework.exceptions import APIException

from tasks.days import start_of_day, today
from tasks.models import Task

if TYPE_CHECKING:
    from tasks.listing import ListQuery

STATUS_CHOICES = ("all", "pending", "completed")


class InvalidStatusFilter(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Invalid status filter: must be 'pending', 'completed', or 'all'"
    default_code = "invalid_status_filter"


@dataclass(frozen=True)
class DueConditions:
    """What the due filters ask of each kind of task: of a task's `due_date`
    when it has one, of its `due_at` when it has one, and whether a task with
    neither can match. Each is implied by the whole filter for that kind of
    task (a task never has both), so a scan of one kind may add it without
    changing the answer; it gives the scan of a due index its bounds."""

    dated: Q
    timed: Q
    undated: bool


def overdue_condition(query: ListQuery, now: datetime) -> Q:
    """Pending, and due before today in the caller's time zone or due at an instant already past."""
    return Q(completed=False) & (Q(due_date__lt=today(now, query.zone)) | Q(due_at__lt=now))


def due_range_conditions(query: ListQuery) -> tuple[Q, Q]:
    """`due_from`/`due_to` on a task's `due_date`, and on its `due_at`: from
    the first instant of `due_from` to before the first instant of the day
    after `due_to`, in the caller's time zone. Each compares its column, so a
    task without one never matches."""
    dated, timed = Q(), Q()
    if query.due_from is not None:
        dated &= Q(due_date__gte=query.due_from)
        timed &= Q(due_at__gte=start_of_day(query.due_from, query.zone))
    if query.due_to is not None:
        dated &= Q(due_date__lte=query.due_to)
        timed &= Q(due_at__lt=start_of_day(query.due_to + timedelta(days=1), query.zone))
    return dated, timed


def due_conditions(query: ListQuery, now: datetime) -> DueConditions:
    dated, timed = due_range_conditions(query)
    if query.overdue:
        dated &= Q(due_date__lt=today(now, query.zone))
        timed &= Q(due_at__lt=now)
    has_due_filter = query.due_from is not None or query.due_to is not None or bool(query.overdue)
    return DueConditions(dated=dated, timed=timed, undated=not has_due_filter)


def filter_tasks(tasks: QuerySet[Task], query: ListQuery, now: datetime) -> QuerySet[Task]:
    """The tasks of `tasks` that every filter of `query` admits."""
    if query.status != "all":
        tasks = tasks.filter(completed=query.status == "completed")
    if query.q:
        # icontains escapes %, _ and \ itself; on PostgreSQL it compares
        # UPPER() of both sides, which follows Unicode case rules.
        tasks = tasks.filter(Q(title__icontains=query.q) | Q(description__icontains=query.q))
    if query.priorities is not None:
        tasks = tasks.filter(priority__in=query.priorities)
    if query.due_from is not None or query.due_to is not None:
        dated, timed = due_range_conditions(query)
        tasks = tasks.filter(dated | timed)
    if query.overdue is not None:
        overdue = overdue_condition(query, now)
        # exclude() is the complement even over the nullable due columns:
        # Django adds the IS NOT NULL tests that SQL's NOT would drop.
        tasks = tasks.filter(overdue) if query.overdue else tasks.exclude(overdue)
    return tasks

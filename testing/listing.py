"""The list's answers computed independently of the service: which tasks each
filter admits and in what order each ordering puts them, by Python over the
stored rows, plus varied task sets to compare on and a walk through pages.
Shared by the list's tests (tasks/tests/test_list_*.py)."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.db import connection

from tasks.models import Task
from tasks.positions import keys_between

if TYPE_CHECKING:
    from rest_framework.test import APIClient

ORDERINGS = ["-created_at", "created_at", "-updated_at", "updated_at", "due", "-priority", "position", "title"]
# Titles with equal lowercase forms in different cases, so `title` has ties to break;
# on PostgreSQL also letters beyond ASCII, whose case PostgreSQL folds and SQLite does not.
ASCII_TITLES = ["apple", "Apple", "APPLE", "banana", "Zebra", "zebra", "_under", "100% done", "a_b", "back\\slash"]
UNICODE_TITLES = ["Éclair", "éclair", "ÉCLAIR", "Жук", "жук", "Ärger", "ärger", "Zürich", "ZÜRICH", "émeute"]
BASE_TIME = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def unicode_case_folding() -> bool:
    """PostgreSQL (UTF-8, as this service requires) folds every letter's case; SQLite's lower() and LIKE only ASCII."""
    return connection.vendor == "postgresql"


def titles() -> list[str]:
    return ASCII_TITLES + (UNICODE_TITLES if unicode_case_folding() else [])


def database_lower(text: str) -> str:
    if unicode_case_folding():
        return text.lower()
    return "".join(c.lower() if c.isascii() else c for c in text)


def contains_ignoring_case(haystack: str | None, needle: str) -> bool:
    if haystack is None:
        return False
    if unicode_case_folding():
        return needle.upper() in haystack.upper()
    return database_lower(needle) in database_lower(haystack)


@cache
def first_instant(day: date, zone_name: str) -> datetime:
    """The first instant whose local date in the zone is `day`, found by
    stepping through the surrounding hours minute by minute (the transitions
    of every zone fall on whole minutes): no use of the service's own code.
    A day the zone skipped counts as starting a microsecond before the next."""
    zone = ZoneInfo(zone_name)
    t = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(hours=16)
    while t.astimezone(zone).date() < day:
        t += timedelta(minutes=1)
    return t if t.astimezone(zone).date() == day else t - timedelta(microseconds=1)


def instant_of_due(task: Task, zone_name: str) -> datetime | None:
    if task.due_at is not None:
        return task.due_at
    if task.due_date is not None:
        return first_instant(task.due_date, zone_name)
    return None


def reference_key(task: Task, ordering: str, zone_name: str = "UTC") -> tuple[Any, ...]:
    """A sort key giving `ordering`'s order with Python's ascending sort."""
    if ordering == "-created_at":
        return (-task.created_at.timestamp(), -task.id)
    if ordering == "created_at":
        return (task.created_at, task.id)
    if ordering == "-updated_at":
        return (-task.updated_at.timestamp(), -task.id)
    if ordering == "updated_at":
        return (task.updated_at, task.id)
    if ordering == "-priority":
        return (-task.priority, -task.id)
    if ordering == "position":
        return (task.position, task.id)
    if ordering == "title":
        return (database_lower(task.title), task.id)
    if ordering == "due":
        instant = instant_of_due(task, zone_name)
        return (instant is None, instant or BASE_TIME, task.id)
    raise ValueError(ordering)


def reference_order(tasks: Iterable[Task], ordering: str, zone_name: str = "UTC") -> list[int]:
    return [task.id for task in sorted(tasks, key=lambda task: reference_key(task, ordering, zone_name))]


def stored_tasks(user_id: str = "alice") -> list[Task]:
    return list(Task.objects.filter(user_id=user_id))


def varied_tasks(user_id: str, count: int, *, seed: int = 0) -> list[Task]:
    """`count` tasks with every shape the list distinguishes, stored with
    bulk_create: ties in each ordering's column, due dates, due instants
    (some exactly at a day's start) and none, every priority, descriptions or
    none, and positions in another order than the ids."""
    rng = random.Random(seed)  # noqa: S311 (reproducible test data, not a secret)
    positions = keys_between(None, None, count)
    rng.shuffle(positions)
    names = titles()
    tasks = []
    for n in range(count):
        due_kind = rng.choice(["date", "instant", "midnight", None])
        created = BASE_TIME + timedelta(minutes=rng.randrange(count // 3 + 1))  # ties on purpose
        due_date = BASE_TIME.date() + timedelta(days=rng.randrange(-40, 40)) if due_kind == "date" else None
        due_at = None
        if due_kind == "instant":
            due_at = BASE_TIME + timedelta(minutes=rng.randrange(-60 * 24 * 40, 60 * 24 * 40))
        elif due_kind == "midnight":
            due_at = datetime.combine(BASE_TIME.date() + timedelta(days=rng.randrange(-5, 5)), datetime.min.time(), UTC)
        tasks.append(
            Task(
                user_id=user_id,
                title=f"{rng.choice(names)}" + (f" {rng.randrange(3)}" if rng.random() < 0.5 else ""),
                description=rng.choice([None, "", "notes on milk", "MILK", f"détails {n}"]),
                completed=rng.random() < 0.3,
                priority=rng.randrange(4),
                position=positions[n],
                created_at=created,
                updated_at=created + timedelta(seconds=rng.choice([0, 0, 30, 3600])),
                due_date=due_date,
                due_at=due_at,
            )
        )
    return Task.objects.bulk_create(tasks)


def walk(
    client: APIClient, params: dict[str, Any], *, limit: int, between_pages: Callable[[], None] = lambda: None
) -> list[dict[str, Any]]:
    """Every page from the first, following `next_cursor`: the items in the
    order the pages gave them. Fails on any non-200 answer."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(10_000):
        query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        response = client.get("/api/tasks", query)
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["count"] == len(body["items"]) <= limit
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items
        between_pages()
    raise AssertionError("the walk did not end")

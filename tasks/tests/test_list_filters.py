"""GET /api/tasks filters: each against the same rows filtered in Python,
alone and combined, with the day boundaries of `tz` across daylight-saving
changes."""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tasks.models import Task
from testing.listing import (
    contains_ignoring_case,
    first_instant,
    reference_order,
    stored_tasks,
    unicode_case_folding,
    varied_tasks,
)

pytestmark = pytest.mark.django_db

PRIORITIES = {"none": 0, "low": 1, "medium": 2, "high": 3}
# A fixed "now" for the tests of `overdue`, which reads the clock.
NOW = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)


@pytest.fixture
def tasks(db) -> list[Task]:
    varied_tasks("bob", 40, seed=2)  # never listed for alice
    varied_tasks("alice", 160, seed=1)
    return stored_tasks("alice")


@pytest.fixture
def frozen_now(monkeypatch) -> datetime:
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    return NOW


def listed(client, **params: Any) -> list[int]:
    response = client.get("/api/tasks", params)
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


def expected(tasks: list[Task], admits: Callable[[Task], bool]) -> list[int]:
    return reference_order([task for task in tasks if admits(task)], "-created_at")


def in_due_range(task: Task, due_from: date | None, due_to: date | None, zone: str) -> bool:
    if task.due_date is not None:
        return (due_from is None or task.due_date >= due_from) and (due_to is None or task.due_date <= due_to)
    if task.due_at is not None:
        return (due_from is None or task.due_at >= first_instant(due_from, zone)) and (
            due_to is None or task.due_at < first_instant(due_to + timedelta(days=1), zone)
        )
    return False


def is_overdue(task: Task, now: datetime, zone: str) -> bool:
    today = now.astimezone(ZoneInfo(zone)).date()
    due_before = (task.due_date is not None and task.due_date < today) or (
        task.due_at is not None and task.due_at < now
    )
    return not task.completed and due_before


class TestStatus:
    @pytest.mark.parametrize("status", ["all", "pending", "completed"])
    def test_status_selects_by_completion(self, alice, tasks, status: str) -> None:
        admits = {"all": lambda t: True, "pending": lambda t: not t.completed, "completed": lambda t: t.completed}

        assert listed(alice, status=status) == expected(tasks, admits[status])


class TestSearch:
    @pytest.mark.parametrize("q", ["milk", "MILK", "Milk", "apple", "APP", "notes on", "100%", "%", "_", "\\", " "])
    def test_q_matches_title_or_description_ignoring_case(self, alice, tasks, q: str) -> None:
        def admits(task: Task) -> bool:
            return contains_ignoring_case(task.title, q) or contains_ignoring_case(task.description, q)

        assert listed(alice, q=q) == expected(tasks, admits)

    @pytest.mark.parametrize("q", ["%", "_", "\\", "a_b", "0% d"])
    def test_like_wildcards_are_plain_characters(self, alice, make_task, q: str) -> None:
        titles = ["100% done", "a_b", "back\\slash", "abc", "axb", "plain"]
        ids = {title: make_task(title=title).id for title in titles}

        assert sorted(listed(alice, q=q)) == sorted(ids[title] for title in titles if q in title)

    @pytest.mark.skipif(not unicode_case_folding(), reason="SQLite folds the case of ASCII letters only")
    @pytest.mark.parametrize(("q", "title"), [("éclair", "ÉCLAIR"), ("ЖУК", "жук"), ("zürich", "ZÜRICH")])
    def test_q_ignores_the_case_of_any_letter_on_postgresql(self, alice, make_task, q: str, title: str) -> None:
        task = make_task(title=title)
        make_task(title="other")

        assert listed(alice, q=q) == [task.id]

    def test_q_searches_the_description_too(self, alice, make_task) -> None:
        by_description = make_task(title="Errand", description="Pick up the PARCEL")
        by_title = make_task(title="Parcel", description=None)
        make_task(title="Other", description="Nothing to fetch")

        assert sorted(listed(alice, q="parcel")) == sorted([by_description.id, by_title.id])


class TestPriority:
    @pytest.mark.parametrize("priority", ["none", "low", "medium", "high", "high,medium", "none,high", "low,low"])
    def test_priority_selects_any_of_the_listed_priorities(self, alice, tasks, priority: str) -> None:
        wanted = {PRIORITIES[name] for name in priority.split(",")}

        assert listed(alice, priority=priority) == expected(tasks, lambda task: task.priority in wanted)


class TestDueRange:
    @pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/Santiago", "Pacific/Kiritimati"])
    @pytest.mark.parametrize(
        ("due_from", "due_to"),
        [
            (date(2026, 3, 1), date(2026, 3, 1)),
            (date(2026, 2, 20), date(2026, 3, 10)),
            (date(2026, 3, 5), None),
            (None, date(2026, 2, 25)),
            (date(1900, 1, 1), date(2999, 12, 31)),
        ],
    )
    def test_due_range_against_python(
        self, alice, tasks, zone: str, due_from: date | None, due_to: date | None
    ) -> None:
        params = {"tz": zone, **({"due_from": due_from} if due_from else {}), **({"due_to": due_to} if due_to else {})}

        assert listed(alice, **params) == expected(tasks, lambda task: in_due_range(task, due_from, due_to, zone))

    def test_tasks_without_a_due_date_never_match(self, alice, make_task) -> None:
        make_task(title="undated")

        assert listed(alice, due_from="1900-01-01") == []
        assert listed(alice, due_to="2999-12-31") == []

    # A day of 23 hours in Berlin: it starts at 00:00 CET (23:00 UTC the day before) and
    # ends at 00:00 CEST (22:00 UTC).
    @pytest.mark.parametrize(
        ("due_at", "inside"),
        [
            (datetime(2026, 3, 28, 22, 59, 59, 999999, tzinfo=UTC), False),
            (datetime(2026, 3, 28, 23, 0, tzinfo=UTC), True),
            (datetime(2026, 3, 29, 21, 59, 59, 999999, tzinfo=UTC), True),
            (datetime(2026, 3, 29, 22, 0, tzinfo=UTC), False),
        ],
    )
    def test_a_day_of_23_hours_in_berlin(self, alice, make_task, due_at: datetime, inside: bool) -> None:
        task = make_task(due_at=due_at)

        found = listed(alice, tz="Europe/Berlin", due_from="2026-03-29", due_to="2026-03-29")

        assert found == ([task.id] if inside else [])

    # Santiago skips 00:00-01:00 on 2026-09-06: the day starts at 01:00 -03 (04:00 UTC).
    @pytest.mark.parametrize(
        ("due_at", "inside"),
        [
            (datetime(2026, 9, 6, 3, 59, 59, tzinfo=UTC), False),
            (datetime(2026, 9, 6, 4, 0, tzinfo=UTC), True),
        ],
    )
    def test_a_day_that_starts_at_one_in_santiago(self, alice, make_task, due_at: datetime, inside: bool) -> None:
        task = make_task(due_at=due_at)

        found = listed(alice, tz="America/Santiago", due_from="2026-09-06")

        assert found == ([task.id] if inside else [])

    # Havana repeats 00:00-01:00 on 2026-11-01: the 31st ends at the first midnight (04:00 UTC).
    @pytest.mark.parametrize(
        ("due_at", "inside"),
        [
            (datetime(2026, 11, 1, 3, 59, 59, tzinfo=UTC), True),
            (datetime(2026, 11, 1, 4, 0, tzinfo=UTC), False),
            (datetime(2026, 11, 1, 4, 30, tzinfo=UTC), False),
        ],
    )
    def test_a_day_ending_at_a_repeated_midnight_in_havana(
        self, alice, make_task, due_at: datetime, inside: bool
    ) -> None:
        task = make_task(due_at=due_at)

        found = listed(alice, tz="America/Havana", due_to="2026-10-31")

        assert found == ([task.id] if inside else [])

    def test_a_due_date_is_in_range_whatever_the_time_zone(self, alice, make_task) -> None:
        task = make_task(due_date=date(2026, 3, 29))

        for zone in ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"]:
            assert listed(alice, tz=zone, due_from="2026-03-29", due_to="2026-03-29") == [task.id]
            assert listed(alice, tz=zone, due_from="2026-03-30") == []


class TestOverdue:
    @pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago", "America/Santiago"])
    def test_overdue_true_against_python(self, alice, tasks, frozen_now, zone: str) -> None:
        assert listed(alice, overdue="true", tz=zone) == expected(tasks, lambda t: is_overdue(t, frozen_now, zone))

    @pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"])
    def test_overdue_false_is_every_other_task(self, alice, tasks, frozen_now, zone: str) -> None:
        assert listed(alice, overdue="false", tz=zone) == expected(tasks, lambda t: not is_overdue(t, frozen_now, zone))

    def test_today_is_read_in_tz(self, alice, make_task, frozen_now) -> None:
        # At 12:30 UTC on 2026-03-01 it is already the 2nd in Kiritimati (UTC+14)
        # and still the 1st in Pago Pago (UTC-11).
        task = make_task(due_date=date(2026, 3, 1))

        assert listed(alice, overdue="true", tz="Pacific/Kiritimati") == [task.id]
        assert listed(alice, overdue="true", tz="Pacific/Pago_Pago") == []
        assert listed(alice, overdue="false", tz="Pacific/Pago_Pago") == [task.id]

    def test_a_due_instant_is_overdue_once_past_whatever_the_zone(self, alice, make_task, frozen_now) -> None:
        past = make_task(due_at=frozen_now - timedelta(microseconds=1))
        make_task(due_at=frozen_now + timedelta(seconds=1))

        for zone in ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"]:
            assert listed(alice, overdue="true", tz=zone) == [past.id]

    def test_completed_and_undated_tasks_are_never_overdue(self, alice, make_task, frozen_now) -> None:
        done = make_task(due_date=date(2020, 1, 1), completed=True)
        undated = make_task()

        assert listed(alice, overdue="true") == []
        assert sorted(listed(alice, overdue="false")) == sorted([done.id, undated.id])


def test_filters_combine(alice, tasks, frozen_now) -> None:
    def admits(task: Task) -> bool:
        return (
            not task.completed
            and task.priority in (2, 3)
            and (contains_ignoring_case(task.title, "a") or contains_ignoring_case(task.description, "a"))
            and in_due_range(task, date(2026, 2, 1), date(2026, 3, 31), "Europe/Berlin")
            and not is_overdue(task, frozen_now, "Europe/Berlin")
        )

    found = listed(
        alice,
        status="pending",
        priority="medium,high",
        q="a",
        due_from="2026-02-01",
        due_to="2026-03-31",
        overdue="false",
        tz="Europe/Berlin",
    )

    assert found == expected(tasks, admits)
    assert found  # the data make the combination non-trivial

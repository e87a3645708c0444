"""GET /api/tasks?ordering=: each ordering against Python's sort of the same
rows, ties included, and `due` in several time zones."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from tasks.models import Task
from testing.listing import ORDERINGS, reference_order, stored_tasks, unicode_case_folding, varied_tasks

pytestmark = pytest.mark.django_db


@pytest.fixture
def tasks(db) -> list[Task]:
    varied_tasks("bob", 30, seed=4)
    varied_tasks("alice", 150, seed=3)
    return stored_tasks("alice")


def listed(client, **params: Any) -> list[int]:
    response = client.get("/api/tasks", params)
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_ordering_against_python(alice, tasks, ordering: str) -> None:
    assert listed(alice, ordering=ordering) == reference_order(tasks, ordering)


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_ordering_of_a_filtered_list_against_python(alice, tasks, ordering: str) -> None:
    chosen = [task for task in tasks if not task.completed and task.priority != 0]

    assert listed(alice, ordering=ordering, status="pending", priority="low,medium,high") == reference_order(
        chosen, ordering
    )


def test_the_default_ordering_is_newest_created_first(alice, tasks) -> None:
    assert listed(alice) == listed(alice, ordering="-created_at") == reference_order(tasks, "-created_at")


@pytest.mark.parametrize(
    "zone", ["UTC", "Europe/Berlin", "America/Santiago", "America/Havana", "Pacific/Kiritimati", "Asia/Kolkata"]
)
def test_due_in_a_time_zone_against_python(alice, tasks, zone: str) -> None:
    assert listed(alice, ordering="due", tz=zone) == reference_order(tasks, "due", zone)


class TestTies:
    @pytest.mark.parametrize(
        ("ordering", "descending"),
        [("-created_at", True), ("created_at", False), ("-updated_at", True), ("updated_at", False)],
    )
    def test_equal_timestamps_are_ordered_by_id(self, alice, make_task, ordering: str, descending: bool) -> None:
        moment = datetime(2026, 1, 5, 12, 0, 0, 123456, tzinfo=UTC)
        ids = [make_task(title=f"tie {n}", created_at=moment).id for n in range(4)]
        Task.objects.filter(id__in=ids).update(updated_at=moment)

        assert listed(alice, ordering=ordering) == sorted(ids, reverse=descending)

    def test_equal_priorities_are_ordered_by_id_descending(self, alice, make_task) -> None:
        low = [make_task(priority=1).id for _ in range(3)]
        high = [make_task(priority=3).id for _ in range(3)]

        assert listed(alice, ordering="-priority") == sorted(high, reverse=True) + sorted(low, reverse=True)

    def test_titles_equal_but_for_case_are_ordered_by_id(self, alice, make_task) -> None:
        ids = [make_task(title=title).id for title in ["b", "APPLE", "apple", "Apple", "a"]]

        assert listed(alice, ordering="title") == [ids[4], ids[1], ids[2], ids[3], ids[0]]

    def test_a_due_date_and_a_due_instant_at_its_first_instant_are_ordered_by_id(self, alice, make_task) -> None:
        # 2026-03-29 starts at 23:00 UTC the day before in Berlin.
        instant = make_task(due_at=datetime(2026, 3, 28, 23, 0, tzinfo=UTC))
        day = make_task(due_date=date(2026, 3, 29))
        later = make_task(due_at=datetime(2026, 3, 28, 23, 0, 1, tzinfo=UTC))
        earlier = make_task(due_at=datetime(2026, 3, 28, 22, 59, 59, tzinfo=UTC))

        assert listed(alice, ordering="due", tz="Europe/Berlin") == [earlier.id, instant.id, day.id, later.id]


class TestDue:
    def test_tasks_without_a_due_date_come_last_by_id(self, alice, make_task) -> None:
        undated = [make_task(title=f"undated {n}").id for n in range(3)]
        dated = make_task(due_date=date(2999, 12, 31))
        timed = make_task(due_at=datetime(1900, 1, 1, tzinfo=UTC))

        assert listed(alice, ordering="due") == [timed.id, dated.id, *undated]

    def test_a_due_date_counts_as_the_first_instant_of_its_day_in_tz(self, alice, make_task) -> None:
        # In Kiritimati (UTC+14) 2026-03-02 starts at 10:00 UTC on the 1st; in UTC, at midnight on the 2nd.
        day = make_task(due_date=date(2026, 3, 2))
        instant = make_task(due_at=datetime(2026, 3, 1, 18, 0, tzinfo=UTC))

        assert listed(alice, ordering="due", tz="UTC") == [instant.id, day.id]
        assert listed(alice, ordering="due", tz="Pacific/Kiritimati") == [day.id, instant.id]

    def test_a_day_that_starts_at_one_in_santiago(self, alice, make_task) -> None:
        # 2026-09-06 starts at 01:00 -03, 04:00 UTC: a due instant at 03:30 UTC comes first.
        day = make_task(due_date=date(2026, 9, 6))
        before = make_task(due_at=datetime(2026, 9, 6, 3, 30, tzinfo=UTC))
        after = make_task(due_at=datetime(2026, 9, 6, 4, 0, 1, tzinfo=UTC))

        assert listed(alice, ordering="due", tz="America/Santiago") == [before.id, day.id, after.id]


class TestTitle:
    def test_title_ignores_ascii_case_and_compares_code_points(self, alice, make_task) -> None:
        ids = {title: make_task(title=title).id for title in ["beta", "Alpha", "_x", "Zeta", "alpha2", "1st", "~"]}

        assert listed(alice, ordering="title") == [
            ids[t] for t in ["1st", "_x", "Alpha", "alpha2", "beta", "Zeta", "~"]
        ]

    @pytest.mark.skipif(not unicode_case_folding(), reason="SQLite's lower() folds ASCII letters only")
    def test_title_ignores_the_case_of_any_letter_on_postgresql(self, alice, make_task) -> None:
        ids = {title: make_task(title=title).id for title in ["Жук", "éclair", "ÉCLAIR2", "zebra", "Ärger"]}

        # Lowercased, by code point: z (U+007A) < ä (U+00E4) < é (U+00E9) < ж (U+0436).
        assert listed(alice, ordering="title") == [ids[t] for t in ["zebra", "Ärger", "éclair", "ÉCLAIR2", "Жук"]]


def test_position_is_the_manual_order_by_code_point(alice, make_task) -> None:
    # Keys compare by code point, where digits < upper case < lower case, whatever the collation.
    ids = {position: make_task(position=position).id for position in ["a1", "Zz", "a0V", "b00", "a0"]}

    assert listed(alice, ordering="position") == [ids[p] for p in ["Zz", "a0", "a0V", "a1", "b00"]]


def test_updated_at_follows_writes(alice, make_task) -> None:
    first, second = make_task(title="first"), make_task(title="second")
    Task.objects.filter(id=first.id).update(updated_at=second.updated_at + timedelta(seconds=1))

    assert listed(alice, ordering="updated_at") == [second.id, first.id]
    assert listed(alice, ordering="-updated_at") == [first.id, second.id]

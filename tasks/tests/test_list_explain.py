"""PostgreSQL's plans for a page of GET /api/tasks: each ordering, with and
without a cursor, alone and with filters, reads an index of tasks_task in the
page's order and sorts nothing. So a page costs the same deep in a long list
as at its start, instead of sorting the user's whole task set every time.

Each statement a page runs is captured from a real request, then EXPLAINed
over 2,000 tasks of the user and 2,000 of another, after ANALYZE."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tasks.models import Task
from testing.listing import ORDERINGS, varied_tasks

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="query plans are PostgreSQL's"),
]

TASKS_PER_USER = 2000
# Other users' tasks, as in any real table: the caller's are a small part of it.
OTHER_USERS = ["bob", "carol", "dave", "erin"]
PAGE = 50
# Filters an index of the ordering serves (or that drop few rows): the page is read in index order.
ORDERED_FILTERS = [
    pytest.param({}, id="no-filter"),
    pytest.param({"status": "pending"}, id="pending"),
]
# Filters no index serves, or that the due indexes serve as a range: PostgreSQL may read the
# rows that pass them through an index and sort those (a top-N sort) when it expects few.
SELECTIVE_FILTERS = [
    pytest.param({"status": "completed", "priority": "high,medium"}, id="completed-priority"),
    pytest.param({"q": "milk"}, id="q"),
    pytest.param({"overdue": "false", "tz": "Europe/Berlin"}, id="not-overdue"),
    pytest.param({"due_from": "2026-02-20", "due_to": "2026-03-20", "tz": "America/Santiago"}, id="due-range"),
    pytest.param({"overdue": "true", "tz": "Asia/Kolkata"}, id="overdue"),
]
SORTS = {"Sort", "Incremental Sort"}


@pytest.fixture(scope="module")
def many_tasks(django_db_setup, django_db_blocker) -> Iterator[None]:
    """Module-wide rows (made once, removed at the end) that the planner has statistics for."""
    with django_db_blocker.unblock():
        varied_tasks("alice", TASKS_PER_USER, seed=21)
        for n, other in enumerate(OTHER_USERS):
            varied_tasks(other, TASKS_PER_USER, seed=22 + n)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE tasks_task")
        yield
        Task.objects.all().delete()


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def plans_of_a_page(client, params: dict[str, Any], *, analyze: bool = False) -> list[dict[str, Any]]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/api/tasks", params)
    assert response.status_code == 200, response.content
    plans = []
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            cursor.execute(f"EXPLAIN (FORMAT JSON{', ANALYZE' if analyze else ''}) {query['sql']}")
            (row,) = cursor.fetchall()
            document = row[0] if isinstance(row[0], list) else json.loads(row[0])
            plans.append(document[0]["Plan"])
    return plans


def plan_text(plan: dict[str, Any]) -> str:
    return json.dumps(plan, indent=1)


def assert_reads_only_the_users_rows_through_an_index(plan: dict[str, Any]) -> None:
    kinds = [node["Node Type"] for node in nodes(plan)]
    assert kinds[0] == "Limit", plan_text(plan)
    assert "Seq Scan" not in kinds, plan_text(plan)
    indexes = [node for node in nodes(plan) if "Index Name" in node]
    assert indexes, plan_text(plan)
    assert all(node["Index Name"].startswith("task_user_") for node in indexes), plan_text(plan)
    assert all("user_id" in node["Index Cond"] for node in indexes), plan_text(plan)


def assert_index_scans_without_sort(plans: list[dict[str, Any]]) -> None:
    assert plans
    for plan in plans:
        assert_reads_only_the_users_rows_through_an_index(plan)
        kinds = [node["Node Type"] for node in nodes(plan)]
        assert not SORTS & set(kinds), plan_text(plan)
        assert kinds[1] in ("Index Scan", "Index Only Scan"), plan_text(plan)


def assert_sorts_at_most_the_matching_rows(plans: list[dict[str, Any]], matching: int) -> None:
    """EXPLAIN ANALYZE plans: any sort takes only rows that passed the filters, never the user's whole set."""
    for plan in plans:
        assert_reads_only_the_users_rows_through_an_index(plan)
        for node in nodes(plan):
            if node["Node Type"] in SORTS:
                (source,) = node["Plans"]
                assert source["Actual Rows"] <= matching < TASKS_PER_USER, plan_text(plan)


def next_cursor(client, params: dict[str, Any], pages: int, limit: int = PAGE) -> str:
    """The cursor after `pages` pages of `limit`."""
    cursor: str | None = None
    for _ in range(pages):
        query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        cursor = client.get("/api/tasks", query).json()["next_cursor"]
        assert cursor
    assert cursor is not None
    return cursor


@pytest.mark.usefixtures("many_tasks")
@pytest.mark.parametrize("ordering", ORDERINGS)
@pytest.mark.parametrize("filters", ORDERED_FILTERS)
def test_a_page_reads_an_index_in_order_and_sorts_nothing(alice, ordering: str, filters: dict[str, str]) -> None:
    params = {"ordering": ordering, "limit": PAGE, **filters}

    assert_index_scans_without_sort(plans_of_a_page(alice, params))
    assert_index_scans_without_sort(plans_of_a_page(alice, {**params, "cursor": next_cursor(alice, params, 3)}))


@pytest.mark.usefixtures("many_tasks")
@pytest.mark.parametrize("ordering", ORDERINGS)
@pytest.mark.parametrize("filters", SELECTIVE_FILTERS)
def test_a_filtered_page_reads_the_users_rows_by_index_and_sorts_no_more_than_the_matches(
    alice, ordering: str, filters: dict[str, str]
) -> None:
    params: dict[str, Any] = {"ordering": ordering, **filters}
    matching = alice.get("/api/tasks", params).json()["count"]
    params["limit"] = PAGE

    assert_sorts_at_most_the_matching_rows(plans_of_a_page(alice, params, analyze=True), matching)
    cursor = next_cursor(alice, params, 1)
    assert_sorts_at_most_the_matching_rows(plans_of_a_page(alice, {**params, "cursor": cursor}, analyze=True), matching)


@pytest.mark.usefixtures("many_tasks")
@pytest.mark.parametrize("filters", SELECTIVE_FILTERS[-2:])
def test_a_due_page_with_due_filters_seeks_to_them_in_the_due_indexes(alice, filters: dict[str, str]) -> None:
    params = {"ordering": "due", "limit": PAGE, **filters}

    for plans in (
        plans_of_a_page(alice, params),
        plans_of_a_page(alice, {**params, "cursor": next_cursor(alice, params, 1)}),
    ):
        assert len(plans) == 2  # the undated tasks cannot match: not even looked for
        scans = [node for plan in plans for node in nodes(plan) if "Index Name" in node]
        assert {scan["Index Name"] for scan in scans} == {"task_user_due_at_idx", "task_user_due_date_idx"}
        assert all(("due_at" in scan["Index Cond"]) or ("due_date" in scan["Index Cond"]) for scan in scans)


@pytest.mark.usefixtures("many_tasks")
def test_the_deepest_due_page_reads_the_undated_index(alice) -> None:
    params = {"ordering": "due", "limit": PAGE}
    dated = Task.objects.filter(user_id="alice").exclude(due_at=None, due_date=None).count()
    undated_page = {**params, "cursor": next_cursor(alice, params, dated // 200 + 1, limit=200)}

    plans = plans_of_a_page(alice, undated_page)

    assert_index_scans_without_sort(plans)
    assert [node.get("Index Name") for plan in plans for node in nodes(plan) if "Index Name" in node] == [
        "task_user_undated_idx"
    ]

"""How many SQL statements each request costs, pinned exactly (the same on
SQLite and PostgreSQL, but for COUNTER below). Authentication is stateless:
it never queries.

Tests run inside a transaction, so each `transaction.atomic()` block in a view
shows up here as `SAVEPOINT` ... `RELEASE SAVEPOINT` (plus `ROLLBACK TO
SAVEPOINT` when the block raises). The toggle action's numbers include them.
"""

import pytest
from django.db import connection

from tasks.models import Task

pytestmark = pytest.mark.django_db

MISSING_ID = 424242
# A write of one task takes the user's sync lock in the statement that reads
# the task on PostgreSQL (tasks/changes.py); on SQLite it first moves the
# user's change counter: one statement more.
COUNTER = 0 if connection.vendor == "postgresql" else 1


def call(client, method: str, path: str, body=None):
    if body is None:
        return getattr(client, method)(path)
    return getattr(client, method)(path, body, format="json")


class TestList:
    @pytest.mark.parametrize("tasks", [0, 1, 30])
    @pytest.mark.parametrize("query", ["", "?status=all", "?status=pending", "?status=completed"])
    def test_list_is_one_query_however_many_tasks(self, alice, make_task, django_assert_num_queries, tasks, query):
        for n in range(tasks):
            make_task(title=f"task {n}", completed=n % 2 == 0)
        make_task(user_id="bob", title="not alice's")

        with django_assert_num_queries(1):
            response = alice.get(f"/api/tasks{query}")

        assert response.status_code == 200

    def test_list_with_30_tasks_costs_the_same_as_with_1(self, alice, make_task, django_assert_num_queries):
        make_task()
        with django_assert_num_queries(1):
            assert alice.get("/api/tasks").json()["count"] == 1
        for n in range(29):
            make_task(title=f"more {n}")

        with django_assert_num_queries(1):
            assert alice.get("/api/tasks").json()["count"] == 30

    def test_invalid_status_filter_is_refused_before_any_query(self, alice, make_task, django_assert_num_queries):
        make_task()

        with django_assert_num_queries(0):
            response = alice.get("/api/tasks?status=done")

        assert response.status_code == 400


class TestListPages:
    """A page costs the same however many tasks there are and however deep it
    is: one keyset scan, or for `ordering=due` one per kind of due (dated,
    timed) and one for the undated tasks when the page reaches them."""

    ORDERINGS = ["-created_at", "created_at", "-updated_at", "updated_at", "-priority", "position", "title"]

    def walk_counting_queries(self, client, django_assert_num_queries, params, queries_per_page):
        cursor, pages = None, 0
        while True:
            with django_assert_num_queries(queries_per_page(pages)):
                body = client.get("/api/tasks", {**params, **({"cursor": cursor} if cursor else {})}).json()
            pages += 1
            cursor = body["next_cursor"]
            if cursor is None:
                return pages

    @pytest.mark.parametrize("ordering", ORDERINGS)
    @pytest.mark.parametrize("query", [{}, {"status": "pending", "q": "task", "priority": "low,high"}])
    def test_every_page_is_one_query(self, alice, make_task, django_assert_num_queries, ordering, query):
        for n in range(12):
            make_task(title=f"task {n}", priority=n % 4, completed=n % 3 == 0)

        pages = self.walk_counting_queries(
            alice, django_assert_num_queries, {"ordering": ordering, "limit": 2, **query}, lambda page: 1
        )

        assert pages >= 2

    def test_a_due_page_is_two_queries_three_where_it_reaches_the_undated_and_one_after(
        self, alice, make_task, django_assert_num_queries
    ):
        for n in range(4):
            make_task(title=f"dated {n}", due_date=f"2026-03-0{n + 1}")
            make_task(title=f"timed {n}", due_at=f"2026-03-0{n + 1}T12:00:00Z")
            make_task(title=f"undated {n}")
        # Pages of 3 out of 12: dated and timed fill pages 1 and 2, page 3 reaches the undated, page 4 is all undated.
        counts = [2, 2, 3, 1]

        pages = self.walk_counting_queries(
            alice, django_assert_num_queries, {"ordering": "due", "limit": 3}, lambda page: counts[page]
        )

        assert pages == 4

    @pytest.mark.parametrize("query", [{"due_from": "2026-01-01"}, {"overdue": "true"}], ids=["due-range", "overdue"])
    def test_a_due_page_with_a_due_filter_never_scans_the_undated(
        self, alice, make_task, django_assert_num_queries, query
    ):
        make_task(due_date="2026-03-01")
        make_task()

        with django_assert_num_queries(2):
            assert alice.get("/api/tasks", {"ordering": "due", "limit": 5, **query}).status_code == 200

    def test_bad_parameters_are_refused_before_any_query(self, alice, make_task, django_assert_num_queries):
        make_task()

        with django_assert_num_queries(0):
            assert alice.get("/api/tasks", {"limit": 2, "cursor": "forged"}).status_code == 400


class TestSingleTask:
    def test_get_is_one_query(self, alice, make_task, django_assert_num_queries):
        task = make_task()

        with django_assert_num_queries(1):
            response = alice.get(f"/api/tasks/{task.id}")

        assert response.status_code == 200

    def test_create_locks_the_user_counts_and_inserts(self, alice, make_task, django_assert_num_queries):
        # The user's write locks (SQLite: the change number), the count and
        # first position in one aggregate, the INSERT.
        alice.post("/api/tasks", {"title": "First"}, format="json")
        with django_assert_num_queries(3):
            response = alice.post("/api/tasks", {"title": "New", "description": "d", "completed": True}, format="json")

        assert response.status_code == 201

    def test_a_users_first_create_costs_a_counter_on_sqlite_only(self, alice, db, django_assert_num_queries):
        # As above; on SQLite plus a savepoint and the INSERT of the user's
        # counter (TaskOwner), where PostgreSQL takes a number from its sequence.
        with django_assert_num_queries(3 if connection.vendor == "postgresql" else 6):
            response = alice.post("/api/tasks", {"title": "New"}, format="json")

        assert response.status_code == 201

    def test_create_that_fails_validation_makes_no_query(self, alice, db, django_assert_num_queries):
        with django_assert_num_queries(0):
            response = alice.post("/api/tasks", {"title": ""}, format="json")

        assert response.status_code == 422

    @pytest.mark.parametrize("method", ["put", "patch"])
    @pytest.mark.parametrize(
        "body",
        [{"title": "Renamed"}, {"description": "new"}, {"title": "T", "description": "D", "completed": True}],
        ids=["title", "description", "every-field"],
    )
    def test_update_is_a_locked_select_and_an_update(self, alice, make_task, django_assert_num_queries, method, body):
        task = make_task()

        with django_assert_num_queries(2 + COUNTER):
            response = call(alice, method, f"/api/tasks/{task.id}", body)

        assert response.status_code == 200

    @pytest.mark.parametrize("method", ["put", "patch"])
    def test_update_to_the_current_values_writes_no_task(self, alice, make_task, django_assert_num_queries, method):
        task = make_task(title="Same", description=None)

        with django_assert_num_queries(1 + COUNTER):
            response = call(alice, method, f"/api/tasks/{task.id}", {"title": "Same", "description": None})

        assert response.status_code == 200

    @pytest.mark.parametrize("method", ["put", "patch"])
    def test_empty_update_writes_no_task(self, alice, make_task, django_assert_num_queries, method):
        task = make_task()

        with django_assert_num_queries(1 + COUNTER):
            response = call(alice, method, f"/api/tasks/{task.id}", {})

        assert response.status_code == 200

    @pytest.mark.parametrize("method", ["put", "patch"])
    def test_update_that_fails_validation_writes_no_task(self, alice, make_task, django_assert_num_queries, method):
        task = make_task()

        with django_assert_num_queries(1 + COUNTER):
            response = call(alice, method, f"/api/tasks/{task.id}", {"title": ""})

        assert response.status_code == 422

    @pytest.mark.parametrize("body", [None, {}, {"completed": True}], ids=["flip-no-body", "flip-empty", "set"])
    def test_toggle_that_changes_the_state_is_a_locked_select_and_an_update(
        self, alice, make_task, django_assert_num_queries, body
    ):
        task = make_task(completed=False)

        with django_assert_num_queries(2 + COUNTER):
            response = call(alice, "patch", f"/api/tasks/{task.id}/complete", body)

        assert response.status_code == 200

    def test_toggle_that_sets_the_current_state_writes_nothing(self, alice, make_task, django_assert_num_queries):
        task = make_task(completed=True)

        # The locked SELECT.
        with django_assert_num_queries(1 + COUNTER):
            response = alice.patch(f"/api/tasks/{task.id}/complete", {"completed": True}, format="json")

        assert response.status_code == 200

    def test_toggle_with_an_invalid_body_makes_no_query(self, alice, make_task, django_assert_num_queries):
        task = make_task()

        with django_assert_num_queries(0):
            response = alice.patch(f"/api/tasks/{task.id}/complete", {"completed": "yes"}, format="json")

        assert response.status_code == 422

    def test_delete_is_the_locked_lookup_and_one_update(self, alice, make_task, django_assert_num_queries):
        """DRF's get_object first, so object permissions see the task; then
        it moves to the trash."""
        task = make_task()

        with django_assert_num_queries(2 + COUNTER):
            response = alice.delete(f"/api/tasks/{task.id}")

        assert response.status_code == 204
        assert not Task.objects.filter(pk=task.id).exists()


class TestNotFound:
    @pytest.mark.parametrize(
        ("method", "suffix", "body", "queries"),
        [
            ("get", "", None, 1),
            ("put", "", {"title": "x"}, 1 + COUNTER),
            ("patch", "", {"title": "x"}, 1 + COUNTER),
            ("delete", "", None, 1 + COUNTER),
            ("patch", "/complete", None, 1 + COUNTER),
        ],
        ids=["get", "put", "patch", "delete", "complete"],
    )
    def test_missing_numeric_id_costs_one_lookup(
        self, alice, make_task, django_assert_num_queries, method, suffix, body, queries
    ):
        make_task()

        with django_assert_num_queries(queries):
            response = call(alice, method, f"/api/tasks/{MISSING_ID}{suffix}", body)

        assert response.status_code == 404

    @pytest.mark.parametrize("raw_id", ["abc", "0", "-1", "1.5", "99999999999999999999"])
    @pytest.mark.parametrize(
        ("method", "suffix", "body"),
        [
            ("get", "", None),
            ("put", "", {"title": "x"}),
            ("patch", "", {"title": "x"}),
            ("delete", "", None),
            ("patch", "/complete", None),
        ],
        ids=["get", "put", "patch", "delete", "complete"],
    )
    def test_id_that_cannot_exist_is_refused_without_touching_the_database(
        self, alice, make_task, django_assert_num_queries, method, suffix, body, raw_id
    ):
        """Not even a SAVEPOINT: the id is judged before any transaction opens
        (outside tests, a transaction on SQLite is `BEGIN IMMEDIATE`: the
        database's write lock, taken for a request that cannot succeed)."""
        make_task()

        with django_assert_num_queries(0):
            response = call(alice, method, f"/api/tasks/{raw_id}{suffix}", body)

        assert response.status_code == 404

"""The Django admin: staff browse, search, filter and bulk-edit tasks; nobody
else gets in."""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission, User
from django.contrib.staticfiles import finders
from django.http import StreamingHttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tasks.models import Priority, Task, TaskTombstone
from testing.sync import changes_since, sync_token

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/tasks/task/"
ADD = "/admin/tasks/task/add/"
LOGIN = "/admin/login/"
JAN_15_2020 = datetime(2020, 1, 15, 9, 30, tzinfo=UTC)
JUN_01_2021 = datetime(2021, 6, 1, 18, 0, tzinfo=UTC)

MakeTask = Callable[..., Task]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    """Staff users are created for almost every test here: hash quickly."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def change_url(task: Task) -> str:
    return f"/admin/tasks/task/{task.pk}/change/"


def form_data(task: Task, **changes: Any) -> dict[str, str]:
    """The change form as the browser sends it for `task`, with `changes`."""
    values = {
        "user_id": task.user_id,
        "title": task.title,
        "description": task.description or "",
        "priority": str(task.priority),
        "due_date": str(task.due_date or ""),
        "due_at_0": task.due_at.strftime("%Y-%m-%d") if task.due_at else "",
        "due_at_1": task.due_at.strftime("%H:%M:%S") if task.due_at else "",
        "_save": "Save",
        **({"completed": "on"} if task.completed else {}),
    }
    for field, value in changes.items():
        if field == "completed":
            values.pop("completed", None)
            values.update({"completed": "on"} if value else {})
        else:
            values[field] = value
    return values


def run_action(client: Client, action: str, tasks: list[Task], **extra: str):
    """A bulk action on the changelist, as the browser posts it."""
    return client.post(
        CHANGELIST, {"action": action, "_selected_action": [str(task.pk) for task in tasks], "index": "0", **extra}
    )


def delete_url(task: Task) -> str:
    return f"/admin/tasks/task/{task.pk}/delete/"


def offered_filters(response) -> set[str]:
    """The fields (or, for a custom filter, the parameters) a changelist filters by."""
    return {getattr(spec, "field_path", None) or spec.parameter_name for spec in response.context["cl"].filter_specs}


def listed(response) -> set[int]:
    """The ids of the tasks a changelist page shows."""
    assert response.status_code == 200
    return {task.pk for task in response.context["cl"].result_list}


def test_admin_urls_are_where_the_contract_says() -> None:
    assert reverse("admin:tasks_task_changelist") == CHANGELIST
    assert reverse("admin:tasks_task_add") == ADD


class TestStaffChangelist:
    def test_changelist_loads(self, admin_client: Client, make_task: MakeTask) -> None:
        make_task(title="Water the plants")

        response = admin_client.get(CHANGELIST)

        assert response.status_code == 200
        assert "Water the plants" in response.content.decode()

    @pytest.mark.parametrize(
        "column",
        [
            "id",
            "title",
            "user_id",
            "completed",
            "priority",
            "due_date",
            "due_at",
            "completed_at",
            "position",
            "created_at",
            "updated_at",
            "deleted_at",
        ],
    )
    def test_changelist_shows_column(self, admin_client: Client, make_task: MakeTask, column: str) -> None:
        make_task()

        html = admin_client.get(CHANGELIST).content.decode()

        assert f"column-{column}" in html
        assert f"field-{column}" in html

    def test_changelist_shows_every_task_of_every_user(self, admin_client: Client, make_task: MakeTask) -> None:
        tasks = {make_task("alice").pk, make_task("bob").pk}

        assert listed(admin_client.get(CHANGELIST)) == tasks

    def test_changelist_shows_priority_by_name(self, admin_client: Client, make_task: MakeTask) -> None:
        make_task(priority=Priority.HIGH)

        html = admin_client.get(CHANGELIST).content.decode()

        assert '<td class="field-priority">high</td>' in html

    def test_changelist_lists_newest_first(self, admin_client: Client, make_task: MakeTask) -> None:
        older = make_task(created_at=JAN_15_2020)
        newer = make_task(created_at=JUN_01_2021)

        results = list(admin_client.get(CHANGELIST).context["cl"].result_list)

        assert [task.pk for task in results] == [newer.pk, older.pk]


class TestStaffSearch:
    @pytest.fixture
    def tasks(self, make_task: MakeTask) -> dict[str, Task]:
        return {
            "groceries": make_task("alice", title="Buy groceries", description="Milk, bread"),
            "taxes": make_task("alice", title="File taxes", description="Before April, with the accountant"),
            "bob": make_task("bob-user-7f3a", title="Call mum", description=None),
        }

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            pytest.param("groceries", {"groceries"}, id="by-title"),
            pytest.param("GROCER", {"groceries"}, id="by-title-case-insensitive"),
            pytest.param("accountant", {"taxes"}, id="by-description"),
            pytest.param("bob-user-7f3a", {"bob"}, id="by-user-id"),
            pytest.param("alice", {"groceries", "taxes"}, id="by-user-id-several-tasks"),
            pytest.param("nothing-matches-this", set(), id="no-match"),
        ],
    )
    def test_search_finds(self, admin_client: Client, tasks: dict[str, Task], query: str, expected: set[str]) -> None:
        response = admin_client.get(CHANGELIST, {"q": query})

        assert listed(response) == {tasks[name].pk for name in expected}


class TestStaffFilters:
    @pytest.fixture
    def tasks(self, make_task: MakeTask) -> dict[str, Task]:
        return {
            "done_2020": make_task(title="Done in 2020", completed=True, created_at=JAN_15_2020),
            "pending_2020": make_task(title="Pending from 2020", completed=False, created_at=JAN_15_2020),
            "pending_2021": make_task(title="Pending from 2021", completed=False, created_at=JUN_01_2021),
        }

    @pytest.mark.parametrize(
        ("value", "expected"),
        [("1", {"done_2020"}), ("0", {"pending_2020", "pending_2021"})],
    )
    def test_completed_filter(
        self, admin_client: Client, tasks: dict[str, Task], value: str, expected: set[str]
    ) -> None:
        response = admin_client.get(CHANGELIST, {"completed__exact": value})

        assert listed(response) == {tasks[name].pk for name in expected}

    @pytest.mark.parametrize("field", ["created_at", "updated_at"])
    def test_date_range_filter(self, admin_client: Client, tasks: dict[str, Task], field: str) -> None:
        since = datetime(2020, 1, 1, tzinfo=UTC)
        until = datetime(2020, 2, 1, tzinfo=UTC)

        response = admin_client.get(CHANGELIST, {f"{field}__gte": str(since), f"{field}__lt": str(until)})

        assert listed(response) == {tasks["done_2020"].pk, tasks["pending_2020"].pk}

    @pytest.mark.parametrize("field", ["created_at", "updated_at"])
    def test_date_filter_is_offered(self, admin_client: Client, tasks: dict[str, Task], field: str) -> None:
        response = admin_client.get(CHANGELIST)

        assert field in offered_filters(response)

    @pytest.mark.parametrize("field", ["completed", "priority", "due", "in_trash"])
    def test_planning_filter_is_offered(self, admin_client: Client, tasks: dict[str, Task], field: str) -> None:
        response = admin_client.get(CHANGELIST)

        assert field in offered_filters(response)

    def test_priority_filter(self, admin_client: Client, make_task: MakeTask) -> None:
        high = make_task(priority=Priority.HIGH)
        make_task(priority=Priority.LOW)

        response = admin_client.get(CHANGELIST, {"priority__exact": str(Priority.HIGH.value)})

        assert listed(response) == {high.pk}

    def test_filters_combine(self, admin_client: Client, tasks: dict[str, Task]) -> None:
        response = admin_client.get(CHANGELIST, {"completed__exact": "0", "created_at__year": "2020"})

        assert listed(response) == {tasks["pending_2020"].pk}

    @pytest.mark.parametrize(
        ("drilldown", "expected"),
        [
            pytest.param({"created_at__year": "2020"}, {"done_2020", "pending_2020"}, id="year-2020"),
            pytest.param({"created_at__year": "2021"}, {"pending_2021"}, id="year-2021"),
            pytest.param({"created_at__year": "2021", "created_at__month": "6"}, {"pending_2021"}, id="month"),
            pytest.param(
                {"created_at__year": "2020", "created_at__month": "1", "created_at__day": "15"},
                {"done_2020", "pending_2020"},
                id="day",
            ),
            pytest.param({"created_at__year": "2019"}, set(), id="empty-year"),
        ],
    )
    def test_date_hierarchy(
        self, admin_client: Client, tasks: dict[str, Task], drilldown: dict[str, str], expected: set[str]
    ) -> None:
        response = admin_client.get(CHANGELIST, drilldown)

        assert listed(response) == {tasks[name].pk for name in expected}

    def test_date_hierarchy_offers_the_years_with_tasks(self, admin_client: Client, tasks: dict[str, Task]) -> None:
        html = admin_client.get(CHANGELIST).content.decode()

        assert "?created_at__year=2020" in html
        assert "?created_at__year=2021" in html


class TestStaffDueFilter:
    @pytest.fixture
    def tasks(self, make_task: MakeTask) -> dict[str, Task]:
        now, today = timezone.now(), timezone.localdate()
        return {
            "no_due": make_task(),
            "late_instant": make_task(due_at=now - timedelta(hours=1)),
            "late_date": make_task(due_date=today - timedelta(days=1)),
            "late_but_done": make_task(due_date=today - timedelta(days=1), completed=True),
            "due_today": make_task(due_date=today),
            "due_later": make_task(due_at=now + timedelta(hours=1)),
        }

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            pytest.param(
                "set", {"late_instant", "late_date", "late_but_done", "due_today", "due_later"}, id="has-a-due-date"
            ),
            pytest.param("overdue", {"late_instant", "late_date"}, id="overdue-pending-only"),
            pytest.param("none", {"no_due"}, id="no-due-date"),
        ],
    )
    def test_due_filter(self, admin_client: Client, tasks: dict[str, Task], value: str, expected: set[str]) -> None:
        response = admin_client.get(CHANGELIST, {"due": value})

        assert listed(response) == {tasks[name].pk for name in expected}

    def test_due_filter_offers_its_choices(self, admin_client: Client, tasks: dict[str, Task]) -> None:
        html = admin_client.get(CHANGELIST).content.decode()

        for choice in ["Has a due date", "Overdue", "No due date"]:
            assert choice in html


class TestStaffChangePage:
    def test_change_page_loads(self, admin_client: Client, make_task: MakeTask) -> None:
        task = make_task(title="Read a book")

        response = admin_client.get(change_url(task))

        assert response.status_code == 200
        assert "Read a book" in response.content.decode()

    @pytest.mark.parametrize("field", ["completed_at", "position", "created_at", "updated_at", "deleted_at"])
    def test_server_managed_field_is_shown_read_only(
        self, admin_client: Client, make_task: MakeTask, field: str
    ) -> None:
        task = make_task()

        response = admin_client.get(change_url(task))

        html = response.content.decode()
        assert field not in response.context["adminform"].form.fields
        assert f'name="{field}"' not in html
        assert f"field-{field}" in html
        assert field in response.context["adminform"].readonly_fields

    @pytest.mark.parametrize(
        "field", ["user_id", "title", "description", "completed", "priority", "due_date", "due_at"]
    )
    def test_task_field_is_editable(self, admin_client: Client, make_task: MakeTask, field: str) -> None:
        task = make_task()

        response = admin_client.get(change_url(task))

        assert field in response.context["adminform"].form.fields

    def test_saving_a_change_moves_updated_at_but_not_created_at(
        self, admin_client: Client, make_task: MakeTask
    ) -> None:
        task = make_task(title="Old title", created_at=JAN_15_2020)

        response = admin_client.post(
            change_url(task),
            {
                "user_id": task.user_id,
                "title": "New title",
                "description": "",
                "completed": "on",
                "priority": "0",
                "created_at": "2000-01-01 00:00:00",
                "updated_at": "2000-01-01 00:00:00",
                "_save": "Save",
            },
        )

        assert response.status_code == 302
        task.refresh_from_db()
        assert task.title == "New title"
        assert task.completed is True
        assert task.created_at == JAN_15_2020
        assert task.updated_at > JAN_15_2020

    def test_saving_without_a_change_keeps_updated_at(self, admin_client: Client, make_task: MakeTask) -> None:
        task = make_task(
            description=None, completed=True, priority=Priority.LOW, due_date=date(2030, 1, 2), created_at=JAN_15_2020
        )
        before = Task.objects.values().get(pk=task.pk)

        response = admin_client.post(change_url(task), form_data(task))

        assert response.status_code == 302
        assert Task.objects.values().get(pk=task.pk) == before

    def test_saving_a_change_of_the_planning_fields(self, admin_client: Client, make_task: MakeTask) -> None:
        task = make_task(created_at=JAN_15_2020)

        response = admin_client.post(
            change_url(task), form_data(task, priority="3", due_at_0="2030-01-02", due_at_1="09:30:00")
        )

        assert response.status_code == 302
        task.refresh_from_db()
        assert (task.priority, task.due_at, task.due_date) == (
            Priority.HIGH,
            datetime(2030, 1, 2, 9, 30, tzinfo=UTC),
            None,
        )
        assert task.updated_at > JAN_15_2020

    def test_completing_sets_completed_at_to_updated_at(self, admin_client: Client, make_task: MakeTask) -> None:
        task = make_task(created_at=JAN_15_2020)

        admin_client.post(change_url(task), form_data(task, completed=True))

        task.refresh_from_db()
        assert task.completed_at == task.updated_at > JAN_15_2020

    def test_reopening_clears_completed_at(self, admin_client: Client, make_task: MakeTask) -> None:
        task = make_task(completed=True, created_at=JAN_15_2020)
        assert task.completed_at is not None

        admin_client.post(change_url(task), form_data(task, completed=False))

        task.refresh_from_db()
        assert task.completed is False
        assert task.completed_at is None

    def test_both_kinds_of_due_are_refused(self, admin_client: Client, make_task: MakeTask) -> None:
        task = make_task(created_at=JAN_15_2020)

        response = admin_client.post(
            change_url(task), form_data(task, due_date="2030-01-02", due_at_0="2030-01-02", due_at_1="09:30:00")
        )

        assert response.status_code == 200
        assert response.context["adminform"].form.errors
        task.refresh_from_db()
        assert (task.due_date, task.due_at, task.updated_at) == (None, None, JAN_15_2020)

    def test_giving_a_task_to_another_user_puts_it_first_in_their_order(
        self, admin_client: Client, make_task: MakeTask
    ) -> None:
        bobs = [make_task("bob"), make_task("bob")]
        task = make_task("alice")
        assert task.position == bobs[0].position  # each user's first task gets the first key

        response = admin_client.post(change_url(task), form_data(task, user_id="bob"))

        assert response.status_code == 302
        order = list(Task.objects.filter(user_id="bob").order_by("position").values_list("pk", flat=True))
        assert order == [task.pk, bobs[1].pk, bobs[0].pk]


class TestStaffAddForm:
    def test_add_form_creates_a_task(self, admin_client: Client) -> None:
        response = admin_client.post(ADD, {"user_id": "alice", "title": "From the admin", "priority": "0"})

        assert response.status_code == 302
        task = Task.objects.get()
        assert (task.user_id, task.title, task.completed, task.priority) == ("alice", "From the admin", False, 0)
        assert task.updated_at == task.created_at
        assert task.completed_at is None

    def test_an_added_task_goes_first_in_its_users_order(self, admin_client: Client, make_task: MakeTask) -> None:
        existing = make_task("alice")

        admin_client.post(ADD, {"user_id": "alice", "title": "From the admin", "priority": "0"})

        added = Task.objects.get(title="From the admin")
        assert added.position < existing.position

    def test_an_added_completed_task_gets_completed_at(self, admin_client: Client) -> None:
        admin_client.post(ADD, {"user_id": "alice", "title": "Done", "priority": "2", "completed": "on"})

        task = Task.objects.get()
        assert (task.priority, task.completed_at) == (Priority.MEDIUM, task.updated_at)

    @pytest.mark.parametrize("title", ["", "   "], ids=["empty", "whitespace"])
    def test_add_form_rejects_a_blank_title(self, admin_client: Client, title: str) -> None:
        response = admin_client.post(ADD, {"user_id": "alice", "title": title, "description": ""})

        assert response.status_code == 200
        assert "title" in response.context["adminform"].form.errors
        assert not Task.objects.exists()

    def test_add_form_rejects_a_title_longer_than_200_characters(self, admin_client: Client) -> None:
        response = admin_client.post(ADD, {"user_id": "alice", "title": "x" * 201, "description": ""})

        assert response.status_code == 200
        assert "title" in response.context["adminform"].form.errors
        assert not Task.objects.exists()

    def test_add_form_rejects_a_blank_user_id(self, admin_client: Client) -> None:
        response = admin_client.post(ADD, {"user_id": "", "title": "Orphan", "description": ""})

        assert response.status_code == 200
        assert "user_id" in response.context["adminform"].form.errors
        assert not Task.objects.exists()


class TestStaffBulkActions:
    @pytest.fixture
    def tasks(self, make_task: MakeTask) -> list[Task]:
        return [make_task(title=f"Task {n}", completed=False, created_at=JAN_15_2020) for n in range(3)]

    @pytest.mark.parametrize(("action", "completed"), [("mark_completed", True), ("mark_pending", False)])
    def test_bulk_action_updates_only_the_selected_tasks(
        self, make_task: MakeTask, admin_client: Client, action: str, completed: bool
    ) -> None:
        tasks = [make_task(title=f"Task {n}", completed=not completed, created_at=JAN_15_2020) for n in range(3)]
        selected, unselected = tasks[:2], tasks[2]

        response = run_action(admin_client, action, selected)

        assert response.status_code == 302
        for task in selected:
            task.refresh_from_db()
            assert task.completed is completed
            assert task.updated_at > JAN_15_2020
            assert task.created_at == JAN_15_2020
        unselected.refresh_from_db()
        assert unselected.completed is not completed
        assert unselected.updated_at == JAN_15_2020

    def test_mark_completed_sets_completed_at_to_the_new_updated_at(
        self, admin_client: Client, tasks: list[Task]
    ) -> None:
        run_action(admin_client, "mark_completed", tasks)

        for task in Task.objects.all():
            assert task.completed_at == task.updated_at > JAN_15_2020

    def test_mark_pending_clears_completed_at(self, admin_client: Client, make_task: MakeTask) -> None:
        tasks = [make_task(completed=True, created_at=JAN_15_2020) for _ in range(2)]

        run_action(admin_client, "mark_pending", tasks)

        assert set(Task.objects.values_list("completed", "completed_at")) == {(False, None)}

    @pytest.mark.parametrize(("action", "completed"), [("mark_completed", True), ("mark_pending", False)])
    def test_action_leaves_tasks_already_in_that_state_alone(
        self, make_task: MakeTask, admin_client: Client, action: str, completed: bool
    ) -> None:
        task = make_task(completed=completed, created_at=JAN_15_2020)
        before = Task.objects.values().get(pk=task.pk)

        response = run_action(admin_client, action, [task])

        assert response.status_code == 302
        assert Task.objects.values().get(pk=task.pk) == before

    @pytest.mark.parametrize("action", ["mark_completed", "mark_pending"])
    def test_action_is_offered_on_the_changelist(self, admin_client: Client, tasks: list[Task], action: str) -> None:
        html = admin_client.get(CHANGELIST).content.decode()

        assert f'value="{action}"' in html

    def test_action_reports_what_it_did(self, admin_client: Client, tasks: list[Task]) -> None:
        response = admin_client.post(
            CHANGELIST,
            {"action": "mark_completed", "_selected_action": [str(task.pk) for task in tasks[:2]], "index": "0"},
            follow=True,
        )

        messages = [str(message) for message in response.context["messages"]]
        assert any("2" in message and "completed" in message for message in messages)


class TestStaffTrash:
    """The admin shows the trash too, filters by it, and restores from it
    as the API does."""

    @pytest.fixture
    def tasks(self, make_task: MakeTask) -> dict[str, Task]:
        return {
            "live": make_task(title="Live"),
            "trashed": make_task(title="Trashed", deleted_at=JUN_01_2021),
            "bobs_trashed": make_task("bob", title="Bob's trashed", deleted_at=JUN_01_2021),
        }

    def test_changelist_shows_trashed_tasks_too(self, admin_client: Client, tasks: dict[str, Task]) -> None:
        assert listed(admin_client.get(CHANGELIST)) == {task.pk for task in tasks.values()}

    @pytest.mark.parametrize(
        ("value", "expected"), [("yes", {"trashed", "bobs_trashed"}), ("no", {"live"})], ids=["in-trash", "live"]
    )
    def test_in_trash_filter(
        self, admin_client: Client, tasks: dict[str, Task], value: str, expected: set[str]
    ) -> None:
        response = admin_client.get(CHANGELIST, {"in_trash": value})

        assert listed(response) == {tasks[name].pk for name in expected}

    def test_in_trash_filter_offers_its_choices(self, admin_client: Client, tasks: dict[str, Task]) -> None:
        html = admin_client.get(CHANGELIST).content.decode()

        assert "By in trash" in html
        assert "?in_trash=yes" in html
        assert "?in_trash=no" in html

    def test_changelist_shows_when_a_task_was_trashed(self, admin_client: Client, tasks: dict[str, Task]) -> None:
        response = admin_client.get(CHANGELIST, {"in_trash": "yes"})

        assert '<td class="field-deleted_at nowrap">June 1, 2021, 6 p.m.</td>' in response.content.decode()

    def test_change_page_of_a_trashed_task_loads(self, admin_client: Client, tasks: dict[str, Task]) -> None:
        response = admin_client.get(change_url(tasks["trashed"]))

        assert response.status_code == 200
        assert "Trashed" in response.content.decode()

    def test_restore_action_is_offered(self, admin_client: Client, tasks: dict[str, Task]) -> None:
        html = admin_client.get(CHANGELIST).content.decode()

        assert 'value="restore_from_trash"' in html

    def test_restore_brings_tasks_back_to_their_place(
        self, admin_client: Client, alice, tasks: dict[str, Task]
    ) -> None:
        trashed = tasks["trashed"]
        before = Task.all_objects.values().get(pk=trashed.pk)

        response = run_action(admin_client, "restore_from_trash", [trashed, tasks["bobs_trashed"]], follow="")

        assert response.status_code == 302
        after = Task.objects.values().get(pk=trashed.pk)
        assert after["deleted_at"] is None
        assert after["updated_at"] > before["updated_at"]
        assert {**after, "deleted_at": None, "updated_at": None, "change_seq": None} == {
            **before,
            "deleted_at": None,
            "updated_at": None,
            "change_seq": None,
        }
        assert Task.objects.filter(pk=tasks["bobs_trashed"].pk).exists()
        assert trashed.pk in [item["id"] for item in alice.get("/api/tasks").json()["items"]]

    def test_restore_leaves_live_tasks_alone(self, admin_client: Client, tasks: dict[str, Task]) -> None:
        live = tasks["live"]
        before = Task.objects.values().get(pk=live.pk)

        run_action(admin_client, "restore_from_trash", [live])

        assert Task.objects.values().get(pk=live.pk) == before

    def test_restore_reports_what_it_did(self, admin_client: Client, tasks: dict[str, Task]) -> None:
        response = admin_client.post(
            CHANGELIST,
            {"action": "restore_from_trash", "_selected_action": [str(tasks["trashed"].pk)], "index": "0"},
            follow=True,
        )

        assert "1 task(s) restored from the trash." in [str(message) for message in response.context["messages"]]

    def test_restore_respects_the_task_limit(
        self, admin_client: Client, make_task: MakeTask, settings, tasks: dict[str, Task]
    ) -> None:
        settings.TASKS_MAX_PER_USER = 1  # alice holds one live task already; bob none
        before = Task.all_objects.values().get(pk=tasks["trashed"].pk)

        response = admin_client.post(
            CHANGELIST,
            {
                "action": "restore_from_trash",
                "_selected_action": [str(tasks["trashed"].pk), str(tasks["bobs_trashed"].pk)],
                "index": "0",
            },
            follow=True,
        )

        assert Task.all_objects.values().get(pk=tasks["trashed"].pk) == before
        assert Task.objects.filter(pk=tasks["bobs_trashed"].pk).exists()
        messages = [str(message) for message in response.context["messages"]]
        assert "1 task(s) restored from the trash." in messages
        assert any("1 task(s) not restored" in message and "(1)" in message for message in messages)

    def test_staff_with_view_permission_cannot_restore(
        self, client: Client, django_user_model, tasks: dict[str, Task]
    ) -> None:
        staff = django_user_model.objects.create_user("erin", password="a-long-enough-password-3", is_staff=True)
        staff.user_permissions.add(Permission.objects.get(codename="view_task"))
        client.force_login(staff)

        run_action(client, "restore_from_trash", [tasks["trashed"]])

        assert not Task.objects.filter(pk=tasks["trashed"].pk).exists()


class TestStaffDelete:
    """Deleting in the admin purges: no trash, a tombstone for the owner's sync."""

    def test_deleting_a_task_purges_it_and_leaves_a_tombstone(self, admin_client: Client, make_task: MakeTask) -> None:
        task = make_task()

        response = admin_client.post(delete_url(task), {"post": "yes"})

        assert response.status_code == 302
        assert not Task.all_objects.filter(pk=task.pk).exists()
        assert list(TaskTombstone.objects.values_list("user_id", "task_id")) == [("alice", task.pk)]

    def test_deleting_a_trashed_task_purges_it(self, admin_client: Client, make_task: MakeTask) -> None:
        task = make_task(deleted_at=JUN_01_2021)

        response = admin_client.post(delete_url(task), {"post": "yes"})

        assert response.status_code == 302
        assert not Task.all_objects.filter(pk=task.pk).exists()
        assert TaskTombstone.objects.filter(task_id=task.pk).exists()

    def test_delete_selected_purges_every_owners_tasks(self, admin_client: Client, make_task: MakeTask) -> None:
        tasks = [make_task("alice"), make_task("bob", deleted_at=JUN_01_2021), make_task("bob")]
        kept = make_task("bob")

        response = run_action(admin_client, "delete_selected", tasks, post="yes")

        assert response.status_code == 302
        assert list(Task.all_objects.values_list("pk", flat=True)) == [kept.pk]
        assert sorted(TaskTombstone.objects.values_list("user_id", "task_id")) == sorted(
            (task.user_id, task.pk) for task in tasks
        )


class TestAdminChangesAreSynced:
    """A change made in the admin is a change like any other: a sync from a
    token taken before it reports it (the write took the owner's write
    locks first, and stamped a change number)."""

    def test_an_edit_is_in_the_owners_next_sync(self, admin_client: Client, alice, make_task: MakeTask) -> None:
        task = make_task()
        token = sync_token(alice)

        admin_client.post(change_url(task), form_data(task, title="Edited in the admin"))

        assert changes_since(alice, token) == ([task.pk], [])

    def test_a_save_that_changes_nothing_is_not_in_the_next_sync(
        self, admin_client: Client, alice, make_task: MakeTask
    ) -> None:
        task = make_task()
        token = sync_token(alice)
        before = Task.objects.values("change_seq", "updated_at").get(pk=task.pk)

        admin_client.post(change_url(task), form_data(task))

        assert changes_since(alice, token) == ([], [])
        assert Task.objects.values("change_seq", "updated_at").get(pk=task.pk) == before

    def test_an_added_task_is_in_the_users_next_sync(self, admin_client: Client, alice, make_task: MakeTask) -> None:
        make_task()
        token = sync_token(alice)

        admin_client.post(ADD, {"user_id": "alice", "title": "From the admin", "priority": "0"})

        assert changes_since(alice, token) == ([Task.objects.get(title="From the admin").pk], [])

    @pytest.mark.parametrize(("action", "completed"), [("mark_completed", True), ("mark_pending", False)])
    def test_a_bulk_action_is_in_each_owners_next_sync(
        self, admin_client: Client, alice, bob, make_task: MakeTask, action: str, completed: bool
    ) -> None:
        alices = [make_task("alice", completed=not completed), make_task("alice", completed=not completed)]
        bobs = make_task("bob", completed=not completed)
        untouched = make_task("alice", completed=completed)
        tokens = {"alice": sync_token(alice), "bob": sync_token(bob)}

        run_action(admin_client, action, [*alices, bobs, untouched])

        assert changes_since(alice, tokens["alice"]) == (sorted(task.pk for task in alices), [])
        assert changes_since(bob, tokens["bob"]) == ([bobs.pk], [])

    def test_a_bulk_action_that_changes_nothing_is_not_in_the_next_sync(
        self, admin_client: Client, alice, make_task: MakeTask
    ) -> None:
        task = make_task(completed=True)
        token = sync_token(alice)

        run_action(admin_client, "mark_completed", [task])

        assert changes_since(alice, token) == ([], [])

    def test_a_delete_is_in_the_owners_next_sync(self, admin_client: Client, alice, make_task: MakeTask) -> None:
        task = make_task()
        token = sync_token(alice)

        admin_client.post(delete_url(task), {"post": "yes"})

        assert changes_since(alice, token) == ([], [task.pk])

    def test_delete_selected_is_in_each_owners_next_sync(
        self, admin_client: Client, alice, bob, make_task: MakeTask
    ) -> None:
        alices, bobs = make_task("alice"), make_task("bob", deleted_at=JUN_01_2021)
        tokens = {"alice": sync_token(alice), "bob": sync_token(bob)}

        run_action(admin_client, "delete_selected", [alices, bobs], post="yes")

        assert changes_since(alice, tokens["alice"]) == ([], [alices.pk])
        assert changes_since(bob, tokens["bob"]) == ([], [bobs.pk])

    def test_a_restore_is_in_the_owners_next_sync(self, admin_client: Client, alice, make_task: MakeTask) -> None:
        task = make_task(deleted_at=JUN_01_2021)
        token = sync_token(alice)

        run_action(admin_client, "restore_from_trash", [task])

        assert changes_since(alice, token) == ([task.pk], [])

    def test_a_task_given_to_another_user_leaves_the_old_owners_sync_and_joins_the_new_ones(
        self, admin_client: Client, alice, bob, make_task: MakeTask
    ) -> None:
        task = make_task("alice")
        make_task("bob")
        tokens = {"alice": sync_token(alice), "bob": sync_token(bob)}

        response = admin_client.post(change_url(task), form_data(task, user_id="bob"))

        assert response.status_code == 302
        assert changes_since(alice, tokens["alice"]) == ([], [task.pk])
        assert changes_since(bob, tokens["bob"]) == ([task.pk], [])
        assert list(TaskTombstone.objects.values_list("user_id", "task_id")) == [("alice", task.pk)]

    def test_a_task_given_back_is_live_again_in_the_first_owners_sync(
        self, admin_client: Client, alice, make_task: MakeTask
    ) -> None:
        task = make_task("alice")
        token = sync_token(alice)

        admin_client.post(change_url(task), form_data(task, user_id="bob"))
        task.refresh_from_db()
        admin_client.post(change_url(task), form_data(task, user_id="alice"))

        assert changes_since(alice, token) == ([task.pk], [])

    def test_editing_without_giving_the_task_away_leaves_no_tombstone(
        self, admin_client: Client, make_task: MakeTask
    ) -> None:
        task = make_task()

        admin_client.post(change_url(task), form_data(task, title="Edited"))

        assert not TaskTombstone.objects.exists()


class TestAnonymous:
    @pytest.mark.parametrize("path", ["/admin/", CHANGELIST, ADD])
    def test_anonymous_is_sent_to_the_login_page(self, client: Client, path: str) -> None:
        response = client.get(path)

        assert response.status_code == 302
        assert response["Location"].startswith(f"{LOGIN}?next=")

    def test_login_page_loads(self, client: Client) -> None:
        response = client.get(LOGIN)

        assert response.status_code == 200
        assert "<form" in response.content.decode()

    def test_anonymous_bulk_action_changes_nothing(self, client: Client, make_task: MakeTask) -> None:
        task = make_task(completed=False)

        client.post(CHANGELIST, {"action": "mark_completed", "_selected_action": [str(task.pk)], "index": "0"})

        task.refresh_from_db()
        assert task.completed is False

    def test_admin_without_slash_redirects_to_admin(self, client: Client) -> None:
        response = client.get("/admin")

        assert response.status_code in (301, 302)
        assert response["Location"] == "/admin/"


class TestNonStaffUser:
    @pytest.fixture
    def carol(self, django_user_model: type[User]) -> User:
        return django_user_model.objects.create_user("carol", password="a-long-enough-password-1")

    @pytest.mark.parametrize("path", ["/admin/", CHANGELIST])
    def test_logged_in_non_staff_user_is_sent_to_the_login_page(self, client: Client, carol: User, path: str) -> None:
        client.force_login(carol)

        response = client.get(path)

        assert response.status_code == 302
        assert response["Location"].startswith(LOGIN)

    def test_non_staff_user_cannot_log_in(self, client: Client, carol: object) -> None:
        response = client.post(f"{LOGIN}?next=/admin/", {"username": "carol", "password": "a-long-enough-password-1"})

        assert response.status_code == 200
        assert "_auth_user_id" not in client.session
        assert client.get(CHANGELIST).status_code == 302


class TestStaffWithLimitedPermissions:
    def test_staff_without_task_permissions_cannot_see_tasks(
        self, client: Client, django_user_model, make_task: MakeTask
    ) -> None:
        staff = django_user_model.objects.create_user("dave", password="a-long-enough-password-2", is_staff=True)
        make_task(title="Secret plans")
        client.force_login(staff)

        response = client.get(CHANGELIST)

        assert response.status_code == 403
        assert "Secret plans" not in response.content.decode()

    def test_staff_with_view_permission_can_browse_but_not_bulk_edit(
        self, client: Client, django_user_model, make_task: MakeTask
    ) -> None:
        staff = django_user_model.objects.create_user("erin", password="a-long-enough-password-3", is_staff=True)
        staff.user_permissions.add(Permission.objects.get(codename="view_task"))
        task = make_task(title="Visible", completed=False)
        client.force_login(staff)

        assert listed(client.get(CHANGELIST)) == {task.pk}
        client.post(CHANGELIST, {"action": "mark_completed", "_selected_action": [str(task.pk)], "index": "0"})
        task.refresh_from_db()
        assert task.completed is False


class TestAdminStaticFiles:
    def test_admin_css_is_served(self, client: Client) -> None:
        response = client.get(f"{settings.STATIC_URL}admin/css/base.css")

        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/css")
        # Reading a streamed file to the end is what closes it.
        assert isinstance(response, StreamingHttpResponse)
        assert b"".join(response.streaming_content)

    def test_admin_css_is_found_by_the_staticfiles_finders(self) -> None:
        assert finders.find("admin/css/base.css")

    def test_changelist_links_the_admin_css_under_static_url(self, admin_client: Client) -> None:
        html = admin_client.get(CHANGELIST).content.decode()

        assert f'href="{settings.STATIC_URL}admin/css/base.css"' in html

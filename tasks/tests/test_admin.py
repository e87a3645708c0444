"""The Django admin: staff browse, search, filter and bulk-edit tasks; nobody
else gets in."""

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission, User
from django.contrib.staticfiles import finders
from django.http import StreamingHttpResponse
from django.test import Client
from django.urls import reverse

from tasks.models import Task

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

    @pytest.mark.parametrize("column", ["id", "title", "user_id", "completed", "created_at", "updated_at"])
    def test_changelist_shows_column(self, admin_client: Client, make_task: MakeTask, column: str) -> None:
        make_task()

        html = admin_client.get(CHANGELIST).content.decode()

        assert f"column-{column}" in html
        assert f"field-{column}" in html

    def test_changelist_shows_every_task_of_every_user(self, admin_client: Client, make_task: MakeTask) -> None:
        tasks = {make_task("alice").pk, make_task("bob").pk}

        assert listed(admin_client.get(CHANGELIST)) == tasks

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

        filtered_fields = {spec.field_path for spec in response.context["cl"].filter_specs}
        assert field in filtered_fields

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


class TestStaffChangePage:
    def test_change_page_loads(self, admin_client: Client, make_task: MakeTask) -> None:
        task = make_task(title="Read a book")

        response = admin_client.get(change_url(task))

        assert response.status_code == 200
        assert "Read a book" in response.content.decode()

    @pytest.mark.parametrize("field", ["created_at", "updated_at"])
    def test_timestamp_is_shown_read_only(self, admin_client: Client, make_task: MakeTask, field: str) -> None:
        task = make_task()

        response = admin_client.get(change_url(task))

        html = response.content.decode()
        assert field not in response.context["adminform"].form.fields
        assert f'name="{field}"' not in html
        assert f"field-{field}" in html
        assert field in response.context["adminform"].readonly_fields

    @pytest.mark.parametrize("field", ["user_id", "title", "description", "completed"])
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


class TestStaffAddForm:
    def test_add_form_creates_a_task(self, admin_client: Client) -> None:
        response = admin_client.post(ADD, {"user_id": "alice", "title": "From the admin", "description": ""})

        assert response.status_code == 302
        task = Task.objects.get()
        assert (task.user_id, task.title, task.completed) == ("alice", "From the admin", False)
        assert task.updated_at == task.created_at

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

    @staticmethod
    def run_action(client: Client, action: str, tasks: list[Task]):
        return client.post(
            CHANGELIST,
            {"action": action, "_selected_action": [str(task.pk) for task in tasks], "index": "0"},
        )

    @pytest.mark.parametrize(("action", "completed"), [("mark_completed", True), ("mark_pending", False)])
    def test_bulk_action_updates_only_the_selected_tasks(
        self, make_task: MakeTask, admin_client: Client, action: str, completed: bool
    ) -> None:
        tasks = [make_task(title=f"Task {n}", completed=not completed, created_at=JAN_15_2020) for n in range(3)]
        selected, unselected = tasks[:2], tasks[2]

        response = self.run_action(admin_client, action, selected)

        assert response.status_code == 302
        for task in selected:
            task.refresh_from_db()
            assert task.completed is completed
            assert task.updated_at > JAN_15_2020
            assert task.created_at == JAN_15_2020
        unselected.refresh_from_db()
        assert unselected.completed is not completed
        assert unselected.updated_at == JAN_15_2020

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

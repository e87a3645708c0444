"""Each task endpoint's success path, as the contract's endpoint table states it."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from tasks.models import Task
from testing.assertions import JSON_CONTENT_TYPE
from testing.contract import TASK_FIELD_ORDER

pytestmark = pytest.mark.django_db

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
TASK_FIELDS = set(TASK_FIELD_ORDER)
REDIRECTS = {301, 302, 303, 307, 308}
LONG_AGO_WITH_MICROSECONDS = datetime(2020, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)
INVALID_STATUS_DETAIL = "Invalid status filter: must be 'pending', 'completed', or 'all'"


def parse_timestamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def call(client, method: str, path: str, body=None):
    """Send `body` as JSON, or send no body at all when it is None."""
    if body is None:
        return getattr(client, method)(path)
    return getattr(client, method)(path, body, format="json")


def age(task: Task) -> Task:
    """Push both timestamps into the past, straight in the database, so any
    write through the API visibly moves `updated_at` without sleeping."""
    Task.objects.filter(pk=task.pk).update(created_at=LONG_AGO_WITH_MICROSECONDS, updated_at=LONG_AGO_WITH_MICROSECONDS)
    task.refresh_from_db()
    return task


class TestList:
    def test_list_is_an_object_with_items_and_count(self, alice, make_task):
        task = make_task(title="Buy milk")

        response = alice.get("/api/tasks")

        assert response.status_code == 200
        assert response.json() == {
            "items": [
                {
                    "id": task.id,
                    "user_id": "alice",
                    "title": "Buy milk",
                    "description": None,
                    "completed": False,
                    "completed_at": None,
                    "due_date": None,
                    "due_at": None,
                    "priority": "none",
                    "position": task.position,
                    "created_at": response.json()["items"][0]["created_at"],
                    "updated_at": response.json()["items"][0]["updated_at"],
                    "etag": response.json()["items"][0]["etag"],
                }
            ],
            "count": 1,
            "next_cursor": None,
        }

    def test_empty_list_has_no_items_and_count_zero(self, alice, db):
        response = alice.get(reverse("task-list"))

        assert response.status_code == 200
        assert response.json() == {"items": [], "count": 0, "next_cursor": None}

    def test_list_is_newest_created_first(self, alice, make_task):
        base = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
        middle = make_task(title="middle", created_at=base)
        oldest = make_task(title="oldest", created_at=base - timedelta(days=1))
        newest = make_task(title="newest", created_at=base + timedelta(days=1))

        response = alice.get("/api/tasks")

        assert [item["id"] for item in response.json()["items"]] == [newest.id, middle.id, oldest.id]

    def test_list_breaks_created_at_ties_by_id_descending(self, alice, make_task):
        same_moment = datetime(2026, 1, 5, 12, 0, 0, 123456, tzinfo=UTC)
        first, second, third = (make_task(title=f"tie {n}", created_at=same_moment) for n in range(3))

        response = alice.get("/api/tasks")

        assert [item["id"] for item in response.json()["items"]] == [third.id, second.id, first.id]

    def test_count_is_the_number_of_items(self, alice, make_task):
        for n in range(5):
            make_task(title=f"task {n}", completed=n % 2 == 0)

        for query in ("", "?status=pending", "?status=completed", "?status=all"):
            body = alice.get(f"/api/tasks{query}").json()
            assert body["count"] == len(body["items"])


class TestStatusFilter:
    @pytest.fixture
    def tasks(self, make_task):
        return {"pending": make_task(title="pending"), "completed": make_task(title="done", completed=True)}

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ("", {"pending", "completed"}),
            ("?status=all", {"pending", "completed"}),
            ("?status=pending", {"pending"}),
            ("?status=completed", {"completed"}),
        ],
    )
    def test_status_filter_selects_tasks(self, alice, tasks, query, expected):
        response = alice.get(f"/api/tasks{query}")

        assert response.status_code == 200
        assert {item["id"] for item in response.json()["items"]} == {tasks[name].id for name in expected}
        assert response.json()["count"] == len(expected)

    @pytest.mark.parametrize(
        "query",
        [
            "?status=",
            "?status",
            "?status=Pending",
            "?status=COMPLETED",
            "?status=ALL",
            "?status=done",
            "?status=true",
            "?status=%20pending",
            "?status=pending%00",
        ],
    )
    def test_any_other_status_value_is_a_400(self, alice, tasks, query):
        response = alice.get(f"/api/tasks{query}")

        assert response.status_code == 400
        assert response["Content-Type"] == JSON_CONTENT_TYPE
        assert response.json() == {"detail": INVALID_STATUS_DETAIL}


class TestCreate:
    def test_create_answers_201_with_the_full_task_and_its_location(self, alice, db):
        response = alice.post(
            "/api/tasks", {"title": "Buy groceries", "description": "Milk, bread, eggs"}, format="json"
        )

        assert response.status_code == 201
        body = response.json()
        assert set(body) == TASK_FIELDS
        task = Task.objects.get()
        assert body["id"] == task.id
        assert body["user_id"] == "alice"
        assert body["title"] == "Buy groceries"
        assert body["description"] == "Milk, bread, eggs"
        assert body["completed"] is False
        assert response["Location"] == f"/api/tasks/{task.id}"
        assert response["Location"] == reverse("task-detail", kwargs={"pk": task.id})

    def test_created_task_is_stored(self, alice, db):
        response = alice.post("/api/tasks", {"title": "Stored", "completed": True}, format="json")

        task = Task.objects.get(pk=response.json()["id"])
        assert (task.user_id, task.title, task.description, task.completed) == ("alice", "Stored", None, True)

    def test_location_points_at_the_created_task(self, alice, db):
        response = alice.post("/api/tasks", {"title": "Follow me"}, format="json")

        follow = alice.get(response["Location"])

        assert follow.status_code == 200
        assert follow.json() == response.json()

    def test_title_is_trimmed(self, alice, db):
        response = alice.post("/api/tasks", {"title": "  \t Buy milk \n "}, format="json")

        assert response.status_code == 201
        assert response.json()["title"] == "Buy milk"
        assert Task.objects.get().title == "Buy milk"

    def test_omitted_description_is_null(self, alice, db):
        response = alice.post("/api/tasks", {"title": "No description"}, format="json")

        assert response.json()["description"] is None
        assert Task.objects.get().description is None

    def test_explicit_null_description_is_null(self, alice, db):
        response = alice.post("/api/tasks", {"title": "Null description", "description": None}, format="json")

        assert response.status_code == 201
        assert response.json()["description"] is None

    def test_empty_description_is_stored_as_sent(self, alice, db):
        response = alice.post("/api/tasks", {"title": "Empty description", "description": ""}, format="json")

        assert response.status_code == 201
        assert response.json()["description"] == ""
        assert Task.objects.get().description == ""

    def test_completed_defaults_to_false(self, alice, db):
        response = alice.post("/api/tasks", {"title": "Not done"}, format="json")

        assert response.json()["completed"] is False

    def test_completed_can_be_given(self, alice, db):
        response = alice.post("/api/tasks", {"title": "Done already", "completed": True}, format="json")

        assert response.json()["completed"] is True

    def test_server_set_fields_sent_by_the_client_are_ignored(self, alice, make_task):
        other = make_task(title="existing")
        sent = {
            "title": "Mine",
            "id": other.id,
            "user_id": "mallory",
            "created_at": "2000-01-01T00:00:00.000000Z",
            "updated_at": "2000-01-01T00:00:00.000000Z",
        }

        response = alice.post("/api/tasks", sent, format="json")

        assert response.status_code == 201
        body = response.json()
        assert body["id"] != other.id
        assert body["user_id"] == "alice"
        assert not body["created_at"].startswith("2000")
        assert not body["updated_at"].startswith("2000")
        assert Task.objects.get(pk=other.id).title == "existing"
        assert not Task.objects.filter(user_id="mallory").exists()

    def test_new_task_has_equal_created_and_updated_timestamps(self, alice, db):
        body = alice.post("/api/tasks", {"title": "Fresh"}, format="json").json()

        assert body["created_at"] == body["updated_at"]


class TestRetrieve:
    def test_get_answers_the_task(self, alice, make_task):
        task = make_task(title="Read me", description="details", completed=True)

        response = alice.get(f"/api/tasks/{task.id}")

        assert response.status_code == 200
        body = response.json()
        assert set(body) == TASK_FIELDS
        assert body["id"] == task.id
        assert body["user_id"] == "alice"
        assert (body["title"], body["description"], body["completed"]) == ("Read me", "details", True)

    def test_get_through_reverse(self, alice, make_task):
        task = make_task()

        response = alice.get(reverse("task-detail", kwargs={"pk": task.id}))

        assert response.status_code == 200
        assert response.json()["id"] == task.id


@pytest.mark.parametrize("method", ["put", "patch"])
class TestUpdateIsPartial:
    @pytest.fixture
    def task(self, make_task):
        return age(make_task(title="Original", description="Original description", completed=False))

    def send(self, client, method, task, body):
        return getattr(client, method)(f"/api/tasks/{task.id}", body, format="json")

    def test_with_only_completed_leaves_title_and_description_unchanged(self, alice, task, method):
        response = self.send(alice, method, task, {"completed": True})

        assert response.status_code == 200
        body = response.json()
        assert (body["title"], body["description"], body["completed"]) == ("Original", "Original description", True)
        task.refresh_from_db()
        assert (task.title, task.description, task.completed) == ("Original", "Original description", True)

    def test_with_only_title_leaves_the_rest_unchanged(self, alice, task, method):
        response = self.send(alice, method, task, {"title": "  Renamed  "})

        assert response.status_code == 200
        assert response.json()["title"] == "Renamed"
        task.refresh_from_db()
        assert (task.title, task.description, task.completed) == ("Renamed", "Original description", False)

    def test_with_only_description_leaves_the_rest_unchanged(self, alice, task, method):
        response = self.send(alice, method, task, {"description": "  New description  "})

        assert response.status_code == 200
        task.refresh_from_db()
        assert (task.title, task.description, task.completed) == ("Original", "  New description  ", False)

    def test_with_every_field_changes_every_field(self, alice, task, method):
        response = self.send(alice, method, task, {"title": "T", "description": "D", "completed": True})

        assert response.status_code == 200
        body = response.json()
        assert (body["title"], body["description"], body["completed"]) == ("T", "D", True)

    def test_explicit_null_description_clears_it(self, alice, task, method):
        response = self.send(alice, method, task, {"description": None})

        assert response.status_code == 200
        assert response.json()["description"] is None
        task.refresh_from_db()
        assert task.description is None
        assert task.title == "Original"

    def test_empty_body_changes_nothing(self, alice, task, method):
        response = self.send(alice, method, task, {})

        assert response.status_code == 200
        body = response.json()
        assert (body["title"], body["description"], body["completed"]) == ("Original", "Original description", False)
        assert parse_timestamp(body["updated_at"]) == LONG_AGO_WITH_MICROSECONDS
        after = Task.objects.get(pk=task.pk)
        assert (after.title, after.description, after.completed, after.updated_at) == (
            "Original",
            "Original description",
            False,
            LONG_AGO_WITH_MICROSECONDS,
        )

    def test_server_set_fields_sent_by_the_client_are_ignored(self, alice, task, method):
        sent = {
            "id": task.id + 1000,
            "user_id": "mallory",
            "created_at": "2000-01-01T00:00:00.000000Z",
            "updated_at": "2000-01-01T00:00:00.000000Z",
            "title": "Renamed",
        }

        response = self.send(alice, method, task, sent)

        assert response.status_code == 200
        body = response.json()
        assert body["id"] == task.id
        assert body["user_id"] == "alice"
        assert parse_timestamp(body["created_at"]) == LONG_AGO_WITH_MICROSECONDS
        assert not body["updated_at"].startswith("2000")
        after = Task.objects.get(pk=task.pk)
        assert (after.user_id, after.created_at) == ("alice", LONG_AGO_WITH_MICROSECONDS)

    def test_update_answers_what_is_stored(self, alice, task, method):
        response = self.send(alice, method, task, {"title": "Stored"})

        assert response.json() == alice.get(f"/api/tasks/{task.id}").json()


class TestDelete:
    def test_delete_answers_204_with_an_empty_body(self, alice, make_task):
        task = make_task()

        response = alice.delete(f"/api/tasks/{task.id}")

        assert response.status_code == 204
        assert response.content == b""
        assert not Task.objects.filter(pk=task.id).exists()

    def test_deleted_task_is_then_not_found(self, alice, make_task):
        task = make_task()
        alice.delete(f"/api/tasks/{task.id}")

        assert alice.get(f"/api/tasks/{task.id}").status_code == 404
        assert alice.delete(f"/api/tasks/{task.id}").status_code == 404
        assert alice.get("/api/tasks").json() == {"items": [], "count": 0, "next_cursor": None}

    def test_delete_leaves_other_tasks_alone(self, alice, make_task):
        doomed, kept = make_task(title="doomed"), make_task(title="kept")

        alice.delete(reverse("task-detail", kwargs={"pk": doomed.id}))

        assert list(Task.objects.values_list("id", flat=True)) == [kept.id]


# (method, path template, body, expected status); "{id}" is an existing task.
EVERY_ROUTE = [
    ("get", "/api/tasks", None, 200),
    ("post", "/api/tasks", {"title": "Slash or not"}, 201),
    ("get", "/api/tasks/{id}", None, 200),
    ("put", "/api/tasks/{id}", {"title": "Put"}, 200),
    ("patch", "/api/tasks/{id}", {"title": "Patch"}, 200),
    ("patch", "/api/tasks/{id}/complete", None, 200),
    ("delete", "/api/tasks/{id}", None, 204),
]


@pytest.mark.parametrize("slash", ["", "/"], ids=["no-slash", "slash"])
@pytest.mark.parametrize(("method", "template", "body", "expected"), EVERY_ROUTE)
def test_every_path_answers_with_and_without_trailing_slash_without_redirect(
    alice, make_task, method, template, body, expected, slash
):
    task = make_task()
    path = template.format(id=task.id) + slash

    response = call(alice, method, path, body)

    assert response.status_code not in REDIRECTS
    assert response.status_code == expected
    if method == "post":
        assert response["Location"] == f"/api/tasks/{response.json()['id']}"
    else:
        assert "Location" not in response


@pytest.mark.parametrize(("method", "template", "body", "expected"), [r for r in EVERY_ROUTE if r[3] != 204])
def test_every_json_response_is_utf8_json(alice, make_task, method, template, body, expected):
    task = make_task()

    response = call(alice, method, template.format(id=task.id), body)

    assert response.status_code == expected
    assert response["Content-Type"] == JSON_CONTENT_TYPE


class TestTimestamps:
    def test_timestamps_are_utc_iso8601_with_microseconds(self, alice, make_task):
        make_task(created_at=datetime(2026, 1, 5, 12, 0, 0, 0, tzinfo=UTC))  # zero microseconds still printed
        created = alice.post("/api/tasks", {"title": "Now"}, format="json").json()
        listed = alice.get("/api/tasks").json()["items"]

        for item in [created, *listed]:
            assert TIMESTAMP.match(item["created_at"]), item["created_at"]
            assert TIMESTAMP.match(item["updated_at"]), item["updated_at"]
        assert listed[-1]["created_at"] == "2026-01-05T12:00:00.000000Z"

    def test_timestamps_are_rendered_in_utc_with_their_microseconds(self, alice, make_task):
        moment = datetime(2026, 1, 5, 12, 0, 0, 123456, tzinfo=UTC)
        task = make_task(created_at=moment)

        body = alice.get(f"/api/tasks/{task.id}").json()

        assert body["created_at"] == "2026-01-05T12:00:00.123456Z"
        assert body["updated_at"] == "2026-01-05T12:00:00.123456Z"

    @pytest.mark.parametrize(
        ("method", "suffix", "body"),
        [
            ("put", "", {"title": "Changed"}),
            ("patch", "", {"description": "Changed"}),
            ("put", "", {"completed": True}),
            ("patch", "", {"description": None}),
            ("patch", "/complete", None),
            ("patch", "/complete", {"completed": True}),
        ],
    )
    def test_every_change_moves_updated_at_and_never_created_at(self, alice, make_task, method, suffix, body):
        task = age(make_task(description="Original"))

        response = call(alice, method, f"/api/tasks/{task.id}{suffix}", body)

        assert response.status_code == 200
        answered = response.json()
        assert parse_timestamp(answered["created_at"]) == LONG_AGO_WITH_MICROSECONDS
        assert parse_timestamp(answered["updated_at"]) > LONG_AGO_WITH_MICROSECONDS
        task.refresh_from_db()
        assert task.created_at == LONG_AGO_WITH_MICROSECONDS
        assert task.updated_at == parse_timestamp(answered["updated_at"])

    def test_updated_at_moves_again_on_a_second_change(self, alice, make_task):
        task = make_task()
        first = alice.patch(f"/api/tasks/{task.id}", {"title": "One"}, format="json").json()
        Task.objects.filter(pk=task.pk).update(updated_at=LONG_AGO_WITH_MICROSECONDS)

        second = alice.patch(f"/api/tasks/{task.id}", {"title": "Two"}, format="json").json()

        assert parse_timestamp(second["updated_at"]) > LONG_AGO_WITH_MICROSECONDS
        assert second["created_at"] == first["created_at"]

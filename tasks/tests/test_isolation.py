"""Another user's task: bob can neither read, change nor delete alice's task,
and cannot tell it from a task that does not exist."""

import pytest
from django.urls import reverse

from tasks.models import Task
from testing import LONG_AGO

pytestmark = pytest.mark.django_db


# Every endpoint that names a task: (method, path suffix after the id, body).
TASK_ENDPOINTS = [
    ("get", "", None),
    ("put", "", {"title": "Hijacked", "description": None, "completed": True}),
    ("patch", "", {"title": "Hijacked", "description": None, "completed": True}),
    ("patch", "/complete", None),
    ("patch", "/complete", {"completed": True}),
    ("delete", "", None),
]
TASK_ENDPOINT_IDS = ["get", "put", "patch", "complete-flip", "complete-set", "delete"]


def call(client, method: str, path: str, body=None):
    if body is None:
        return getattr(client, method)(path)
    return getattr(client, method)(path, body, format="json")


def snapshot(task: Task) -> tuple:
    stored = Task.objects.get(pk=task.pk)
    return (stored.user_id, stored.title, stored.description, stored.completed, stored.created_at, stored.updated_at)


@pytest.fixture
def alices_task(make_task) -> Task:
    task = make_task(user_id="alice", title="Alice's secret", description="Only for Alice", completed=False)
    Task.objects.filter(pk=task.pk).update(updated_at=LONG_AGO)
    task.refresh_from_db()
    return task


@pytest.fixture
def missing_id(alices_task: Task) -> int:
    """An id no task has, next to alice's."""
    return alices_task.id + 1000


class TestOtherUsersTask:
    @pytest.mark.parametrize(("method", "suffix", "body"), TASK_ENDPOINTS, ids=TASK_ENDPOINT_IDS)
    def test_other_users_task_is_not_found_and_unchanged(self, bob, alices_task, method, suffix, body):
        before = snapshot(alices_task)

        response = call(bob, method, f"/api/tasks/{alices_task.id}{suffix}", body)

        assert response.status_code == 404
        assert response.json() == {"detail": "Task not found"}
        assert snapshot(alices_task) == before

    @pytest.mark.parametrize(("method", "suffix", "body"), TASK_ENDPOINTS, ids=TASK_ENDPOINT_IDS)
    def test_other_users_task_answers_exactly_like_a_missing_one(
        self, bob, alices_task, missing_id, method, suffix, body
    ):
        theirs = call(bob, method, f"/api/tasks/{alices_task.id}{suffix}", body)
        missing = call(bob, method, f"/api/tasks/{missing_id}{suffix}", body)

        assert theirs.status_code == missing.status_code == 404
        assert theirs.content == missing.content
        assert theirs["Content-Type"] == missing["Content-Type"]
        assert set(theirs.headers) == set(missing.headers)

    @pytest.mark.parametrize(("method", "suffix", "body"), TASK_ENDPOINTS, ids=TASK_ENDPOINT_IDS)
    def test_owner_still_reaches_the_task_after_the_attempt(self, alice, bob, alices_task, method, suffix, body):
        call(bob, method, f"/api/tasks/{alices_task.id}{suffix}", body)

        response = alice.get(f"/api/tasks/{alices_task.id}")

        assert response.status_code == 200
        assert response.json()["title"] == "Alice's secret"

    @pytest.mark.parametrize("slash", ["", "/"])
    def test_delete_through_reverse_is_not_found_for_another_user(self, bob, alices_task, slash):
        response = bob.delete(reverse("task-detail", kwargs={"pk": alices_task.id}) + slash)

        assert response.status_code == 404
        assert Task.objects.filter(pk=alices_task.pk).exists()

    def test_invalid_body_on_another_users_task_reveals_nothing_and_writes_nothing(self, bob, alices_task, missing_id):
        before = snapshot(alices_task)
        body = {"title": ""}

        theirs = bob.patch(f"/api/tasks/{alices_task.id}", body, format="json")
        missing = bob.patch(f"/api/tasks/{missing_id}", body, format="json")

        assert theirs.status_code == missing.status_code
        assert theirs.content == missing.content
        assert snapshot(alices_task) == before


class TestList:
    def test_list_holds_only_the_callers_tasks(self, alice, bob, make_task):
        alices = {make_task(user_id="alice", title=f"alice {n}").id for n in range(3)}
        bobs = {make_task(user_id="bob", title=f"bob {n}").id for n in range(2)}

        bob_items = bob.get("/api/tasks").json()["items"]
        alice_items = alice.get(reverse("task-list")).json()["items"]

        assert {item["id"] for item in bob_items} == bobs
        assert {item["id"] for item in alice_items} == alices
        assert {item["user_id"] for item in bob_items} == {"bob"}

    @pytest.mark.parametrize("status", ["all", "pending", "completed"])
    def test_filtered_list_never_holds_another_users_tasks(self, bob, make_task, status):
        make_task(user_id="alice", completed=False)
        make_task(user_id="alice", completed=True)

        response = bob.get(f"/api/tasks?status={status}")

        assert response.json() == {"items": [], "count": 0, "next_cursor": None}

    def test_count_counts_only_the_callers_tasks(self, bob, make_task):
        for _ in range(4):
            make_task(user_id="alice")
        make_task(user_id="bob")

        assert bob.get("/api/tasks").json()["count"] == 1

    def test_user_ids_that_only_differ_in_case_or_whitespace_are_different_users(self, client_for, make_task):
        make_task(user_id="alice")

        for lookalike in ("Alice", "ALICE", "alice ", " alice"):
            assert client_for(lookalike).get("/api/tasks").json() == {"items": [], "count": 0, "next_cursor": None}


class TestOwnership:
    def test_created_task_belongs_to_the_token_user_even_if_the_body_says_otherwise(self, bob, db):
        response = bob.post("/api/tasks", {"title": "Mine", "user_id": "alice"}, format="json")

        assert response.status_code == 201
        assert response.json()["user_id"] == "bob"
        assert Task.objects.get().user_id == "bob"

    @pytest.mark.parametrize("method", ["put", "patch"])
    def test_update_cannot_give_a_task_to_another_user(self, alice, bob, alices_task, method):
        response = getattr(alice, method)(f"/api/tasks/{alices_task.id}", {"user_id": "bob"}, format="json")

        assert response.status_code == 200
        assert response.json()["user_id"] == "alice"
        assert Task.objects.get(pk=alices_task.pk).user_id == "alice"
        assert bob.get(f"/api/tasks/{alices_task.id}").status_code == 404

    def test_task_created_by_bob_is_invisible_to_alice(self, alice, bob, db):
        task_id = bob.post("/api/tasks", {"title": "Bob's"}, format="json").json()["id"]

        assert alice.get(f"/api/tasks/{task_id}").status_code == 404
        assert alice.get("/api/tasks").json()["count"] == 0

"""`PATCH /api/tasks/{id}/complete`: flip with no body, set with a body."""

import pytest
from django.urls import reverse

from tasks.models import Task
from testing import LONG_AGO
from testing.concurrent_requests import send_concurrently
from testing.contract import TASK_FIELD_ORDER

CONCURRENT_REQUESTS = 20


def complete_url(task: Task) -> str:
    return f"/api/tasks/{task.id}/complete"


def stored_completed(task: Task) -> bool:
    return Task.objects.get(pk=task.pk).completed


# Each way of saying "no instruction": every one of them flips.
FLIP_REQUESTS = {
    "no-body-no-content-type": lambda client, url: client.patch(url),
    "empty-body-json-content-type": lambda client, url: client.patch(url, content_type="application/json"),
    "empty-body-json-utf8-content-type": lambda client, url: client.patch(
        url, content_type="application/json; charset=utf-8"
    ),
    "empty-object": lambda client, url: client.patch(url, {}, format="json"),
    "empty-object-raw": lambda client, url: client.patch(url, "{}", content_type="application/json"),
}


@pytest.mark.django_db
class TestFlip:
    @pytest.mark.parametrize("initial", [False, True])
    @pytest.mark.parametrize("send", FLIP_REQUESTS.values(), ids=FLIP_REQUESTS.keys())
    def test_no_instruction_flips_completed_and_answers_the_new_state(self, alice, make_task, send, initial):
        task = make_task(completed=initial)

        response = send(alice, complete_url(task))

        assert response.status_code == 200
        assert response["Content-Type"] == "application/json; charset=utf-8"
        assert response.json()["completed"] is (not initial)
        assert response.json()["id"] == task.id
        assert stored_completed(task) is (not initial)

    def test_two_flips_come_back_to_the_start(self, alice, make_task):
        task = make_task(completed=False)

        first = alice.patch(complete_url(task))
        second = alice.patch(complete_url(task))

        assert (first.json()["completed"], second.json()["completed"]) == (True, False)
        assert stored_completed(task) is False

    def test_flip_answers_the_full_task(self, alice, make_task):
        task = make_task(title="Flip me", description="why")

        body = alice.patch(reverse("task-complete", kwargs={"pk": task.id})).json()

        assert body["title"] == "Flip me"
        assert body["description"] == "why"
        assert body["user_id"] == "alice"
        assert list(body) == TASK_FIELD_ORDER

    def test_flip_moves_updated_at_and_not_created_at(self, alice, make_task):
        task = make_task()
        Task.objects.filter(pk=task.pk).update(created_at=LONG_AGO, updated_at=LONG_AGO)

        body = alice.patch(complete_url(task)).json()

        task.refresh_from_db()
        assert task.created_at == LONG_AGO
        assert task.updated_at > LONG_AGO
        assert body["created_at"] == "2020-01-01T00:00:00.000000Z"
        assert body["updated_at"] != "2020-01-01T00:00:00.000000Z"

    def test_flip_leaves_other_fields_alone(self, alice, make_task):
        task = make_task(title="Keep", description="Keep too")

        alice.patch(complete_url(task))

        task.refresh_from_db()
        assert (task.title, task.description) == ("Keep", "Keep too")


@pytest.mark.django_db
class TestSet:
    @pytest.mark.parametrize("initial", [False, True])
    @pytest.mark.parametrize("wanted", [False, True])
    def test_explicit_completed_sets_it(self, alice, make_task, initial, wanted):
        task = make_task(completed=initial)

        response = alice.patch(complete_url(task), {"completed": wanted}, format="json")

        assert response.status_code == 200
        assert response.json()["completed"] is wanted
        assert stored_completed(task) is wanted

    @pytest.mark.parametrize("wanted", [False, True])
    def test_setting_is_idempotent(self, alice, make_task, wanted):
        task = make_task(completed=not wanted)

        answers = [alice.patch(complete_url(task), {"completed": wanted}, format="json") for _ in range(3)]

        assert [response.status_code for response in answers] == [200, 200, 200]
        assert [response.json()["completed"] for response in answers] == [wanted, wanted, wanted]
        assert stored_completed(task) is wanted

    def test_setting_moves_updated_at(self, alice, make_task):
        task = make_task(completed=False)
        Task.objects.filter(pk=task.pk).update(updated_at=LONG_AGO)

        alice.patch(complete_url(task), {"completed": True}, format="json")

        task.refresh_from_db()
        assert task.updated_at > LONG_AGO

    @pytest.mark.parametrize("value", ["yes", "true", 1, 0, None, [], {}], ids=repr)
    def test_wrong_typed_completed_is_a_422_and_changes_nothing(self, alice, make_task, value):
        task = make_task(completed=False)
        Task.objects.filter(pk=task.pk).update(updated_at=LONG_AGO)

        response = alice.patch(complete_url(task), {"completed": value}, format="json")

        assert response.status_code == 422
        body = response.json()
        assert "completed" in body["errors"]
        assert "completed" in body["detail"]
        task.refresh_from_db()
        assert (task.completed, task.updated_at) == (False, LONG_AGO)

    @pytest.mark.parametrize("body", ["[]", "true", '"x"', "42", "null"])
    def test_body_that_is_not_an_object_is_a_422_and_changes_nothing(self, alice, make_task, body):
        task = make_task(completed=False)

        response = alice.patch(complete_url(task), body, content_type="application/json")

        assert response.status_code == 422
        assert isinstance(response.json()["detail"], str)
        assert stored_completed(task) is False


@pytest.mark.django_db
class TestOtherUsersTask:
    @pytest.mark.parametrize(
        "send",
        [
            lambda client, url: client.patch(url),
            lambda client, url: client.patch(url, {"completed": True}, format="json"),
            lambda client, url: client.patch(url, {"completed": False}, format="json"),
        ],
        ids=["flip", "set-true", "set-false"],
    )
    def test_another_users_task_is_not_found_and_unchanged(self, bob, make_task, send):
        task = make_task(user_id="alice", completed=False)
        Task.objects.filter(pk=task.pk).update(updated_at=LONG_AGO)

        response = send(bob, complete_url(task))

        assert response.status_code == 404
        assert response.json() == {"detail": "Task not found"}
        task.refresh_from_db()
        assert (task.completed, task.updated_at) == (False, LONG_AGO)

    def test_missing_task_is_not_found(self, alice, db):
        response = alice.patch("/api/tasks/424242/complete")

        assert response.status_code == 404
        assert response.json() == {"detail": "Task not found"}


def run_concurrently(token: str, url: str, body: dict | None, count: int) -> list:
    """Send `count` PATCH requests at once. Answers (status, completed) per request."""
    responses = send_concurrently(
        token, [lambda client: client.patch(url) if body is None else client.patch(url, body, format="json")] * count
    )
    return [(response.status_code, response.json().get("completed")) for response in responses]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("postgresql_only")
class TestConcurrency:
    @pytest.mark.parametrize("initial", [False, True])
    def test_concurrent_flips_are_never_lost(self, make_token, make_task, initial):
        task = make_task(completed=initial)

        results = run_concurrently(make_token("alice"), complete_url(task), None, CONCURRENT_REQUESTS)

        assert [status for status, _ in results] == [200] * CONCURRENT_REQUESTS
        # An even number of flips lands where it started...
        assert stored_completed(task) is initial
        # ...and each flip answered the state it produced: half each way.
        states = [completed for _, completed in results]
        assert states.count(True) == CONCURRENT_REQUESTS // 2
        assert states.count(False) == CONCURRENT_REQUESTS // 2

    def test_concurrent_explicit_sets_all_answer_the_set_state(self, make_token, make_task):
        task = make_task(completed=False)

        results = run_concurrently(make_token("alice"), complete_url(task), {"completed": True}, CONCURRENT_REQUESTS)

        assert results == [(200, True)] * CONCURRENT_REQUESTS
        assert stored_completed(task) is True

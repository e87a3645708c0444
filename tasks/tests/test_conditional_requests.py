"""ETags, If-None-Match and If-Match (docs/api.md, "Conditional requests")."""

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from tasks.models import Task
from testing.concurrent_requests import Request, send_concurrently

PRECONDITION_FAILED = "Precondition failed: the task has changed"

# Every route that answers one task, and how to call it on `task` (a second
# task of the same user, `other`, is there to move after).
SINGLE_TASK_ANSWERS: dict[str, Callable[[APIClient, Task, Task], Any]] = {
    "get": lambda client, task, other: client.get(f"/api/tasks/{task.pk}"),
    "create": lambda client, task, other: client.post("/api/tasks", {"title": "New"}, format="json"),
    "put": lambda client, task, other: client.put(f"/api/tasks/{task.pk}", {"title": "Put"}, format="json"),
    "patch": lambda client, task, other: client.patch(f"/api/tasks/{task.pk}", {"title": "Patched"}, format="json"),
    "complete": lambda client, task, other: client.patch(f"/api/tasks/{task.pk}/complete"),
    "move": lambda client, task, other: client.post(f"/api/tasks/{task.pk}/move", {"after": other.pk}, format="json"),
    "restore": lambda client, task, other: (
        client.delete(f"/api/tasks/{task.pk}"),
        client.post(f"/api/trash/{task.pk}/restore"),
    )[1],
}
# Every write that honours If-Match, sent with `headers`.
WRITES: dict[str, Callable[..., Any]] = {
    "put": lambda client, task, **headers: client.put(
        f"/api/tasks/{task.pk}", {"title": "x"}, format="json", **headers
    ),
    "patch": lambda client, task, **headers: client.patch(
        f"/api/tasks/{task.pk}", {"title": "x"}, format="json", **headers
    ),
    "delete": lambda client, task, **headers: client.delete(f"/api/tasks/{task.pk}", **headers),
    "complete": lambda client, task, **headers: client.patch(f"/api/tasks/{task.pk}/complete", **headers),
    "move": lambda client, task, **headers: client.post(
        f"/api/tasks/{task.pk}/move", {"after": below(task)}, format="json", **headers
    ),
}


def etag_of(client: APIClient, task: Task) -> str:
    return client.get(f"/api/tasks/{task.pk}")["ETag"]


def below(task: Task) -> int | None:
    """The id of another task of the user (the fixture's is below `task`)."""
    return Task.objects.exclude(pk=task.pk).filter(user_id=task.user_id).values_list("pk", flat=True).first()


def snapshot(task: Task) -> tuple[Any, ...]:
    stored = Task.all_objects.get(pk=task.pk)
    return stored.title, stored.completed, stored.position, stored.updated_at, stored.deleted_at


@pytest.fixture
def task(make_task: Callable[..., Task]) -> Task:
    make_task(title="Below")  # so a move to the top is a real move
    return make_task(title="Mine", description="d")


class TestETag:
    @pytest.mark.parametrize("route", SINGLE_TASK_ANSWERS)
    def test_every_single_task_answer_carries_a_strong_etag_equal_to_its_etag_field(
        self, alice, make_task, route
    ) -> None:
        task, other = make_task(), make_task()

        response = SINGLE_TASK_ANSWERS[route](alice, task, other)

        assert response.status_code in (200, 201)
        assert response["ETag"] == response.json()["etag"]
        assert response["ETag"].startswith('"') and response["ETag"].endswith('"')

    def test_the_etag_of_an_unchanged_task_stays_the_same(self, alice, task) -> None:
        assert etag_of(alice, task) == etag_of(alice, task)

    def test_a_task_in_the_list_carries_the_etag_that_get_answers(self, alice, task) -> None:
        listed = {item["id"]: item["etag"] for item in alice.get("/api/tasks").json()["items"]}

        assert listed[task.pk] == etag_of(alice, task)

    @pytest.mark.parametrize(
        "change",
        [
            {"title": "Other"},
            {"description": None},
            {"completed": True},
            {"priority": "high"},
            {"due_date": "2026-01-09"},
            {"due_at": "2026-01-09T10:00:00Z"},
        ],
    )
    def test_any_change_gives_a_new_etag(self, alice, task, change) -> None:
        before = etag_of(alice, task)

        response = alice.patch(f"/api/tasks/{task.pk}", change, format="json")

        assert response["ETag"] != before
        assert etag_of(alice, task) == response["ETag"]

    def test_a_move_gives_a_new_etag(self, alice, task) -> None:
        before = etag_of(alice, task)

        moved = alice.post(f"/api/tasks/{task.pk}/move", {"after": below(task)}, format="json")

        assert moved.status_code == 200
        assert moved["ETag"] != before

    @pytest.mark.parametrize("body", [{"title": "Mine"}, {}, {"description": "d", "completed": False}])
    def test_a_write_that_changes_nothing_keeps_the_etag(self, alice, task, body) -> None:
        before = etag_of(alice, task)

        response = alice.patch(f"/api/tasks/{task.pk}", body, format="json")

        assert response.status_code == 200
        assert response["ETag"] == before

    def test_the_etag_is_the_same_after_a_restart(self, alice, task, value_in_fresh_process) -> None:
        """Nothing per process goes into it: a fresh interpreter computes the same."""
        stored = Task.objects.get(pk=task.pk)
        expression = (
            f"__import__('tasks.etags', fromlist=['x']).task_etag({stored.pk}, "
            f"{alice.get(f'/api/tasks/{task.pk}').json()['updated_at']!r})"
        )

        assert value_in_fresh_process(expression) == etag_of(alice, task)


class TestCacheControl:
    @pytest.mark.parametrize(
        "send",
        [
            lambda client, task: client.get("/api/tasks"),
            lambda client, task: client.get(f"/api/tasks/{task.pk}"),
            lambda client, task: client.get("/api/tasks/999999"),
            lambda client, task: client.post("/api/tasks", {"title": "x"}, format="json"),
            lambda client, task: client.get("/api/sync"),
            lambda client, task: client.get("/api/trash"),
            lambda client, task: APIClient().get("/api/tasks"),
        ],
        ids=["list", "get", "404", "create", "sync", "trash", "401"],
    )
    def test_api_answers_must_be_revalidated_and_are_private(self, alice, task, send) -> None:
        assert send(alice, task)["Cache-Control"] == "private, no-cache"

    def test_a_304_keeps_the_cache_control(self, alice, task) -> None:
        response = alice.get(f"/api/tasks/{task.pk}", HTTP_IF_NONE_MATCH=etag_of(alice, task))

        assert response["Cache-Control"] == "private, no-cache"


class TestIfNoneMatch:
    @pytest.mark.parametrize("form", ["same", "star", "weak", "in-a-list"])
    def test_a_current_etag_is_a_304_with_no_body_and_the_same_etag(self, alice, task, form) -> None:
        etag = etag_of(alice, task)
        header = {"same": etag, "star": "*", "weak": f"W/{etag}", "in-a-list": f'"other", {etag}'}[form]

        response = alice.get(f"/api/tasks/{task.pk}", HTTP_IF_NONE_MATCH=header)

        assert response.status_code == 304
        assert response.content == b""
        assert response["ETag"] == etag

    def test_an_old_etag_gets_the_task(self, alice, task) -> None:
        old = etag_of(alice, task)
        alice.patch(f"/api/tasks/{task.pk}", {"title": "New"}, format="json")

        response = alice.get(f"/api/tasks/{task.pk}", HTTP_IF_NONE_MATCH=old)

        assert response.status_code == 200
        assert response.json()["title"] == "New"

    def test_another_users_task_is_a_404_whatever_the_etag(self, alice, bob, task) -> None:
        assert bob.get(f"/api/tasks/{task.pk}", HTTP_IF_NONE_MATCH="*").status_code == 404

    def test_the_list_is_a_304_while_nothing_changed(self, alice, task) -> None:
        etag = alice.get("/api/tasks")["ETag"]

        response = alice.get("/api/tasks", HTTP_IF_NONE_MATCH=etag)

        assert response.status_code == 304
        assert response.content == b""
        assert response["ETag"] == etag

    @pytest.mark.parametrize(
        "change",
        [
            lambda client, task: client.post("/api/tasks", {"title": "Added"}, format="json"),
            lambda client, task: client.patch(f"/api/tasks/{task.pk}", {"title": "Changed"}, format="json"),
            lambda client, task: client.delete(f"/api/tasks/{task.pk}"),
            lambda client, task: client.post(f"/api/tasks/{task.pk}/move", {"after": below(task)}, format="json"),
        ],
        ids=["added", "changed", "trashed", "moved"],
    )
    def test_the_list_etag_changes_with_the_list(self, alice, task, change) -> None:
        etag = alice.get("/api/tasks")["ETag"]

        change(alice, task)

        assert alice.get("/api/tasks", HTTP_IF_NONE_MATCH=etag).status_code == 200

    def test_the_list_etag_changes_when_a_task_is_restored(self, alice, task) -> None:
        alice.delete(f"/api/tasks/{task.pk}")
        etag = alice.get("/api/tasks")["ETag"]

        alice.post(f"/api/trash/{task.pk}/restore")

        assert alice.get("/api/tasks", HTTP_IF_NONE_MATCH=etag).status_code == 200

    def test_each_page_and_filter_has_its_own_etag(self, alice, task) -> None:
        assert alice.get("/api/tasks?limit=1")["ETag"] != alice.get("/api/tasks")["ETag"]

    def test_an_error_answer_carries_no_etag(self, alice) -> None:
        assert "ETag" not in alice.get("/api/tasks/999999")


class TestIfMatch:
    @pytest.mark.parametrize("write", WRITES)
    def test_an_old_etag_is_a_412_that_writes_nothing_and_names_the_current_etag(self, alice, task, write) -> None:
        old = etag_of(alice, task)
        alice.patch(f"/api/tasks/{task.pk}", {"description": "changed"}, format="json")
        current, before = etag_of(alice, task), snapshot(task)

        response = WRITES[write](alice, task, HTTP_IF_MATCH=old)

        assert response.status_code == 412
        assert response.json() == {"detail": PRECONDITION_FAILED}
        assert response["ETag"] == current
        assert snapshot(task) == before

    @pytest.mark.parametrize("write", WRITES)
    @pytest.mark.parametrize("form", ["same", "star", "in-a-list"])
    def test_the_current_etag_or_a_star_lets_the_write_through(self, alice, task, write, form) -> None:
        etag = etag_of(alice, task)
        header = {"same": etag, "star": "*", "in-a-list": f'"other", {etag}'}[form]

        response = WRITES[write](alice, task, HTTP_IF_MATCH=header)

        assert response.status_code in (200, 204)

    @pytest.mark.parametrize("write", WRITES)
    def test_a_weak_etag_never_matches(self, alice, task, write) -> None:
        before = snapshot(task)

        response = WRITES[write](alice, task, HTTP_IF_MATCH=f"W/{etag_of(alice, task)}")

        assert response.status_code == 412
        assert snapshot(task) == before

    @pytest.mark.parametrize("write", WRITES)
    @pytest.mark.parametrize("whose", ["another users", "missing", "trashed"])
    def test_a_task_that_is_not_the_callers_live_task_is_a_404_whatever_the_precondition(
        self, alice, bob, make_task, write, whose
    ) -> None:
        task = make_task("bob") if whose == "another users" else make_task()
        if whose == "missing":
            Task.objects.filter(pk=task.pk).delete()
        if whose == "trashed":
            alice.delete(f"/api/tasks/{task.pk}")

        for header in ("*", '"stale"'):
            assert WRITES[write](alice, task, HTTP_IF_MATCH=header).status_code == 404

    def test_a_412_comes_before_the_body_is_judged(self, alice, task) -> None:
        response = alice.patch(f"/api/tasks/{task.pk}", {"title": ""}, format="json", HTTP_IF_MATCH='"stale"')

        assert response.status_code == 412

    def test_a_task_only_seen_in_a_list_can_be_written_with_its_etag_field(self, alice, task) -> None:
        listed = next(item for item in alice.get("/api/tasks").json()["items"] if item["id"] == task.pk)

        response = alice.patch(f"/api/tasks/{task.pk}", {"title": "x"}, format="json", HTTP_IF_MATCH=listed["etag"])

        assert response.status_code == 200


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("postgresql_only")
class TestIfMatchIsAtomic:
    @pytest.mark.parametrize("write", ["patch", "complete", "move", "delete"])
    def test_of_concurrent_writes_with_the_same_etag_exactly_one_succeeds(self, make_token, make_task, write):
        make_task(title="Below")
        task = make_task(title="Contested")
        alice = APIClient()
        alice.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token('alice')}")
        etag = etag_of(alice, task)
        bodies = [{"title": f"writer {n}"} for n in range(8)]

        def request(body: dict[str, str]) -> Request:
            if write == "patch":  # each writer a different title, so each would change the task
                return lambda client: client.patch(f"/api/tasks/{task.pk}", body, format="json", HTTP_IF_MATCH=etag)
            return lambda client: WRITES[write](client, task, HTTP_IF_MATCH=etag)

        requests = [request(body) for body in bodies]

        statuses = sorted(response.status_code for response in send_concurrently(make_token("alice"), requests))

        # The losers of a delete find no live task: a 404, whatever the precondition.
        loser = 404 if write == "delete" else 412
        assert statuses == sorted([204 if write == "delete" else 200, *[loser] * 7]), statuses
